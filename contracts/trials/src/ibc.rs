//! The trials contract's end of the milestone channel (`healthmesh-trials-1`) to the billing
//! contract: it sends budget terms and milestone payouts and records each answer. It accepts
//! no packets. Acks and timeouts are never paused; an ack for a packet that is not in flight
//! on that channel is refused with no state change.

#[cfg(not(feature = "library"))]
use cosmwasm_std::entry_point;
use cosmwasm_std::{
    from_json, DepsMut, Env, Event, IbcBasicResponse, IbcChannelCloseMsg, IbcChannelConnectMsg,
    IbcChannelOpenMsg, IbcChannelOpenResponse, IbcPacket, IbcPacketAckMsg, IbcPacketReceiveMsg,
    IbcPacketTimeoutMsg, IbcReceiveResponse, Never, StdAck,
};
use healthmesh_types::events::{self, attr};
use healthmesh_types::trial_pay::TrialPacketId;
use healthmesh_types::trials::{BudgetLinkStatus, ClaimStatus};

use healthmesh_controllers::channels::ack_data;

use crate::state::{BILLING, BUDGET_LINKS, CLAIMS};
use crate::ContractError;

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn ibc_channel_open(
    deps: DepsMut,
    env: Env,
    msg: IbcChannelOpenMsg,
) -> Result<IbcChannelOpenResponse, ContractError> {
    Ok(BILLING.open(deps, &env, &msg)?)
}

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn ibc_channel_connect(
    deps: DepsMut,
    _env: Env,
    msg: IbcChannelConnectMsg,
) -> Result<IbcBasicResponse, ContractError> {
    Ok(BILLING.connect_response(deps, &msg, events::TRIALS_CHANNEL_OPEN)?)
}

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn ibc_channel_close(
    deps: DepsMut,
    env: Env,
    msg: IbcChannelCloseMsg,
) -> Result<IbcBasicResponse, ContractError> {
    Ok(BILLING.close_response(deps, &env, &msg, events::TRIALS_CHANNEL_CLOSED)?)
}

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn ibc_packet_receive(
    _deps: DepsMut,
    _env: Env,
    _msg: IbcPacketReceiveMsg,
) -> Result<IbcReceiveResponse, Never> {
    Ok(IbcReceiveResponse::new(StdAck::error(
        ContractError::NoPacketsAccepted.to_string(),
    )))
}

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn ibc_packet_ack(
    deps: DepsMut,
    env: Env,
    msg: IbcPacketAckMsg,
) -> Result<IbcBasicResponse, ContractError> {
    // An unreadable ack leaves the claim open to a new claim: the billing chain pays a
    // milestone at most once whatever this side records.
    let result = ack_data(&msg.acknowledgement.data).map(|_| ());
    settle(deps, &env, &msg.original_packet, result)
}

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn ibc_packet_timeout(
    deps: DepsMut,
    env: Env,
    msg: IbcPacketTimeoutMsg,
) -> Result<IbcBasicResponse, ContractError> {
    settle(deps, &env, &msg.packet, Err("timeout".into()))
}

/// Record the fate of a packet this contract sent and still waits for on that channel.
fn settle(
    deps: DepsMut,
    env: &Env,
    packet: &IbcPacket,
    result: Result<(), String>,
) -> Result<IbcBasicResponse, ContractError> {
    let channel = &packet.src.channel_id;
    let id: TrialPacketId =
        from_json(&packet.data).map_err(|e| ContractError::ForeignPacket(e.to_string()))?;
    let at = env.block.time;
    match id {
        TrialPacketId::OpenBudget(b) => {
            let waiting = BUDGET_LINKS.may_load(deps.storage, b.trial_id)?;
            if !matches!(&waiting, Some(BudgetLinkStatus::Announced { channel_id }) if channel_id == channel)
            {
                return Err(ContractError::NotInFlight);
            }
            let status = match &result {
                Ok(()) => BudgetLinkStatus::Open { at },
                Err(reason) => BudgetLinkStatus::Refused {
                    reason: reason.clone(),
                    at,
                },
            };
            BUDGET_LINKS.save(deps.storage, b.trial_id, &status)?;
            let event = Event::new(events::BUDGET_ANSWERED)
                .add_attribute(attr::TRIAL_ID, b.trial_id.to_string())
                .add_attribute("open", result.is_ok().to_string())
                .add_attribute("reason", result.err().unwrap_or_default());
            Ok(IbcBasicResponse::new().add_event(event))
        }
        TrialPacketId::Milestone(m) => {
            let participant = deps.api.addr_humanize(&m.participant.to_vec().into())?;
            let key = (m.trial_id, m.milestone.as_str(), &participant);
            let mut claim = CLAIMS
                .may_load(deps.storage, key)?
                .ok_or(ContractError::NotInFlight)?;
            if !matches!(&claim.status, ClaimStatus::InFlight { channel_id } if channel_id == channel)
            {
                return Err(ContractError::NotInFlight);
            }
            let (kind, reason) = match result {
                Ok(()) => (events::MILESTONE_PAID, None),
                Err(reason) => (events::MILESTONE_UNPAID, Some(reason)),
            };
            claim.status = match &reason {
                None => ClaimStatus::Paid { at },
                Some(reason) => ClaimStatus::Unpaid {
                    reason: reason.clone(),
                    at,
                },
            };
            CLAIMS.save(deps.storage, key, &claim)?;
            let event = Event::new(kind)
                .add_attribute(attr::TRIAL_ID, m.trial_id.to_string())
                .add_attribute(attr::MILESTONE, m.milestone)
                .add_attribute(attr::PARTICIPANT, participant)
                .add_attribute("reason", reason.unwrap_or_default());
            Ok(IbcBasicResponse::new().add_event(event))
        }
    }
}
