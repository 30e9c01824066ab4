//! Revocation: when a consent is revoked on the source chain, its attestations stop being
//! valid there and on every chain that received them.

use std::collections::BTreeMap;

use cosmwasm_std::{
    DepsMut, Env, Event, IbcMsg, IbcTimeout, Order, Response, StdResult, Storage, Timestamp,
};
use healthmesh_proto::attest::v1 as pb;
use healthmesh_types::attestation::{
    AttestationStatus, DeliveryStatus, Origin, DEFAULT_TIMEOUT_SECONDS, MAX_REVOCATION_BATCH,
};
use healthmesh_types::consent::{ConsentResponse, EffectiveStatus, QueryMsg as ConsentQuery};

use crate::packet::encode;
use crate::state::{attestations, CONFIG, DELIVERIES, PAUSE, REVOCATIONS};
use crate::ContractError;

/// Mark valid attestations under (chain, consent) revoked; returns (all ids seen, newly revoked).
fn revoke_under(
    storage: &mut dyn Storage,
    chain_id: &str,
    consent_id: &str,
    local: bool,
    at: Timestamp,
    reason: &str,
) -> StdResult<(Vec<u64>, u64)> {
    let found: Vec<_> = attestations()
        .idx
        .consent
        .prefix((chain_id.to_string(), consent_id.to_string()))
        .range(storage, None, None, Order::Ascending)
        .filter(|item| {
            item.as_ref().map_or(true, |(_, a)| {
                matches!(a.origin, Origin::Local { .. }) == local
            })
        })
        .take(MAX_REVOCATION_BATCH)
        .collect::<StdResult<_>>()?;
    let mut revoked = 0;
    let mut ids = Vec::with_capacity(found.len());
    for (id, mut attestation) in found {
        ids.push(id);
        if attestation.status == AttestationStatus::Valid {
            attestation.status = AttestationStatus::Revoked {
                at,
                reason: reason.into(),
            };
            attestations().save(storage, id, &attestation)?;
            revoked += 1;
        }
    }
    Ok((ids, revoked))
}

pub fn propagate(deps: DepsMut, env: Env, consent_id: String) -> Result<Response, ContractError> {
    PAUSE.assert_not_paused(deps.storage, &env.block)?;
    let consent_contract = CONFIG.load(deps.storage)?.consent;
    let consent: ConsentResponse = deps.querier.query_wasm_smart(
        consent_contract,
        &ConsentQuery::Consent {
            token_id: consent_id.clone(),
        },
    )?;
    if consent.effective_status != EffectiveStatus::Revoked {
        return Err(ContractError::ConsentNotRevoked(consent_id));
    }
    let chain_id = env.block.chain_id.clone();
    let (ids, revoked) = revoke_under(
        deps.storage,
        &chain_id,
        &consent_id,
        true,
        env.block.time,
        "consent revoked",
    )?;

    // Every channel that received (or may be receiving) one of them, not yet told.
    let mut channels: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for id in &ids {
        for item in DELIVERIES
            .prefix(*id)
            .range(deps.storage, None, None, Order::Ascending)
        {
            let (channel, delivery) = item?;
            if matches!(
                delivery.status,
                DeliveryStatus::Delivered { .. } | DeliveryStatus::Pending
            ) {
                channels.entry(channel).or_default().push(*id);
            }
        }
    }
    let mut response = Response::new().add_attribute("action", "propagate_revocation");
    for (channel, ids) in channels {
        let told = REVOCATIONS.may_load(deps.storage, (&consent_id, &channel))?;
        if matches!(
            told,
            Some(DeliveryStatus::Delivered { .. }) | Some(DeliveryStatus::Pending)
        ) {
            continue;
        }
        let packet = pb::RevocationPacket {
            source_chain: chain_id.clone(),
            consent_id: consent_id.clone(),
            attestation_ids: ids,
            reason: "consent revoked".into(),
        };
        REVOCATIONS.save(
            deps.storage,
            (&consent_id, &channel),
            &DeliveryStatus::Pending,
        )?;
        response = response
            .add_message(IbcMsg::SendPacket {
                channel_id: channel.clone(),
                data: encode(pb::packet::Body::Revocation(packet)),
                timeout: IbcTimeout::with_timestamp(
                    env.block.time.plus_seconds(DEFAULT_TIMEOUT_SECONDS),
                ),
            })
            .add_event(
                Event::new("revocation_sent")
                    .add_attribute("consent_id", &consent_id)
                    .add_attribute("channel_id", channel),
            );
    }
    Ok(response.add_event(
        Event::new("attestations_revoked")
            .add_attribute("source_chain", chain_id)
            .add_attribute("consent_id", consent_id)
            .add_attribute("count", revoked.to_string()),
    ))
}

/// A revocation packet from `source_chain`: returns how many remote attestations it revoked.
pub fn receive(
    storage: &mut dyn Storage,
    source_chain: &str,
    packet: &pb::RevocationPacket,
    at: Timestamp,
) -> Result<(u64, Event), ContractError> {
    let (_, revoked) = revoke_under(
        storage,
        source_chain,
        &packet.consent_id,
        false,
        at,
        &packet.reason,
    )?;
    let event = Event::new("attestations_revoked")
        .add_attribute("source_chain", source_chain)
        .add_attribute("consent_id", &packet.consent_id)
        .add_attribute("count", revoked.to_string());
    Ok((revoked, event))
}
