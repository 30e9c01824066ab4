//! The IBC app between attestation contracts (ports `wasm.<address>`, unordered channels,
//! version `healthmesh-attest-1`, trusted connections only).
//!
//! A received packet is decoded, checked and its proof re-verified *before* any state is
//! written, so an error acknowledgement never leaves partial state, and no input makes the
//! handler fail: malformed packets get an error ack, never a stuck channel.

#[cfg(not(feature = "library"))]
use cosmwasm_std::entry_point;
use cosmwasm_std::{
    from_json, to_json_binary, Deps, DepsMut, Env, Event, Ibc3ChannelOpenResponse,
    IbcBasicResponse, IbcChannel, IbcChannelCloseMsg, IbcChannelConnectMsg, IbcChannelOpenMsg,
    IbcChannelOpenResponse, IbcOrder, IbcPacket, IbcPacketAckMsg, IbcPacketReceiveMsg,
    IbcPacketTimeoutMsg, IbcReceiveResponse, Never, StdAck,
};
use healthmesh_proto::attest::v1 as pb;
use healthmesh_types::attestation::{
    Attestation, AttestationStatus, ChannelInfo, ChannelState, DeliveryStatus, Origin, ReceiveAck,
    CHANNEL_VERSION,
};

use crate::packet::{decode, received};
use crate::state::{
    attestations, next_attestation_id, ALLOWED_CONNECTIONS, CHANNELS, DELIVERIES, PAUSE,
    REMOTE_IDS, REVOCATIONS,
};
use crate::submit::attestation_event;
use crate::{revocation, verify, ContractError};

/// The counterparty chain of a trusted channel, or why it is not acceptable.
fn check_channel(
    deps: Deps,
    channel: &IbcChannel,
    counterparty_version: Option<&str>,
) -> Result<String, ContractError> {
    if channel.order != IbcOrder::Unordered {
        return Err(ContractError::OrderedChannel);
    }
    for version in [Some(channel.version.as_str()), counterparty_version]
        .into_iter()
        .flatten()
    {
        if version != CHANNEL_VERSION {
            return Err(ContractError::InvalidVersion {
                expected: CHANNEL_VERSION.into(),
                got: version.into(),
            });
        }
    }
    if !channel.counterparty_endpoint.port_id.starts_with("wasm.") {
        return Err(ContractError::NotContractPort(
            channel.counterparty_endpoint.port_id.clone(),
        ));
    }
    ALLOWED_CONNECTIONS
        .may_load(deps.storage, &channel.connection_id)?
        .ok_or_else(|| ContractError::ConnectionNotAllowed(channel.connection_id.clone()))
}

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn ibc_channel_open(
    deps: DepsMut,
    _env: Env,
    msg: IbcChannelOpenMsg,
) -> Result<IbcChannelOpenResponse, ContractError> {
    check_channel(deps.as_ref(), msg.channel(), msg.counterparty_version())?;
    Ok(Some(Ibc3ChannelOpenResponse {
        version: CHANNEL_VERSION.into(),
    }))
}

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn ibc_channel_connect(
    deps: DepsMut,
    _env: Env,
    msg: IbcChannelConnectMsg,
) -> Result<IbcBasicResponse, ContractError> {
    let channel = msg.channel();
    let counterparty_chain = check_channel(deps.as_ref(), channel, msg.counterparty_version())?;
    let info = ChannelInfo {
        channel_id: channel.endpoint.channel_id.clone(),
        connection_id: channel.connection_id.clone(),
        counterparty_port: channel.counterparty_endpoint.port_id.clone(),
        counterparty_channel: channel.counterparty_endpoint.channel_id.clone(),
        counterparty_chain,
        state: ChannelState::Open,
    };
    CHANNELS.save(deps.storage, &info.channel_id, &info)?;
    Ok(IbcBasicResponse::new().add_event(
        Event::new("attestation_channel_open")
            .add_attribute("channel_id", &info.channel_id)
            .add_attribute("counterparty_chain", &info.counterparty_chain),
    ))
}

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn ibc_channel_close(
    deps: DepsMut,
    env: Env,
    msg: IbcChannelCloseMsg,
) -> Result<IbcBasicResponse, ContractError> {
    let channel_id = &msg.channel().endpoint.channel_id;
    // Packets in flight on a closing channel come back through `ibc_packet_timeout`.
    if let Some(mut info) = CHANNELS.may_load(deps.storage, channel_id)? {
        info.state = ChannelState::Closed { at: env.block.time };
        CHANNELS.save(deps.storage, channel_id, &info)?;
    }
    Ok(IbcBasicResponse::new().add_event(
        Event::new("attestation_channel_closed").add_attribute("channel_id", channel_id),
    ))
}

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn ibc_packet_receive(
    deps: DepsMut,
    env: Env,
    msg: IbcPacketReceiveMsg,
) -> Result<IbcReceiveResponse, Never> {
    let response = match receive(deps, &env, &msg) {
        Ok((value, event)) => {
            let ack = to_json_binary(&ReceiveAck { value }).map(StdAck::success);
            match ack {
                Ok(ack) => IbcReceiveResponse::new(ack).add_event(event),
                Err(e) => IbcReceiveResponse::new(StdAck::error(e.to_string())),
            }
        }
        Err(error) => IbcReceiveResponse::new(StdAck::error(error.to_string())).add_event(
            Event::new("attestation_packet_rejected")
                .add_attribute("channel_id", &msg.packet.dest.channel_id)
                .add_attribute("sequence", msg.packet.sequence.to_string())
                .add_attribute("error", error.to_string()),
        ),
    };
    Ok(response)
}

fn receive(
    deps: DepsMut,
    env: &Env,
    msg: &IbcPacketReceiveMsg,
) -> Result<(u64, Event), ContractError> {
    PAUSE.assert_not_paused(deps.storage, &env.block)?;
    let packet = &msg.packet;
    let channel = CHANNELS
        .may_load(deps.storage, &packet.dest.channel_id)?
        .filter(|c| c.state == ChannelState::Open)
        .ok_or_else(|| ContractError::ChannelNotOpen(packet.dest.channel_id.clone()))?;
    let source_chain = |got: &str| -> Result<(), ContractError> {
        if got != channel.counterparty_chain {
            return Err(ContractError::WrongSourceChain {
                channel: channel.channel_id.clone(),
                expected: channel.counterparty_chain.clone(),
                got: got.into(),
            });
        }
        Ok(())
    };
    match decode(&packet.data)? {
        pb::packet::Body::Attestation(p) => {
            source_chain(&p.source_chain)?;
            receive_attestation(deps, env, msg, &channel.channel_id, p)
        }
        pb::packet::Body::Revocation(p) => {
            source_chain(&p.source_chain)?;
            revocation::receive(deps.storage, &p.source_chain, &p, env.block.time)
        }
    }
}

fn receive_attestation(
    deps: DepsMut,
    env: &Env,
    msg: &IbcPacketReceiveMsg,
    channel_id: &str,
    p: pb::AttestationPacket,
) -> Result<(u64, Event), ContractError> {
    if REMOTE_IDS.has(deps.storage, (&p.source_chain, p.attestation_id)) {
        return Err(ContractError::DuplicatePacket {
            source_chain: p.source_chain,
            source_id: p.attestation_id,
        });
    }
    let fields = received(&p)?;
    if fields.context.chain_id != p.source_chain {
        return Err(ContractError::MalformedPacket(
            "the proof's context is not the source chain".into(),
        ));
    }
    if let Some(expires) = fields.expires_at.filter(|t| *t <= env.block.time) {
        return Err(ContractError::PacketExpired(expires));
    }
    // The light client vouches for the sender; the proof must vouch for the fact.
    let statement = verify::statement(
        &p.attribute,
        &fields.predicate,
        &fields.commitment,
        &fields.context,
    )?;
    verify::verify(deps.as_ref(), &p.circuit_id, &p.proof, &statement)?;

    let id = next_attestation_id(deps.storage)?;
    let attestation = Attestation {
        id,
        origin: Origin::Remote {
            source_chain: p.source_chain.clone(),
            source_id: p.attestation_id,
            channel_id: channel_id.into(),
            sequence: msg.packet.sequence,
            relayer: msg.relayer.clone(),
        },
        circuit_id: p.circuit_id,
        attribute: p.attribute,
        predicate: fields.predicate,
        commitment: fields.commitment,
        proof: p.proof.into(),
        context: fields.context,
        attester: p.attester,
        patient: p.patient,
        dataset: fields.dataset,
        recorded_at: env.block.time,
        height: env.block.height,
        expires_at: fields.expires_at,
        status: AttestationStatus::Valid,
    };
    REMOTE_IDS.save(deps.storage, (&p.source_chain, p.attestation_id), &id)?;
    attestations().save(deps.storage, id, &attestation)?;
    let event = attestation_event("attestation_received", &attestation)
        .add_attribute("channel_id", channel_id)
        .add_attribute("sequence", msg.packet.sequence.to_string())
        .add_attribute("relayer", &msg.relayer);
    Ok((id, event))
}

/// Record the outcome of a packet this contract sent.
fn settle(
    deps: DepsMut,
    env: &Env,
    packet: &IbcPacket,
    outcome: DeliveryStatus,
) -> Result<IbcBasicResponse, ContractError> {
    let channel = packet.src.channel_id.as_str();
    let mut event = Event::new("attestation_delivery")
        .add_attribute("channel_id", channel)
        .add_attribute("sequence", packet.sequence.to_string())
        .add_attribute("status", format!("{outcome:?}"));
    match decode(&packet.data) {
        Ok(pb::packet::Body::Attestation(p)) => {
            if let Some(mut delivery) =
                DELIVERIES.may_load(deps.storage, (p.attestation_id, channel))?
            {
                delivery.status = outcome;
                delivery.updated_at = env.block.time;
                DELIVERIES.save(deps.storage, (p.attestation_id, channel), &delivery)?;
            }
            event = event.add_attribute("attestation_id", p.attestation_id.to_string());
        }
        Ok(pb::packet::Body::Revocation(p)) => {
            REVOCATIONS.save(deps.storage, (&p.consent_id, channel), &outcome)?;
            event = event.add_attribute("revocation_of_consent", p.consent_id);
        }
        // Only our own packets come back here; report rather than fail the relayer's tx.
        Err(e) => event = event.add_attribute("error", e.to_string()),
    }
    Ok(IbcBasicResponse::new().add_event(event))
}

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn ibc_packet_ack(
    deps: DepsMut,
    env: Env,
    msg: IbcPacketAckMsg,
) -> Result<IbcBasicResponse, ContractError> {
    let outcome = match from_json::<StdAck>(&msg.acknowledgement.data) {
        Ok(StdAck::Success(data)) => match from_json::<ReceiveAck>(&data) {
            Ok(ack) => DeliveryStatus::Delivered {
                remote_id: ack.value,
            },
            Err(_) => DeliveryStatus::Failed {
                error: "undecodable success acknowledgement".into(),
            },
        },
        Ok(StdAck::Error(error)) => DeliveryStatus::Failed { error },
        Err(_) => DeliveryStatus::Failed {
            error: "undecodable acknowledgement".into(),
        },
    };
    settle(deps, &env, &msg.original_packet, outcome)
}

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn ibc_packet_timeout(
    deps: DepsMut,
    env: Env,
    msg: IbcPacketTimeoutMsg,
) -> Result<IbcBasicResponse, ContractError> {
    settle(deps, &env, &msg.packet, DeliveryStatus::TimedOut)
}
