//! The IBC app between attestation contracts (ports `wasm.<address>`, unordered channels,
//! version `healthmesh-attest-2`, and `healthmesh-attest-2-urgent` for the urgent lane).
//!
//! Trust: governance binds each allowed connection to one counterparty chain and one
//! counterparty contract port; the handshake accepts only that port, one open channel per
//! counterparty chain and lane, and every packet is re-checked against the binding in force (so
//! disallowing a connection stops its channel at once). Replay protection and tombstones are
//! keyed by the counterparty chain the channel is bound to, never by what a packet claims.
//!
//! A received packet is decoded, checked and its proof re-verified *before* any state is
//! written, so an error acknowledgement never leaves partial state, and no input makes the
//! handler fail: malformed packets get an error ack, never a stuck channel.

#[cfg(not(feature = "library"))]
use cosmwasm_std::entry_point;
use cosmwasm_std::{
    from_json, to_json_binary, Addr, Deps, DepsMut, Env, Event, Ibc3ChannelOpenResponse,
    IbcBasicResponse, IbcChannel, IbcChannelCloseMsg, IbcChannelConnectMsg, IbcChannelOpenMsg,
    IbcChannelOpenResponse, IbcOrder, IbcPacket, IbcPacketAckMsg, IbcPacketReceiveMsg,
    IbcPacketTimeoutMsg, IbcReceiveResponse, Never, StdAck, Storage,
};
use healthmesh_proofs::statement::Statement;
use healthmesh_proto::attest::v2 as pb;
use healthmesh_types::attestation::{
    AllowedConnection, Attestation, AttestationStatus, ChannelInfo, ChannelState, DeliveryStatus,
    Lane, NoticeDelivery, Origin, ReceiveAck, CHANNEL_VERSION, MAX_BATCH, URGENT_CHANNEL_VERSION,
    URGENT_MAX_BATCH,
};
use healthmesh_types::events;
use std::collections::BTreeSet;

use crate::event::attestation_event;
use crate::fees::{self, Payee};
use crate::packet::{decode, fee_id, received, Received};
use crate::revocation::receive_tombstone;
use crate::state::{
    attestations, lane_channels, next_attestation_ids, ALLOWED_CONNECTIONS, CHANNELS, DELIVERIES,
    HANDSHAKES, PAUSE, REMOTE_IDS, REVOCATION_NOTICES, REVOKED_CONSENTS, SLASHED_ATTESTERS,
    SLASH_NOTICES,
};
use crate::{policy, verify, ContractError};

/// The trusted connection of a channel being opened and its lane, or why it is not acceptable.
fn check_channel(
    deps: Deps,
    channel: &IbcChannel,
    counterparty_version: Option<&str>,
) -> Result<(AllowedConnection, Lane), ContractError> {
    if channel.order != IbcOrder::Unordered {
        return Err(ContractError::OrderedChannel);
    }
    let invalid = |got: &str| ContractError::InvalidVersion {
        expected: format!("{CHANNEL_VERSION} or {URGENT_CHANNEL_VERSION}"),
        got: got.into(),
    };
    let lane = Lane::from_version(&channel.version).ok_or_else(|| invalid(&channel.version))?;
    if let Some(version) = counterparty_version.filter(|v| *v != lane.version()) {
        return Err(invalid(version));
    }
    let allowed = ALLOWED_CONNECTIONS
        .may_load(deps.storage, &channel.connection_id)?
        .ok_or_else(|| ContractError::ConnectionNotAllowed(channel.connection_id.clone()))?;
    let port = &channel.counterparty_endpoint.port_id;
    if *port != allowed.counterparty_port {
        return Err(ContractError::UntrustedCounterparty {
            expected: allowed.counterparty_port,
            got: port.clone(),
        });
    }
    // Both lanes to a chain bind the same counterparty contract, so revocations and slash
    // notices (sent on either lane) reach every contract that holds attestations.
    let other_lane = match lane {
        Lane::Bulk => Lane::Urgent,
        Lane::Urgent => Lane::Bulk,
    };
    if let Some(other) = lane_channels(other_lane).may_load(deps.storage, &allowed.chain_id)? {
        if let Ok(other) = open_trusted_channel(deps.storage, &other) {
            if other.counterparty_port != *port {
                return Err(ContractError::UntrustedCounterparty {
                    expected: other.counterparty_port,
                    got: port.clone(),
                });
            }
        }
    }
    // One channel per counterparty chain and lane: its packets have one path.
    let this = &channel.endpoint.channel_id;
    // A channel left behind by a changed binding no longer counts.
    if let Some(existing) = lane_channels(lane).may_load(deps.storage, &allowed.chain_id)? {
        let usable = open_trusted_channel(deps.storage, &existing).is_ok();
        if usable && existing != *this {
            return Err(ContractError::ChainAlreadyLinked {
                chain: allowed.chain_id,
                channel: existing,
            });
        }
    }
    // And one handshake at a time, so crossed handshakes cannot leave each end linked to a
    // different, half-open channel.
    if let Some(pending) = HANDSHAKES.may_load(deps.storage, &allowed.chain_id)? {
        if pending != *this {
            return Err(ContractError::HandshakeInProgress {
                chain: allowed.chain_id,
                channel: pending,
            });
        }
    }
    Ok((allowed, lane))
}

/// Only the chain with the smaller chain id starts a channel: with a single initiator and
/// one handshake at a time, both ends always settle on the same channel.
fn assert_initiator(env: &Env, counterparty_chain: &str) -> Result<(), ContractError> {
    if env.block.chain_id.as_str() > counterparty_chain {
        return Err(ContractError::NotInitiator {
            chain: counterparty_chain.into(),
        });
    }
    Ok(())
}

/// An open channel whose connection is still trusted with the same counterparty chain and
/// port (L-1: disallowing a connection stops its channel).
pub fn open_trusted_channel(
    storage: &dyn Storage,
    channel_id: &str,
) -> Result<ChannelInfo, ContractError> {
    let channel = CHANNELS
        .may_load(storage, channel_id)?
        .filter(|c| c.state == ChannelState::Open)
        .ok_or_else(|| ContractError::ChannelNotOpen(channel_id.into()))?;
    let trusted = ALLOWED_CONNECTIONS
        .may_load(storage, &channel.connection_id)?
        .is_some_and(|a| {
            a.chain_id == channel.counterparty_chain
                && a.counterparty_port == channel.counterparty_port
        });
    if !trusted {
        return Err(ContractError::ConnectionNotAllowed(channel.connection_id));
    }
    Ok(channel)
}

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn ibc_channel_open(
    deps: DepsMut,
    env: Env,
    msg: IbcChannelOpenMsg,
) -> Result<IbcChannelOpenResponse, ContractError> {
    let (allowed, lane) = check_channel(deps.as_ref(), msg.channel(), msg.counterparty_version())?;
    if let IbcChannelOpenMsg::OpenInit { .. } = msg {
        assert_initiator(&env, &allowed.chain_id)?;
    }
    let channel_id = &msg.channel().endpoint.channel_id;
    HANDSHAKES.save(deps.storage, &allowed.chain_id, channel_id)?;
    Ok(Some(Ibc3ChannelOpenResponse {
        version: lane.version().into(),
    }))
}

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn ibc_channel_connect(
    deps: DepsMut,
    _env: Env,
    msg: IbcChannelConnectMsg,
) -> Result<IbcBasicResponse, ContractError> {
    let channel = msg.channel();
    let (allowed, lane) = check_channel(deps.as_ref(), channel, msg.counterparty_version())?;
    let info = ChannelInfo {
        channel_id: channel.endpoint.channel_id.clone(),
        connection_id: channel.connection_id.clone(),
        counterparty_port: channel.counterparty_endpoint.port_id.clone(),
        counterparty_channel: channel.counterparty_endpoint.channel_id.clone(),
        counterparty_chain: allowed.chain_id,
        state: ChannelState::Open,
        lane,
    };
    CHANNELS.save(deps.storage, &info.channel_id, &info)?;
    lane_channels(lane).save(deps.storage, &info.counterparty_chain, &info.channel_id)?;
    HANDSHAKES.remove(deps.storage, &info.counterparty_chain);
    Ok(IbcBasicResponse::new().add_event(
        Event::new("attestation_channel_open")
            .add_attribute("channel_id", &info.channel_id)
            .add_attribute("counterparty_chain", &info.counterparty_chain)
            .add_attribute("counterparty_port", &info.counterparty_port)
            .add_attribute("lane", lane.version()),
    ))
}

/// H-2: ibc-go lets any signer send `MsgChannelCloseInit`, so this end never starts a close
/// (a closed channel would cut revocations off). A close the counterparty started
/// (`CloseConfirm`) cannot be refused: the channel is marked closed and its chain may open a
/// new one; packets in flight come back through `ibc_packet_timeout`.
#[cfg_attr(not(feature = "library"), entry_point)]
pub fn ibc_channel_close(
    deps: DepsMut,
    env: Env,
    msg: IbcChannelCloseMsg,
) -> Result<IbcBasicResponse, ContractError> {
    if let IbcChannelCloseMsg::CloseInit { channel } = &msg {
        return Err(ContractError::CloseRefused(
            channel.endpoint.channel_id.clone(),
        ));
    }
    let channel_id = &msg.channel().endpoint.channel_id;
    if let Some(mut info) = CHANNELS.may_load(deps.storage, channel_id)? {
        info.state = ChannelState::Closed { at: env.block.time };
        CHANNELS.save(deps.storage, channel_id, &info)?;
        let lane = lane_channels(info.lane);
        let current = lane.may_load(deps.storage, &info.counterparty_chain)?;
        if current.as_deref() == Some(channel_id.as_str()) {
            lane.remove(deps.storage, &info.counterparty_chain);
        }
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
        Ok((mut ack, events)) => {
            ack.relayer = Some(msg.relayer.to_string());
            match to_json_binary(&ack).map(StdAck::success) {
                Ok(ack) => IbcReceiveResponse::new(ack).add_events(events),
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
) -> Result<(ReceiveAck, Vec<Event>), ContractError> {
    let packet = &msg.packet;
    let channel = open_trusted_channel(deps.storage, &packet.dest.channel_id)?;
    if packet.src.port_id != channel.counterparty_port {
        return Err(ContractError::UntrustedCounterparty {
            expected: channel.counterparty_port,
            got: packet.src.port_id.clone(),
        });
    }
    let chain = channel.counterparty_chain.as_str();
    let source_chain = |got: &str| -> Result<(), ContractError> {
        if got != chain {
            return Err(ContractError::WrongSourceChain {
                channel: channel.channel_id.clone(),
                expected: chain.into(),
                got: got.into(),
            });
        }
        Ok(())
    };
    let at = env.block.time;
    match decode(&packet.data)? {
        pb::packet::Body::Attestation(p) => {
            // A pause stops new facts; it never stops the news that withdraws them.
            PAUSE.assert_not_paused(deps.storage, &env.block)?;
            receive_attestations(deps, env, msg, &channel, vec![p])
        }
        pb::packet::Body::AttestationBatch(batch) => {
            PAUSE.assert_not_paused(deps.storage, &env.block)?;
            // The urgent lane's cap holds on arrival too, whatever the sender enforced.
            let max = match channel.lane {
                Lane::Bulk => MAX_BATCH,
                Lane::Urgent => URGENT_MAX_BATCH,
            };
            if batch.attestations.is_empty() || batch.attestations.len() > max {
                return Err(ContractError::BatchSize {
                    max,
                    got: batch.attestations.len(),
                });
            }
            receive_attestations(deps, env, msg, &channel, batch.attestations)
        }
        pb::packet::Body::Revocation(p) => {
            source_chain(&p.source_chain)?;
            let ack = receive_tombstone(deps.storage, REVOKED_CONSENTS, chain, &p.consent_id, at)?;
            let event = Event::new(events::CONSENT_TOMBSTONED)
                .add_attribute("source_chain", chain)
                .add_attribute("consent_id", &p.consent_id)
                .add_attribute("new", (ack.value == 1).to_string());
            Ok((ack, vec![event]))
        }
        pb::packet::Body::AttesterSlashed(p) => {
            source_chain(&p.source_chain)?;
            let ack = receive_tombstone(deps.storage, SLASHED_ATTESTERS, chain, &p.attester, at)?;
            let event = Event::new(events::ATTESTER_TOMBSTONED)
                .add_attribute("source_chain", chain)
                .add_attribute("attester", &p.attester)
                .add_attribute("new", (ack.value == 1).to_string());
            Ok((ack, vec![event]))
        }
    }
}

/// A received attestation that passed every check but its proof.
struct Arrived {
    packet: pb::AttestationPacket,
    fields: Received,
    statement: Statement,
}

/// Attestations of one packet (one, or a batch of one circuit): every check and the batched
/// re-verification run before anything is written, and they are recorded all or none.
fn receive_attestations(
    deps: DepsMut,
    env: &Env,
    msg: &IbcPacketReceiveMsg,
    channel: &ChannelInfo,
    packets: Vec<pb::AttestationPacket>,
) -> Result<(ReceiveAck, Vec<Event>), ContractError> {
    let chain = channel.counterparty_chain.as_str();
    let circuit_id = packets
        .first()
        .map(|p| p.circuit_id.clone())
        .unwrap_or_default();
    let mut source_ids = BTreeSet::new();
    let mut arrived = Vec::with_capacity(packets.len());
    for p in packets {
        if p.circuit_id != circuit_id {
            return Err(ContractError::MixedCircuits {
                first: circuit_id,
                other: p.circuit_id,
            });
        }
        if !source_ids.insert(p.attestation_id) {
            return Err(ContractError::DuplicateInBatch);
        }
        arrived.push(check_arrival(deps.as_ref(), env, channel, p)?);
    }
    // The light client and the port binding vouch for the sender; the proofs for the facts.
    let proofs: Vec<(&[u8], &Statement)> = arrived
        .iter()
        .map(|a| (a.packet.proof.as_slice(), &a.statement))
        .collect();
    verify::verify_batch(deps.as_ref(), &circuit_id, &proofs)?;
    let claims: Vec<policy::Claim> = arrived
        .iter()
        .map(|a| {
            (
                a.fields.commitment.as_slice(),
                a.packet.attribute.as_str(),
                &a.statement.predicate,
            )
        })
        .collect();
    policy::admit_all(deps.storage, &claims)?;

    let first = next_attestation_ids(deps.storage, arrived.len() as u64)?;
    let mut ids = Vec::with_capacity(arrived.len());
    let mut events = Vec::with_capacity(arrived.len());
    for (a, id) in arrived.into_iter().zip(first..) {
        let (p, fields) = (a.packet, a.fields);
        let attestation = Attestation {
            id,
            origin: Origin::Remote {
                source_chain: chain.into(),
                source_id: p.attestation_id,
                channel_id: channel.channel_id.clone(),
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
            recorded_at: env.block.time,
            height: env.block.height,
            expires_at: fields.expires_at,
            status: AttestationStatus::Valid,
            consent_purpose: p.consent_purpose,
            patient_tag: fields.patient_tag,
        };
        REMOTE_IDS.save(deps.storage, (chain, p.attestation_id), &id)?;
        attestations().save(deps.storage, id, &attestation)?;
        events.push(
            attestation_event(events::ATTESTATION_RECEIVED, &attestation)
                .add_attribute("channel_id", &channel.channel_id)
                .add_attribute("sequence", msg.packet.sequence.to_string())
                .add_attribute("relayer", &msg.relayer),
        );
        ids.push(id);
    }
    let ack = ReceiveAck {
        value: first,
        ids,
        relayer: None,
    };
    Ok((ack, events))
}

/// Every rule of a received attestation but its proof; reads only.
fn check_arrival(
    deps: Deps,
    env: &Env,
    channel: &ChannelInfo,
    p: pb::AttestationPacket,
) -> Result<Arrived, ContractError> {
    let chain = channel.counterparty_chain.as_str();
    if p.source_chain != chain {
        return Err(ContractError::WrongSourceChain {
            channel: channel.channel_id.clone(),
            expected: chain.into(),
            got: p.source_chain,
        });
    }
    if REMOTE_IDS.has(deps.storage, (chain, p.attestation_id)) {
        return Err(ContractError::DuplicatePacket {
            source_chain: chain.into(),
            source_id: p.attestation_id,
        });
    }
    let fields = received(&p)?;
    if fields.context.chain_id != chain {
        return Err(ContractError::MalformedPacket(
            "the proof's context is not the source chain".into(),
        ));
    }
    if let Some(expires) = fields.expires_at.filter(|t| *t <= env.block.time) {
        return Err(ContractError::PacketExpired(expires));
    }
    // M-1: a revocation may overtake its attestation on the unordered channel.
    if REVOKED_CONSENTS.has(deps.storage, (chain, &fields.context.consent_id)) {
        return Err(ContractError::ConsentRevoked {
            source_chain: chain.into(),
            consent_id: fields.context.consent_id,
        });
    }
    if SLASHED_ATTESTERS.has(deps.storage, (chain, &p.attester)) {
        return Err(ContractError::AttesterSlashed(p.attester));
    }
    let statement = verify::statement(
        &p.attribute,
        &fields.predicate,
        &fields.commitment,
        &fields.context,
    )?;
    Ok(Arrived {
        packet: p,
        fields,
        statement,
    })
}

/// How a packet this contract sent came back.
enum Returned {
    /// A success ack, and the relayer that brought it back.
    Acked(ReceiveAck, Addr),
    Failed(String),
    TimedOut,
}

/// Record the outcome of a packet this contract sent, and release its relayer fee.
fn settle(
    deps: DepsMut,
    env: &Env,
    packet: &IbcPacket,
    returned: Returned,
) -> Result<IbcBasicResponse, ContractError> {
    let channel = packet.src.channel_id.as_str();
    let (outcome, payee) = match &returned {
        Returned::Acked(ack, ack_relayer) => (
            DeliveryStatus::Delivered {
                remote_id: ack.value,
            },
            Payee::Relayer {
                named: ack.relayer.clone(),
                ack_relayer: ack_relayer.clone(),
            },
        ),
        Returned::Failed(error) => (
            DeliveryStatus::Failed {
                error: error.clone(),
            },
            Payee::Refund {
                reason: "error acknowledgement",
            },
        ),
        Returned::TimedOut => (
            DeliveryStatus::TimedOut,
            Payee::Refund { reason: "timeout" },
        ),
    };
    // The chain a notice went to (read only for notices, not for every attestation ack).
    let chain_of = |storage: &dyn Storage| -> Result<String, ContractError> {
        Ok(CHANNELS
            .may_load(storage, channel)?
            .map(|c| c.counterparty_chain)
            .unwrap_or_default())
    };
    let mut event = Event::new("attestation_delivery")
        .add_attribute("channel_id", channel)
        .add_attribute("sequence", packet.sequence.to_string())
        .add_attribute("status", format!("{outcome:?}"));
    let deliver = |storage: &mut dyn Storage, id: u64, status: DeliveryStatus| {
        if let Some(mut delivery) = DELIVERIES.may_load(storage, (id, channel))? {
            delivery.status = status;
            delivery.updated_at = env.block.time;
            DELIVERIES.save(storage, (id, channel), &delivery)?;
        }
        Ok::<_, ContractError>(())
    };
    match decode(&packet.data) {
        Ok(pb::packet::Body::Attestation(p)) => {
            deliver(deps.storage, p.attestation_id, outcome)?;
            event = event.add_attribute("attestation_id", p.attestation_id.to_string());
        }
        Ok(pb::packet::Body::AttestationBatch(batch)) => {
            let remote_ids = match &returned {
                Returned::Acked(ack, _) => ack.ids.clone(),
                _ => Vec::new(),
            };
            for (i, p) in batch.attestations.iter().enumerate() {
                let status = match (&outcome, remote_ids.get(i)) {
                    (DeliveryStatus::Delivered { .. }, Some(remote_id)) => {
                        DeliveryStatus::Delivered {
                            remote_id: *remote_id,
                        }
                    }
                    _ => outcome.clone(),
                };
                deliver(deps.storage, p.attestation_id, status)?;
            }
            let ids: Vec<String> = batch
                .attestations
                .iter()
                .map(|p| p.attestation_id.to_string())
                .collect();
            event = event.add_attribute("attestation_ids", ids.join(","));
        }
        Ok(pb::packet::Body::Revocation(p)) => {
            let chain = chain_of(deps.storage)?;
            let notice = notice(&chain, channel, outcome);
            REVOCATION_NOTICES.save(deps.storage, (&p.consent_id, &chain), &notice)?;
            event = event.add_attribute("revocation_of_consent", p.consent_id);
        }
        Ok(pb::packet::Body::AttesterSlashed(p)) => {
            let chain = chain_of(deps.storage)?;
            let notice = notice(&chain, channel, outcome);
            SLASH_NOTICES.save(deps.storage, (&p.attester, &chain), &notice)?;
            event = event.add_attribute("slash_of_attester", p.attester);
        }
        // Only our own packets come back here; report rather than fail the relayer's tx.
        Err(e) => event = event.add_attribute("error", e.to_string()),
    }
    let mut response = IbcBasicResponse::new().add_event(event);
    if let Some((payment, fee_event)) =
        fees::release(deps.storage, deps.api, fee_id(&packet.data), payee)?
    {
        response = response.add_message(payment).add_event(fee_event);
    }
    Ok(response)
}

fn notice(chain: &str, channel: &str, status: DeliveryStatus) -> NoticeDelivery {
    NoticeDelivery {
        chain_id: chain.into(),
        channel_id: Some(channel.into()),
        status,
    }
}

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn ibc_packet_ack(
    deps: DepsMut,
    env: Env,
    msg: IbcPacketAckMsg,
) -> Result<IbcBasicResponse, ContractError> {
    let returned = match from_json::<StdAck>(&msg.acknowledgement.data) {
        Ok(StdAck::Success(data)) => match from_json::<ReceiveAck>(&data) {
            Ok(ack) => Returned::Acked(ack, msg.relayer.clone()),
            Err(_) => Returned::Failed("undecodable success acknowledgement".into()),
        },
        Ok(StdAck::Error(error)) => Returned::Failed(error),
        Err(_) => Returned::Failed("undecodable acknowledgement".into()),
    };
    settle(deps, &env, &msg.original_packet, returned)
}

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn ibc_packet_timeout(
    deps: DepsMut,
    env: Env,
    msg: IbcPacketTimeoutMsg,
) -> Result<IbcBasicResponse, ContractError> {
    settle(deps, &env, &msg.packet, Returned::TimedOut)
}
