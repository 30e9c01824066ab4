//! Forwarding local attestations to a counterparty chain: one per packet, or a batch of one
//! circuit in one packet, with an optional relayer fee escrowed until the packet's ack or
//! timeout comes back (see `fees`). The urgent lane (its own channel per chain) takes only
//! small packets paying the governance-set urgent fee.

use std::collections::{BTreeMap, BTreeSet};

use cosmwasm_std::{DepsMut, Env, Event, IbcMsg, IbcTimeout, MessageInfo, Response};
use cw_utils::Expiration;
use healthmesh_proto::attest::v2 as pb;
use healthmesh_types::attestation::{
    Attestation, ChannelInfo, ConfigResponse, Delivery, DeliveryStatus, Lane, Origin,
    DEFAULT_TIMEOUT_SECONDS, MAX_TIMEOUT_SECONDS, URGENT_MAX_BATCH,
};
use healthmesh_types::events;

use crate::fees;
use crate::ibc::open_trusted_channel;
use crate::packet::{attestation_packet, encode_with_fee};
use crate::state::{attestations, lane_channels, CONFIG, DELIVERIES, PAUSE, SENT_UNDER_CONSENT};
use crate::submit::{
    assert_batch_size, assert_consent_not_paused, assert_exportable, load_consent,
};
use crate::validity::{valid_at, Validity};
use crate::ContractError;

/// What to send: `batch` asks for one `AttestationBatchPacket` (even of one attestation).
pub struct Outgoing {
    pub ids: Vec<u64>,
    pub channel_id: String,
    pub timeout_seconds: Option<u64>,
    pub batch: bool,
}

/// Forward local, currently valid attestations; each may be sent again to a channel after a
/// failure or timeout there.
pub fn send(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    out: Outgoing,
) -> Result<Response, ContractError> {
    PAUSE.assert_not_paused(deps.storage, &env.block)?;
    let timeout = out.timeout_seconds.unwrap_or(DEFAULT_TIMEOUT_SECONDS);
    if timeout == 0 || timeout > MAX_TIMEOUT_SECONDS {
        return Err(ContractError::InvalidTimeout {
            max: MAX_TIMEOUT_SECONDS,
            got: timeout,
        });
    }
    assert_batch_size(out.ids.len())?;
    if out.ids.iter().collect::<BTreeSet<_>>().len() != out.ids.len() {
        return Err(ContractError::DuplicateInBatch);
    }
    let channel = open_trusted_channel(deps.storage, &out.channel_id)?;
    let config = CONFIG.load(deps.storage)?;
    assert_lane_rules(&config, &channel, &info, out.ids.len())?;
    // M-2: each consent is read again now: revoked, expired or height-bound ones stay home.
    let consent_contract = config.consent;
    assert_consent_not_paused(deps.as_ref(), &consent_contract)?;
    let mut consents: BTreeMap<String, Expiration> = BTreeMap::new();
    let mut packets = Vec::with_capacity(out.ids.len());
    let mut response = Response::new();
    for &id in &out.ids {
        let attestation = attestations()
            .may_load(deps.storage, id)?
            .ok_or(ContractError::AttestationNotFound(id))?;
        if !matches!(attestation.origin, Origin::Local { .. }) {
            return Err(ContractError::NotLocal);
        }
        let consent_id = &attestation.context.consent_id;
        if !consents.contains_key(consent_id) {
            let record = load_consent(deps.as_ref(), &consent_contract, consent_id)?;
            consents.insert(consent_id.clone(), record.expires);
        }
        assert_exportable(&consents[consent_id])?;
        let status = Validity::new(deps.as_ref(), &env.block).status(&attestation)?;
        if !valid_at(&attestation, &status, env.block.time) {
            return Err(ContractError::AttestationNotValid(id));
        }
        if let Some(first) = packets
            .first()
            .map(|p: &pb::AttestationPacket| &p.circuit_id)
        {
            if *first != attestation.circuit_id {
                return Err(ContractError::MixedCircuits {
                    first: first.clone(),
                    other: attestation.circuit_id,
                });
            }
        }
        let attempt = record_delivery(deps.storage, &env, &attestation, &channel)?;
        packets.push(attestation_packet(&attestation)?);
        response = response.add_event(
            Event::new(events::ATTESTATION_SENT)
                .add_attribute(events::attr::ATTESTATION_ID, id.to_string())
                .add_attribute(events::attr::CHANNEL_ID, &channel.channel_id)
                .add_attribute("counterparty_chain", &channel.counterparty_chain)
                .add_attribute("attempt", attempt.to_string()),
        );
    }
    let (fee_id, fee_event) = fees::escrow(deps.storage, &info, &channel.channel_id)?;
    let body = if out.batch {
        pb::packet::Body::AttestationBatch(pb::AttestationBatchPacket {
            attestations: packets,
        })
    } else {
        pb::packet::Body::Attestation(packets.remove(0))
    };
    let action = if out.batch {
        "send_attestations"
    } else {
        "send_attestation"
    };
    Ok(response
        .add_attribute("action", action)
        .add_events(fee_event)
        .add_message(IbcMsg::SendPacket {
            channel_id: channel.channel_id,
            data: encode_with_fee(body, fee_id),
            timeout: IbcTimeout::with_timestamp(env.block.time.plus_seconds(timeout)),
        }))
}

/// The urgent lane takes small packets that pay at least the governance-set urgent fee, so
/// bulk traffic gains nothing there and its relayer never meets a heavy packet.
fn assert_lane_rules(
    config: &ConfigResponse,
    channel: &ChannelInfo,
    info: &MessageInfo,
    count: usize,
) -> Result<(), ContractError> {
    if channel.lane != Lane::Urgent {
        return Ok(());
    }
    if count > URGENT_MAX_BATCH {
        return Err(ContractError::UrgentBatchSize {
            max: URGENT_MAX_BATCH,
            got: count,
        });
    }
    let required = config
        .urgent_fee
        .as_ref()
        .ok_or(ContractError::UrgentLaneClosed)?;
    match info.funds.as_slice() {
        [paid] if paid.denom == required.denom && paid.amount >= required.amount => Ok(()),
        paid => Err(ContractError::UrgentFeeTooLow {
            required: required.to_string(),
            got: paid
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(","),
        }),
    }
}

/// A new pending delivery of `a` to `channel` (refused while one is pending or delivered on
/// either lane to the same chain); returns the attempt number.
fn record_delivery(
    storage: &mut dyn cosmwasm_std::Storage,
    env: &Env,
    a: &Attestation,
    channel: &ChannelInfo,
) -> Result<u32, ContractError> {
    let key = (a.id, channel.channel_id.as_str());
    let previous = DELIVERIES.may_load(storage, key)?;
    let chain = channel.counterparty_chain.as_str();
    let mut lanes = vec![channel.channel_id.clone()];
    for lane in [Lane::Bulk, Lane::Urgent] {
        lanes.extend(lane_channels(lane).may_load(storage, chain)?);
    }
    for channel_id in lanes {
        let delivery = DELIVERIES.may_load(storage, (a.id, channel_id.as_str()))?;
        if let Some(d) = delivery.filter(|d| {
            matches!(
                d.status,
                DeliveryStatus::Pending | DeliveryStatus::Delivered { .. }
            )
        }) {
            return Err(ContractError::AlreadySent {
                id: a.id,
                channel: channel_id,
                state: format!("{:?}", d.status),
            });
        }
    }
    let delivery = Delivery {
        channel_id: channel.channel_id.clone(),
        status: DeliveryStatus::Pending,
        attempts: previous.map_or(1, |d| d.attempts + 1),
        updated_at: env.block.time,
    };
    DELIVERIES.save(storage, key, &delivery)?;
    // Revocation news goes to every chain that was sent something under the consent.
    SENT_UNDER_CONSENT.save(
        storage,
        (&a.context.consent_id, &channel.counterparty_chain),
        &(),
    )?;
    Ok(delivery.attempts)
}
