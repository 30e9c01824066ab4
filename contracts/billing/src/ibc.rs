//! The billing contract's IBC ends. Milestone channels (`healthmesh-trials-1`) from trials
//! contracts carry budget terms and milestone payouts in (`crate::budgets`). The settlement
//! channel (`healthmesh-settle-1`): it sends
//! purchase packets and settles each on its acknowledgement — split on success, full refund
//! on an error or a timeout, held for governance if the answer cannot be read. Acks and
//! timeouts are never paused and need no channel to stay open: a refund depends only on the
//! packet's fate. An ack for a purchase that is not open on that channel is refused with no
//! state change.

#[cfg(not(feature = "library"))]
use cosmwasm_std::entry_point;
use cosmwasm_std::{
    from_json, Addr, Api, BankMsg, Binary, Coin, DepsMut, Env, Event, IbcBasicResponse, IbcChannel,
    IbcChannelCloseMsg, IbcChannelConnectMsg, IbcChannelOpenMsg, IbcChannelOpenResponse, IbcPacket,
    IbcPacketAckMsg, IbcPacketReceiveMsg, IbcPacketTimeoutMsg, IbcReceiveResponse, Never, StdAck,
    Storage,
};
use healthmesh_types::billing::{HistoryKind, Payout, PayoutRole, Purchase, PurchaseStatus};
use healthmesh_types::events::{self, attr};
use healthmesh_types::settle::{PurchaseAck, SettlePacketId, ACCOUNT_ADDRESS_LEN};
use healthmesh_types::trial_pay::TRIALS_CHANNEL_VERSION;

use crate::contract::coins_text;
use crate::state::{purchases, MARKET, MARKETS, OPEN_PURCHASES, TRIAL_LINKS};
use crate::{budgets, ledger, split, ContractError};

/// The app a channel belongs to, by its version: milestone channels are the trials
/// contracts'; anything else is checked (and refused if wrong) as a settlement channel.
fn is_trials_channel(channel: &IbcChannel) -> bool {
    channel.version == TRIALS_CHANNEL_VERSION
}

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn ibc_channel_open(
    deps: DepsMut,
    env: Env,
    msg: IbcChannelOpenMsg,
) -> Result<IbcChannelOpenResponse, ContractError> {
    let trials = is_trials_channel(msg.channel())
        || msg.counterparty_version() == Some(TRIALS_CHANNEL_VERSION);
    let bindings = if trials { &TRIAL_LINKS } else { &MARKETS };
    Ok(bindings.open(deps, &env, &msg)?)
}

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn ibc_channel_connect(
    deps: DepsMut,
    _env: Env,
    msg: IbcChannelConnectMsg,
) -> Result<IbcBasicResponse, ContractError> {
    if is_trials_channel(msg.channel()) {
        return Ok(TRIAL_LINKS.connect_response(deps, &msg, events::TRIALS_CHANNEL_OPEN)?);
    }
    Ok(MARKETS.connect_response(deps, &msg, events::SETTLE_CHANNEL_OPEN)?)
}

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn ibc_channel_close(
    deps: DepsMut,
    env: Env,
    msg: IbcChannelCloseMsg,
) -> Result<IbcBasicResponse, ContractError> {
    if is_trials_channel(msg.channel()) {
        return Ok(TRIAL_LINKS.close_response(deps, &env, &msg, events::TRIALS_CHANNEL_CLOSED)?);
    }
    Ok(MARKETS.close_response(deps, &env, &msg, events::SETTLE_CHANNEL_CLOSED)?)
}

/// Only trials contracts send packets here (consent contracts send nothing): anything not
/// from a trusted trials channel and port gets an error ack and changes nothing.
#[cfg_attr(not(feature = "library"), entry_point)]
pub fn ibc_packet_receive(
    deps: DepsMut,
    env: Env,
    msg: IbcPacketReceiveMsg,
) -> Result<IbcReceiveResponse, Never> {
    Ok(budgets::receive(deps, &env, &msg))
}

/// How the consent contract answered a purchase.
enum Answer {
    Sold(PurchaseAck),
    Refused(String),
    /// Unreadable, or about another purchase: whether a token was minted is unknown, so
    /// neither the patient is paid nor the buyer refunded until governance decides.
    Unreadable(String),
}

fn answer(purchase_id: u64, data: &Binary) -> Answer {
    match from_json::<StdAck>(data) {
        Ok(StdAck::Success(data)) => match from_json::<PurchaseAck>(&data) {
            Ok(ack) if ack.purchase_id == purchase_id => Answer::Sold(ack),
            Ok(ack) => Answer::Unreadable(format!(
                "the acknowledgement names purchase {}",
                ack.purchase_id
            )),
            Err(e) => Answer::Unreadable(format!("undecodable success acknowledgement: {e}")),
        },
        Ok(StdAck::Error(error)) => Answer::Refused(error),
        Err(e) => Answer::Unreadable(format!("undecodable acknowledgement: {e}")),
    }
}

/// Never fails for an open purchase of this contract: an escrow is never stuck behind an
/// acknowledgement that keeps failing.
#[cfg_attr(not(feature = "library"), entry_point)]
pub fn ibc_packet_ack(
    deps: DepsMut,
    env: Env,
    msg: IbcPacketAckMsg,
) -> Result<IbcBasicResponse, ContractError> {
    let purchase = open_purchase(deps.storage, &msg.original_packet)?;
    match answer(purchase.id, &msg.acknowledgement.data) {
        Answer::Sold(ack) => settle(deps, &env, purchase, ack, &msg.relayer),
        Answer::Refused(reason) => {
            let (send, event) = refund(deps.storage, &env, purchase, reason)?;
            Ok(IbcBasicResponse::new().add_message(send).add_event(event))
        }
        Answer::Unreadable(reason) => dispute(deps.storage, &env, purchase, reason),
    }
}

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn ibc_packet_timeout(
    deps: DepsMut,
    env: Env,
    msg: IbcPacketTimeoutMsg,
) -> Result<IbcBasicResponse, ContractError> {
    let purchase = open_purchase(deps.storage, &msg.packet)?;
    let (send, event) = refund(deps.storage, &env, purchase, "timeout".into())?;
    Ok(IbcBasicResponse::new().add_message(send).add_event(event))
}

/// The open purchase a returning packet carried, sent on the channel it came back on.
fn open_purchase(storage: &dyn Storage, packet: &IbcPacket) -> Result<Purchase, ContractError> {
    let SettlePacketId::Purchase(sent) = from_json::<SettlePacketId>(&packet.data)
        .map_err(|e| ContractError::ForeignPacket(e.to_string()))?;
    let purchase = purchases()
        .may_load(storage, sent.purchase_id)?
        .ok_or(ContractError::PurchaseNotFound(sent.purchase_id))?;
    if purchase.status != PurchaseStatus::Open || purchase.channel_id != packet.src.channel_id {
        return Err(ContractError::PurchaseNotOpen(purchase.id));
    }
    Ok(purchase)
}

/// Hold the escrow of a purchase whose answer cannot be read (see [`Answer::Unreadable`]).
fn dispute(
    storage: &mut dyn Storage,
    env: &Env,
    mut purchase: Purchase,
    reason: String,
) -> Result<IbcBasicResponse, ContractError> {
    let event = Event::new(events::PURCHASE_DISPUTED)
        .add_attribute(attr::PURCHASE_ID, purchase.id.to_string())
        .add_attribute("buyer", &purchase.buyer)
        .add_attribute("amount", purchase.paid.to_string())
        .add_attribute("reason", &reason);
    purchase.status = PurchaseStatus::Disputed {
        reason,
        at: env.block.time,
    };
    purchases().save(storage, purchase.id, &purchase)?;
    Ok(IbcBasicResponse::new().add_event(event))
}

/// Who is paid what for a settled purchase. Addresses come as canonical bytes from the offer's
/// chain (same key here); one that does not resolve falls back so no share is ever lost:
/// patient payout → patient's key → treasury; custodian → patient; relayer → the ack's relayer.
fn payees(
    api: &dyn Api,
    ack: &PurchaseAck,
    treasury: &Addr,
    ack_relayer: &Addr,
) -> (Addr, Option<Addr>, Addr) {
    let humanize = |bytes: &Binary| key_account(api, bytes);
    let patient = ack
        .patient_payout
        .as_ref()
        .and_then(|p| api.addr_validate(p).ok())
        .or_else(|| humanize(&ack.patient_account))
        .unwrap_or_else(|| treasury.clone());
    let custodian = ack.custodian.as_ref().and_then(humanize);
    let relayer = humanize(&ack.relayer).unwrap_or_else(|| ack_relayer.clone());
    (patient, custodian, relayer)
}

/// The account here of canonical bytes from another chain: only a key account's bytes name
/// the same owner (see `ACCOUNT_ADDRESS_LEN`).
pub(crate) fn key_account(api: &dyn Api, bytes: &Binary) -> Option<Addr> {
    (bytes.len() == ACCOUNT_ADDRESS_LEN)
        .then(|| api.addr_humanize(&bytes.to_vec().into()).ok())
        .flatten()
}

fn settle(
    deps: DepsMut,
    env: &Env,
    mut purchase: Purchase,
    ack: PurchaseAck,
    ack_relayer: &Addr,
) -> Result<IbcBasicResponse, ContractError> {
    let market = MARKET.load(deps.storage)?;
    let (patient, custodian, relayer) = payees(deps.api, &ack, &market.treasury, ack_relayer);
    let shares = split::divide(purchase.paid.amount, &purchase.split, custodian.is_some());
    let denom = &purchase.paid.denom;
    let mut payouts = Vec::with_capacity(shares.len());
    for (role, amount) in shares.into_iter().filter(|(_, a)| !a.is_zero()) {
        let address = match role {
            // `split::divide` yields only the four purchase roles.
            PayoutRole::Patient | PayoutRole::Participant | PayoutRole::Site => patient.clone(),
            PayoutRole::Custodian => custodian.clone().unwrap_or_else(|| patient.clone()),
            PayoutRole::Treasury => market.treasury.clone(),
            PayoutRole::Relayer => relayer.clone(),
        };
        payouts.push(Payout {
            role,
            address,
            amount: Coin::new(amount, denom),
        });
    }
    ledger::release_escrow(deps.storage, &purchase.paid)?;
    let mut events = vec![Event::new(events::PURCHASE_SETTLED)
        .add_attribute(attr::PURCHASE_ID, purchase.id.to_string())
        .add_attribute("buyer", &purchase.buyer)
        .add_attribute("chain_id", &purchase.chain_id)
        .add_attribute(attr::OFFER_ID, purchase.offer_id.to_string())
        .add_attribute(attr::TOKEN_ID, &ack.token_id)
        .add_attribute("grantee", &ack.grantee)
        .add_attribute("paid", purchase.paid.to_string())];
    for payout in &payouts {
        ledger::credit(deps.storage, &payout.address, &payout.amount)?;
        let kind = HistoryKind::Credit {
            purchase_id: purchase.id,
            role: payout.role,
        };
        let amount = vec![payout.amount.clone()];
        ledger::record(deps.storage, &payout.address, kind, amount, env.block.time)?;
        events.push(
            Event::new(events::PAYOUT)
                .add_attribute(attr::PURCHASE_ID, purchase.id.to_string())
                .add_attribute("role", format!("{:?}", payout.role).to_lowercase())
                .add_attribute("address", &payout.address)
                .add_attribute("amount", payout.amount.to_string()),
        );
    }
    purchase.status = PurchaseStatus::Settled {
        token_id: ack.token_id,
        grantee: ack.grantee,
        at: env.block.time,
        payouts,
    };
    close(deps.storage, &purchase)?;
    Ok(IbcBasicResponse::new().add_events(events))
}

/// Refund a purchase in full: the bank message and the event.
pub(crate) fn refund(
    storage: &mut dyn Storage,
    env: &Env,
    mut purchase: Purchase,
    reason: String,
) -> Result<(BankMsg, Event), ContractError> {
    ledger::release_escrow(storage, &purchase.paid)?;
    let refunded = vec![purchase.paid.clone()];
    let kind = HistoryKind::Refund {
        purchase_id: purchase.id,
        reason: reason.clone(),
    };
    ledger::record(
        storage,
        &purchase.buyer,
        kind,
        refunded.clone(),
        env.block.time,
    )?;
    let event = Event::new(events::REFUND)
        .add_attribute(attr::PURCHASE_ID, purchase.id.to_string())
        .add_attribute("buyer", &purchase.buyer)
        .add_attribute("amount", coins_text(&refunded))
        .add_attribute("reason", &reason);
    let send = BankMsg::Send {
        to_address: purchase.buyer.to_string(),
        amount: refunded,
    };
    purchase.status = PurchaseStatus::Refunded {
        reason,
        at: env.block.time,
    };
    close(storage, &purchase)?;
    Ok((send, event))
}

fn close(storage: &mut dyn Storage, purchase: &Purchase) -> Result<(), ContractError> {
    purchases().save(storage, purchase.id, purchase)?;
    OPEN_PURCHASES.update(storage, |n| -> Result<_, ContractError> {
        Ok(n.saturating_sub(1))
    })?;
    Ok(())
}
