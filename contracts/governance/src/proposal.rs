//! The proposal life cycle: open → passed / rejected / vetoed → executed /
//! execution-failed / closed.

use cosmwasm_std::{
    to_json_binary, Addr, BankMsg, BlockInfo, CosmosMsg, Deps, DepsMut, Env, Event, MessageInfo,
    Response, Storage, SubMsg, Uint128, WasmMsg,
};
use healthmesh_controllers::validate;
use healthmesh_types::events;
use healthmesh_types::governance::{
    ExecuteMsg, Proposal, RefundPolicy, Status, Tally, Vote, VoteInfo, MAX_DESCRIPTION_LEN,
    MAX_PROPOSAL_MSGS, MAX_TITLE_LEN,
};

use crate::inspect::{check_msgs, slash_targets};
use crate::slashing::CHECK_REPLY_ID;
use crate::state::{Config, CONFIG, PROPOSALS, PROPOSAL_COUNT, VOTES};
use crate::voting::{cast, passes, power_at, power_under, total_power_at, vetoed_by_votes};
use crate::ContractError;

pub fn load(storage: &dyn Storage, id: u64) -> Result<Proposal, ContractError> {
    PROPOSALS
        .may_load(storage, id)?
        .ok_or(ContractError::ProposalNotFound(id))
}

/// Decide an open proposal once voting ended (expiry) or every vote is in. The outcome is
/// only stored by the next transaction touching the proposal, so it depends on nothing that
/// may have changed in between: the timelock is the proposal's own.
pub fn refresh(proposal: &mut Proposal, config: &Config, block: &BlockInfo) {
    if !matches!(proposal.status, Status::Open | Status::Tallying) {
        return;
    }
    if proposal.network.is_some() {
        // Never decided early: the other chains vote until the end.
        let (veto, timelock) = (config.veto_threshold, config.timelock);
        return crate::network::refresh_network(proposal, veto, timelock, block);
    }
    let expired = block.time >= proposal.expires;
    let everyone_voted = cast(&proposal.tally) >= proposal.total_power;
    if !expired && !everyone_voted {
        return;
    }
    let decided_at = if expired {
        proposal.expires
    } else {
        block.time
    };
    let (threshold, tally, total) = (&proposal.threshold, &proposal.tally, proposal.total_power);
    proposal.status = if vetoed_by_votes(threshold, tally, total, config.veto_threshold) {
        Status::Vetoed
    } else if passes(threshold, tally, total) {
        let timelock = proposal.timelock.unwrap_or(config.timelock);
        proposal.passed_at = Some(decided_at);
        proposal.executable_at = Some(decided_at.plus_seconds(timelock));
        Status::Passed
    } else {
        Status::Rejected
    };
}

/// Load and bring the status up to date.
pub fn load_current(
    storage: &dyn Storage,
    config: &Config,
    block: &BlockInfo,
    id: u64,
) -> Result<Proposal, ContractError> {
    let mut proposal = load(storage, id)?;
    refresh(&mut proposal, config, block);
    Ok(proposal)
}

fn check_deposit(
    config: &Config,
    info: &MessageInfo,
) -> Result<Option<cosmwasm_std::Coin>, ContractError> {
    match &config.deposit {
        None => {
            cw_utils::nonpayable(info)?;
            Ok(None)
        }
        Some(deposit) => {
            let paid = cw_utils::must_pay(info, &deposit.amount.denom)
                .map_err(|_| ContractError::WrongDeposit(deposit.amount.clone()))?;
            if paid != deposit.amount.amount {
                return Err(ContractError::WrongDeposit(deposit.amount.clone()));
            }
            Ok(Some(deposit.amount.clone()))
        }
    }
}

pub fn propose(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    title: String,
    description: String,
    msgs: Vec<CosmosMsg>,
) -> Result<Response, ContractError> {
    let config = CONFIG.load(deps.storage)?;
    validate::bounded_text("title", &title, MAX_TITLE_LEN)?;
    if title.trim().is_empty() {
        return Err(ContractError::InvalidConfig(
            "title must not be empty".into(),
        ));
    }
    validate::bounded_text("description", &description, MAX_DESCRIPTION_LEN)?;
    if msgs.len() > MAX_PROPOSAL_MSGS {
        return Err(ContractError::TooManyMessages(MAX_PROPOSAL_MSGS));
    }
    check_msgs(deps.api, &env.contract.address, &msgs)?;
    let deposit = check_deposit(&config, &info)?;
    let height = env.block.height;
    if power_at(deps.as_ref(), &config, &info.sender, height)?.is_zero() {
        return Err(ContractError::NoVotingPower(
            info.sender.into_string(),
            height,
        ));
    }
    let total_power = voting_total(deps.as_ref(), &config, &msgs, height)?;
    let id = PROPOSAL_COUNT.may_load(deps.storage)?.unwrap_or_default() + 1;
    PROPOSAL_COUNT.save(deps.storage, &id)?;
    let proposal = Proposal {
        id,
        title,
        description,
        proposer: info.sender.clone(),
        msgs,
        start_height: height,
        start_time: env.block.time,
        expires: env.block.time.plus_seconds(config.voting_period),
        total_power,
        threshold: config.threshold.clone(),
        tally: Tally::default(),
        status: Status::Open,
        passed_at: None,
        executable_at: None,
        timelock: Some(config.timelock),
        voting_rule: config.voting_rule,
        deposit,
        deposit_refunded: false,
        network: None,
        remote: vec![],
    };
    PROPOSALS.save(deps.storage, id, &proposal)?;
    Ok(Response::new()
        .add_attribute("action", "propose")
        .add_event(
            Event::new(events::PROPOSAL_CREATED)
                .add_attribute("proposal_id", id.to_string())
                .add_attribute("proposer", info.sender)
                .add_attribute("title", &proposal.title)
                .add_attribute("start_height", height.to_string())
                .add_attribute("expires", proposal.expires.seconds().to_string()),
        ))
}

/// The power that may vote on `msgs`: everyone's at `height` but the slash targets'. A
/// target cannot vote, and its power left in the total would weigh against the slash as if
/// it had voted no (or stayed away from the quorum).
fn voting_total(
    deps: Deps,
    config: &Config,
    msgs: &[CosmosMsg],
    height: u64,
) -> Result<Uint128, ContractError> {
    let mut total = total_power_at(deps, config, height)?;
    for target in slash_targets(deps.api, msgs) {
        total = total.saturating_sub(power_at(deps, config, &target, height)?);
    }
    Ok(total)
}

fn slot<'a>(tally: &'a mut Tally, vote: &Vote) -> &'a mut Uint128 {
    match vote {
        Vote::Yes => &mut tally.yes,
        Vote::No => &mut tally.no,
        Vote::Abstain => &mut tally.abstain,
        Vote::Veto => &mut tally.veto,
    }
}

pub fn vote(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    id: u64,
    vote: Vote,
) -> Result<Response, ContractError> {
    cw_utils::nonpayable(&info)?;
    let config = CONFIG.load(deps.storage)?;
    let mut proposal = load_current(deps.storage, &config, &env.block, id)?;
    if proposal.status != Status::Open {
        return Err(ContractError::VotingClosed {
            id,
            status: proposal.status,
        });
    }
    if slash_targets(deps.api, &proposal.msgs).contains(&info.sender) {
        return Err(ContractError::SlashTargetCannotVote {
            voter: info.sender.into_string(),
            id,
        });
    }
    // Counted by the rule the proposal's total was counted by.
    let rule = proposal.voting_rule;
    let power = power_under(
        deps.as_ref(),
        &config,
        rule,
        &info.sender,
        proposal.start_height,
    )?;
    if power.is_zero() {
        return Err(ContractError::NoVotingPower(
            info.sender.into_string(),
            proposal.start_height,
        ));
    }
    if let Some(previous) = VOTES.may_load(deps.storage, (id, &info.sender))? {
        if !config.allow_revote {
            return Err(ContractError::AlreadyVoted(id));
        }
        *slot(&mut proposal.tally, &previous.vote) -= previous.power;
    }
    *slot(&mut proposal.tally, &vote) += power;
    VOTES.save(
        deps.storage,
        (id, &info.sender),
        &VoteInfo {
            voter: info.sender.clone(),
            vote: vote.clone(),
            power,
        },
    )?;
    refresh(&mut proposal, &config, &env.block);
    PROPOSALS.save(deps.storage, id, &proposal)?;
    Ok(Response::new().add_attribute("action", "vote").add_event(
        Event::new("proposal_vote")
            .add_attribute("proposal_id", id.to_string())
            .add_attribute("voter", info.sender)
            .add_attribute("vote", format!("{vote:?}").to_lowercase())
            .add_attribute("power", power)
            .add_attribute("status", format!("{:?}", proposal.status).to_lowercase()),
    ))
}

/// The deposit back to the proposer when the policy allows, else it stays in the treasury.
fn settle_deposit(proposal: &mut Proposal, config: &Config, passed: bool) -> Option<BankMsg> {
    let deposit = proposal
        .deposit
        .clone()
        .filter(|_| !proposal.deposit_refunded)?;
    let refund = match config.deposit.as_ref().map(|d| &d.refund) {
        Some(RefundPolicy::Always) => proposal.status != Status::Vetoed,
        Some(RefundPolicy::OnlyPassed) => passed,
        Some(RefundPolicy::Never) | None => false,
    };
    if !refund {
        return None;
    }
    proposal.deposit_refunded = true;
    Some(BankMsg::Send {
        to_address: proposal.proposer.to_string(),
        amount: vec![deposit],
    })
}

pub fn execute(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    id: u64,
) -> Result<Response, ContractError> {
    cw_utils::nonpayable(&info)?;
    let config = CONFIG.load(deps.storage)?;
    let mut proposal = load_current(deps.storage, &config, &env.block, id)?;
    if proposal.status != Status::Passed {
        return Err(ContractError::NotPassed {
            id,
            status: proposal.status,
        });
    }
    let until = proposal.executable_at.unwrap_or(env.block.time);
    if env.block.time < until {
        return Err(ContractError::Timelocked { id, until });
    }
    proposal.status = Status::Executed;
    let refund = settle_deposit(&mut proposal, &config, true);
    PROPOSALS.save(deps.storage, id, &proposal)?;
    // All messages run in one sub-message: either all apply, or none and the proposal is
    // marked ExecutionFailed in `reply`.
    let run = WasmMsg::Execute {
        contract_addr: env.contract.address.to_string(),
        msg: to_json_binary(&ExecuteMsg::ExecuteProposalMsgs { proposal_id: id })?,
        funds: vec![],
    };
    Ok(Response::new()
        .add_attribute("action", "execute")
        .add_event(
            Event::new("proposal_executed")
                .add_attribute("proposal_id", id.to_string())
                .add_attribute("executor", info.sender),
        )
        .add_submessage(SubMsg::reply_on_error(run, id))
        .add_messages(refund))
}

/// The proposal's messages, dispatched by the DAO to itself. The last one replies, once all
/// have run, to check that the staking contract's slashing window still covers the voting
/// period plus timelock; if not, the error undoes every message.
pub fn execute_msgs(
    deps: DepsMut,
    env: Env,
    sender: &Addr,
    id: u64,
) -> Result<Response, ContractError> {
    if *sender != env.contract.address {
        return Err(ContractError::NotSelf);
    }
    let proposal = load(deps.storage, id)?;
    if proposal.status != Status::Executed {
        return Err(ContractError::NotPassed {
            id,
            status: proposal.status,
        });
    }
    // Read by `SendRemote` among the messages; cleared once they all ran.
    if !proposal.msgs.is_empty() {
        crate::state::EXECUTING.save(deps.storage, &id)?;
    }
    let mut msgs = proposal.msgs;
    let last = msgs.pop();
    let response = Response::new().add_messages(msgs);
    Ok(match last {
        Some(last) => response.add_submessage(SubMsg::reply_on_success(last, CHECK_REPLY_ID)),
        None => response,
    })
}

pub fn mark_failed(deps: DepsMut, id: u64, error: String) -> Result<Response, ContractError> {
    let mut proposal = load(deps.storage, id)?;
    proposal.status = Status::ExecutionFailed;
    PROPOSALS.save(deps.storage, id, &proposal)?;
    Ok(Response::new().add_event(
        Event::new(events::PROPOSAL_EXECUTION_FAILED)
            .add_attribute("proposal_id", id.to_string())
            .add_attribute("error", error),
    ))
}

pub fn close(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    id: u64,
) -> Result<Response, ContractError> {
    cw_utils::nonpayable(&info)?;
    let config = CONFIG.load(deps.storage)?;
    let mut proposal = load_current(deps.storage, &config, &env.block, id)?;
    if !matches!(proposal.status, Status::Rejected | Status::Vetoed) {
        return Err(ContractError::NotClosable {
            id,
            status: proposal.status,
        });
    }
    let refund = settle_deposit(&mut proposal, &config, false);
    let previous = format!("{:?}", proposal.status).to_lowercase();
    proposal.status = Status::Closed;
    PROPOSALS.save(deps.storage, id, &proposal)?;
    Ok(Response::new()
        .add_attribute("action", "close")
        .add_event(
            Event::new("proposal_closed")
                .add_attribute("proposal_id", id.to_string())
                .add_attribute("outcome", previous)
                .add_attribute("deposit_refunded", proposal.deposit_refunded.to_string()),
        )
        .add_messages(refund))
}
