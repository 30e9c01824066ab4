//! Trial milestone budgets: the trials contract of a trusted chain opens a trial's budget
//! (sponsor, end) over the `healthmesh-trials-1` channel; the sponsor funds it here with the
//! same key; each milestone packet pays the participant and the site from that budget only,
//! at most once per (trial, milestone, participant), or is refused whole with the reason
//! (an exhausted budget pays nothing); a week after the trial's end (`RECLAIM_GRACE_SECONDS`:
//! claims made before the end have arrived or timed out) the sponsor takes back what is left. A refused packet changes nothing: every check runs before the first write.

use cosmwasm_std::{
    from_json, to_json_binary, Addr, Api, BankMsg, Binary, Coin, DepsMut, Env, Event,
    IbcPacketReceiveMsg, IbcReceiveResponse, MessageInfo, Response, StdAck, StdResult, Storage,
    Uint128,
};
use healthmesh_controllers::validate;
use healthmesh_types::billing::{
    HistoryKind, MilestonePaid, PayoutRole, TrialBudget, TrialBudgetStatus,
};
use healthmesh_types::events::{self, attr};
use healthmesh_types::trial_pay::{
    BudgetId, BudgetTerms, MilestoneAck, MilestonePayout, TrialPacket, RECLAIM_GRACE_SECONDS,
};

use crate::contract::{coins_text, floor_of};
use crate::state::{BUDGETS, MARKET, MILESTONES_PAID, PAUSE, TRIAL_LINKS};
use crate::{ledger, ContractError};

/// Most denoms one budget holds.
pub const MAX_BUDGET_DENOMS: usize = 8;
const MAX_MILESTONE_NAME_LEN: usize = 64;

/// `coins + coin`, checked, sorted by denom.
fn plus(coins: &mut Vec<Coin>, coin: &Coin) -> StdResult<()> {
    if coin.amount.is_zero() {
        return Ok(());
    }
    match coins.iter_mut().find(|c| c.denom == coin.denom) {
        Some(c) => c.amount = c.amount.checked_add(coin.amount)?,
        None => {
            coins.push(coin.clone());
            coins.sort_by(|a, b| a.denom.cmp(&b.denom));
        }
    }
    Ok(())
}

/// `coins - coin`, or `None` when `coins` holds less.
fn minus(coins: &[Coin], coin: &Coin) -> Option<Vec<Coin>> {
    if coin.amount.is_zero() {
        return Some(coins.to_vec());
    }
    let held = coins
        .iter()
        .find(|c| c.denom == coin.denom)
        .map_or(Uint128::zero(), |c| c.amount);
    let left = held.checked_sub(coin.amount).ok()?;
    let mut out: Vec<Coin> = coins
        .iter()
        .filter(|c| c.denom != coin.denom)
        .cloned()
        .collect();
    if !left.is_zero() {
        out.push(Coin::new(left, &coin.denom));
        out.sort_by(|a, b| a.denom.cmp(&b.denom));
    }
    Some(out)
}

fn load(
    storage: &dyn Storage,
    chain_id: &str,
    trial_id: u64,
) -> Result<TrialBudget, ContractError> {
    BUDGETS
        .may_load(storage, (chain_id, trial_id))?
        .ok_or_else(|| ContractError::NoBudget {
            chain_id: chain_id.into(),
            trial_id,
        })
}

fn sponsor_only(budget: &TrialBudget, sender: &Addr) -> Result<(), ContractError> {
    if budget.sponsor != *sender {
        return Err(ContractError::NotSponsor {
            trial_id: budget.trial_id,
            sponsor: budget.sponsor.to_string(),
        });
    }
    Ok(())
}

pub fn fund(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    chain_id: String,
    trial_id: u64,
) -> Result<Response, ContractError> {
    PAUSE.assert_not_paused(deps.storage, &env.block)?;
    let coin = cw_utils::one_coin(&info)?;
    validate::bounded_text("chain_id", &chain_id, 64)?;
    // Budgets hold only the market's accepted denoms: a payee's withdrawal never carries a
    // denom governance did not accept, and the ledger stays bounded.
    floor_of(&MARKET.load(deps.storage)?, &coin.denom)?;
    let mut budget = load(deps.storage, &chain_id, trial_id)?;
    sponsor_only(&budget, &info.sender)?;
    if budget.status != TrialBudgetStatus::Open || env.block.time >= budget.ends_at {
        return Err(ContractError::TrialEnded(trial_id));
    }
    plus(&mut budget.funds, &coin)?;
    if budget.funds.len() > MAX_BUDGET_DENOMS {
        return Err(ContractError::TooManyDenoms(MAX_BUDGET_DENOMS));
    }
    plus(&mut budget.funded, &coin)?;
    BUDGETS.save(deps.storage, (&chain_id, trial_id), &budget)?;
    ledger::fund_budget(deps.storage, &coin)?;
    let kind = HistoryKind::TrialFunding {
        chain_id: chain_id.clone(),
        trial_id,
    };
    ledger::record(
        deps.storage,
        &info.sender,
        kind,
        vec![coin.clone()],
        env.block.time,
    )?;
    let event = Event::new(events::TRIAL_FUNDED)
        .add_attribute("chain_id", chain_id)
        .add_attribute(attr::TRIAL_ID, trial_id.to_string())
        .add_attribute("sponsor", &info.sender)
        .add_attribute("amount", coin.to_string())
        .add_attribute("budget", coins_text(&budget.funds));
    Ok(Response::new()
        .add_attribute("action", "fund_trial")
        .add_event(event))
}

/// Never paused: the sponsor's money is never held past the trial's end.
pub fn reclaim(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    chain_id: String,
    trial_id: u64,
) -> Result<Response, ContractError> {
    let mut budget = load(deps.storage, &chain_id, trial_id)?;
    sponsor_only(&budget, &info.sender)?;
    if budget.status != TrialBudgetStatus::Open {
        return Err(ContractError::BudgetClosed(trial_id));
    }
    let reclaimable = budget.ends_at.plus_seconds(RECLAIM_GRACE_SECONDS);
    if env.block.time < reclaimable {
        return Err(ContractError::TrialNotEnded {
            trial_id,
            reclaimable: reclaimable.seconds(),
        });
    }
    let left = std::mem::take(&mut budget.funds);
    budget.status = TrialBudgetStatus::Reclaimed { at: env.block.time };
    BUDGETS.save(deps.storage, (&chain_id, trial_id), &budget)?;
    for coin in &left {
        ledger::spend_budget(deps.storage, coin)?;
    }
    let kind = HistoryKind::TrialReclaim {
        chain_id: chain_id.clone(),
        trial_id,
    };
    ledger::record(
        deps.storage,
        &info.sender,
        kind,
        left.clone(),
        env.block.time,
    )?;
    let event = Event::new(events::TRIAL_RECLAIMED)
        .add_attribute("chain_id", chain_id)
        .add_attribute(attr::TRIAL_ID, trial_id.to_string())
        .add_attribute("sponsor", &info.sender)
        .add_attribute("amount", coins_text(&left));
    let mut response = Response::new()
        .add_attribute("action", "reclaim_trial_budget")
        .add_event(event);
    if !left.is_empty() {
        response = response.add_message(BankMsg::Send {
            to_address: info.sender.to_string(),
            amount: left,
        });
    }
    Ok(response)
}

/// A packet from a trials contract: the answer is an ack, never a failed transaction, so a
/// refusal reaches the claimant; a refusal writes nothing.
pub fn receive(deps: DepsMut, env: &Env, msg: &IbcPacketReceiveMsg) -> IbcReceiveResponse {
    match receive_checked(deps, env, msg) {
        Ok(response) => response,
        Err(error) => IbcReceiveResponse::new(StdAck::error(error.to_string())).add_event(
            Event::new(events::MILESTONE_REFUSED)
                .add_attribute(attr::CHANNEL_ID, &msg.packet.dest.channel_id)
                .add_attribute("sequence", msg.packet.sequence.to_string())
                .add_attribute("reason", error.to_string()),
        ),
    }
}

fn receive_checked(
    deps: DepsMut,
    env: &Env,
    msg: &IbcPacketReceiveMsg,
) -> Result<IbcReceiveResponse, ContractError> {
    let channel = TRIAL_LINKS.packet_source(deps.storage, &msg.packet)?;
    PAUSE.assert_not_paused(deps.storage, &env.block)?;
    let packet: TrialPacket =
        from_json(&msg.packet.data).map_err(|e| ContractError::ForeignPacket(e.to_string()))?;
    let chain = channel.counterparty_chain;
    match packet {
        TrialPacket::OpenBudget(terms) => open(deps, env, &chain, terms),
        TrialPacket::Milestone(payout) => pay(deps, env, &chain, payout),
    }
}

fn key_account(api: &dyn Api, bytes: &Binary, what: &str) -> Result<Addr, ContractError> {
    crate::ibc::key_account(api, bytes)
        .ok_or_else(|| ContractError::NotKeyAccount(format!("the {what}")))
}

fn open(
    deps: DepsMut,
    env: &Env,
    chain: &str,
    terms: BudgetTerms,
) -> Result<IbcReceiveResponse, ContractError> {
    let sponsor = key_account(deps.api, &terms.sponsor, "sponsor")?;
    let ack = StdAck::success(to_json_binary(&BudgetId {
        trial_id: terms.trial_id,
    })?);
    if let Some(existing) = BUDGETS.may_load(deps.storage, (chain, terms.trial_id))? {
        if existing.sponsor == sponsor && existing.ends_at == terms.ends_at {
            return Ok(IbcReceiveResponse::new(ack)); // announced again: nothing to do
        }
        return Err(ContractError::BudgetTermsDiffer(terms.trial_id));
    }
    let budget = TrialBudget {
        chain_id: chain.into(),
        trial_id: terms.trial_id,
        sponsor,
        ends_at: terms.ends_at,
        funds: vec![],
        funded: vec![],
        paid_out: vec![],
        payouts: 0,
        opened_at: env.block.time,
        status: TrialBudgetStatus::Open,
    };
    BUDGETS.save(deps.storage, (chain, terms.trial_id), &budget)?;
    Ok(IbcReceiveResponse::new(ack).add_event(
        Event::new(events::TRIAL_BUDGET_OPENED)
            .add_attribute("chain_id", chain)
            .add_attribute(attr::TRIAL_ID, terms.trial_id.to_string())
            .add_attribute("sponsor", &budget.sponsor)
            .add_attribute("ends_at", terms.ends_at.seconds().to_string()),
    ))
}

fn pay(
    deps: DepsMut,
    env: &Env,
    chain: &str,
    p: MilestonePayout,
) -> Result<IbcReceiveResponse, ContractError> {
    validate::bounded_text("milestone", &p.milestone, MAX_MILESTONE_NAME_LEN)?;
    let mut budget = load(deps.storage, chain, p.trial_id)?;
    if budget.status != TrialBudgetStatus::Open {
        return Err(ContractError::BudgetClosed(p.trial_id));
    }
    let participant = key_account(deps.api, &p.participant, "participant")?;
    let site = key_account(deps.api, &p.site, "site")?;
    let key = (
        (chain, p.trial_id),
        p.milestone.as_str(),
        p.participant.as_slice(),
    );
    if MILESTONES_PAID.has(deps.storage, key) {
        return Err(ContractError::MilestoneAlreadyPaid {
            trial_id: p.trial_id,
            milestone: p.milestone.clone(),
            participant: participant.to_string(),
        });
    }
    let payouts = [
        (PayoutRole::Participant, &participant, &p.participant_payout),
        (PayoutRole::Site, &site, &p.site_payout),
    ];
    let mut paid = vec![];
    let mut left = budget.funds.clone();
    for (_, _, coin) in &payouts {
        plus(&mut paid, coin)?;
        left = minus(&left, coin).ok_or_else(|| ContractError::BudgetExhausted {
            trial_id: p.trial_id,
            needed: coins_text(&[p.participant_payout.clone(), p.site_payout.clone()]),
            left: coins_text(&budget.funds),
        })?;
    }

    // Every check passed: write.
    budget.funds = left;
    for coin in &paid {
        plus(&mut budget.paid_out, coin)?;
        ledger::spend_budget(deps.storage, coin)?;
    }
    budget.payouts = budget.payouts.saturating_add(1);
    BUDGETS.save(deps.storage, (chain, p.trial_id), &budget)?;
    let record = MilestonePaid {
        participant: participant.clone(),
        site: site.clone(),
        paid: paid.clone(),
        attestation_id: p.attestation_id,
        at: env.block.time,
    };
    MILESTONES_PAID.save(deps.storage, key, &record)?;
    let mut events = vec![];
    for (role, address, coin) in payouts.into_iter().filter(|(_, _, c)| !c.amount.is_zero()) {
        ledger::credit(deps.storage, address, coin)?;
        let kind = HistoryKind::Milestone {
            chain_id: chain.into(),
            trial_id: p.trial_id,
            milestone: p.milestone.clone(),
            role,
        };
        ledger::record(
            deps.storage,
            address,
            kind,
            vec![coin.clone()],
            env.block.time,
        )?;
        events.push(
            Event::new(events::MILESTONE_PAYOUT)
                .add_attribute("chain_id", chain)
                .add_attribute(attr::TRIAL_ID, p.trial_id.to_string())
                .add_attribute(attr::MILESTONE, &p.milestone)
                .add_attribute("role", format!("{role:?}").to_lowercase())
                .add_attribute("address", address)
                .add_attribute("amount", coin.to_string())
                .add_attribute(attr::ATTESTATION_ID, p.attestation_id.to_string()),
        );
    }
    let ack = MilestoneAck {
        paid,
        budget_left: budget.funds,
    };
    Ok(IbcReceiveResponse::new(StdAck::success(to_json_binary(&ack)?)).add_events(events))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coin_arithmetic_is_exact_and_never_goes_below_zero() {
        let mut coins = vec![];
        plus(&mut coins, &Coin::new(5u128, "b")).unwrap();
        plus(&mut coins, &Coin::new(7u128, "a")).unwrap();
        plus(&mut coins, &Coin::new(0u128, "c")).unwrap();
        plus(&mut coins, &Coin::new(1u128, "b")).unwrap();
        assert_eq!(coins, vec![Coin::new(7u128, "a"), Coin::new(6u128, "b")]);
        assert_eq!(
            minus(&coins, &Coin::new(6u128, "b")),
            Some(vec![Coin::new(7u128, "a")])
        );
        assert_eq!(minus(&coins, &Coin::new(8u128, "a")), None);
        assert_eq!(minus(&coins, &Coin::new(1u128, "z")), None);
        assert_eq!(minus(&coins, &Coin::new(0u128, "z")), Some(coins.clone()));
        let mut max = vec![Coin::new(u128::MAX, "a")];
        assert!(plus(&mut max, &Coin::new(1u128, "a")).is_err());
    }
}
