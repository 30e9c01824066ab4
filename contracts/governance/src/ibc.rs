//! The governance contract's IBC app (`healthmesh-gov-1`): channels only to the governance
//! contracts governance trusts, every packet re-checked against that binding. A packet from
//! anything else, or one that cannot be read or applied, gets an error ack and changes no
//! state. Acks and timeouts are recorded on the proposal or pause they belong to.

#[cfg(not(feature = "library"))]
use cosmwasm_std::entry_point;
use cosmwasm_std::{
    from_json, Binary, DepsMut, Env, Event, IbcBasicResponse, IbcChannelCloseMsg,
    IbcChannelConnectMsg, IbcChannelOpenMsg, IbcChannelOpenResponse, IbcPacket, IbcPacketAckMsg,
    IbcPacketReceiveMsg, IbcPacketTimeoutMsg, IbcReceiveResponse, Never, StdAck,
};
use healthmesh_types::events;
use healthmesh_types::network::GovPacket;

use healthmesh_controllers::channels::ack_data;

use crate::network;
use crate::state::GOV_CHANNELS;
use crate::ContractError;

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn ibc_channel_open(
    deps: DepsMut,
    env: Env,
    msg: IbcChannelOpenMsg,
) -> Result<IbcChannelOpenResponse, ContractError> {
    Ok(GOV_CHANNELS.open(deps, &env, &msg)?)
}

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn ibc_channel_connect(
    deps: DepsMut,
    _env: Env,
    msg: IbcChannelConnectMsg,
) -> Result<IbcBasicResponse, ContractError> {
    Ok(GOV_CHANNELS.connect_response(deps, &msg, events::GOVERNANCE_CHANNEL_OPEN)?)
}

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn ibc_channel_close(
    deps: DepsMut,
    env: Env,
    msg: IbcChannelCloseMsg,
) -> Result<IbcBasicResponse, ContractError> {
    Ok(GOV_CHANNELS.close_response(deps, &env, &msg, events::GOVERNANCE_CHANNEL_CLOSED)?)
}

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn ibc_packet_receive(
    deps: DepsMut,
    env: Env,
    msg: IbcPacketReceiveMsg,
) -> Result<IbcReceiveResponse, Never> {
    // Every check runs before the first write, so an error changes nothing.
    Ok(match receive(deps, &env, &msg.packet) {
        Ok(response) => response,
        Err(error) => IbcReceiveResponse::new(StdAck::error(error.to_string())).add_event(
            Event::new(events::GOVERNANCE_PACKET_REFUSED)
                .add_attribute("channel_id", &msg.packet.dest.channel_id)
                .add_attribute("error", error.to_string()),
        ),
    })
}

fn receive(
    deps: DepsMut,
    env: &Env,
    packet: &IbcPacket,
) -> Result<IbcReceiveResponse, ContractError> {
    let channel = GOV_CHANNELS.packet_source(deps.storage, packet)?;
    let (origin, port) = (
        channel.counterparty_chain.as_str(),
        channel.counterparty_port.as_str(),
    );
    let packet: GovPacket = from_json(&packet.data).map_err(network::unreadable)?;
    let done = || StdAck::success(b"{}");
    Ok(match packet {
        GovPacket::Pause {
            action_id,
            seq,
            at,
            reason,
        } => {
            let (msgs, event) = network::receive_pause(
                deps,
                env,
                (origin, port),
                action_id,
                (seq, at),
                true,
                &reason,
            )?;
            IbcReceiveResponse::new(done())
                .add_messages(msgs)
                .add_event(event)
        }
        GovPacket::Unpause { action_id, seq, at } => {
            let (msgs, event) =
                network::receive_pause(deps, env, (origin, port), action_id, (seq, at), false, "")?;
            IbcReceiveResponse::new(done())
                .add_messages(msgs)
                .add_event(event)
        }
        GovPacket::Execute {
            proposal_id, msgs, ..
        } => {
            let (run, event) =
                network::receive_execute(deps.as_ref(), env, origin, proposal_id, msgs)?;
            IbcReceiveResponse::new(done())
                .add_submessage(run)
                .add_event(event)
        }
        GovPacket::OpenVote {
            proposal_id,
            title,
            description,
            voting_end,
        } => {
            let (ack, event) = network::receive_open_vote(
                deps,
                env,
                (origin, port),
                proposal_id,
                title,
                description,
                voting_end,
            )?;
            IbcReceiveResponse::new(StdAck::success(ack)).add_event(event)
        }
        GovPacket::Tally {
            proposal_id,
            mirror_id,
            tally,
            total_power,
        } => {
            let event = network::receive_tally(
                deps.storage,
                env,
                origin,
                proposal_id,
                mirror_id,
                tally,
                total_power,
            )?;
            IbcReceiveResponse::new(done()).add_event(event)
        }
    })
}

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn ibc_packet_ack(
    deps: DepsMut,
    env: Env,
    msg: IbcPacketAckMsg,
) -> Result<IbcBasicResponse, ContractError> {
    let result = ack_data(&msg.acknowledgement.data);
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

fn settle(
    deps: DepsMut,
    env: &Env,
    packet: &IbcPacket,
    result: Result<Binary, String>,
) -> Result<IbcBasicResponse, ContractError> {
    // The channel this contract sent on (even if governance has since stopped trusting it).
    let chain_id = GOV_CHANNELS
        .channels(deps.storage)?
        .into_iter()
        .find(|c| c.channel_id == packet.src.channel_id)
        .map(|c| c.counterparty_chain)
        .ok_or(ContractError::NotInFlight)?;
    let sent: GovPacket = from_json(&packet.data).map_err(network::unreadable)?;
    let event = network::settle(deps.storage, env, &chain_id, sent, result)?;
    Ok(IbcBasicResponse::new().add_event(event))
}
