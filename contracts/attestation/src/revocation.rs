//! News that crosses chains: a revoked consent and a slashed attester. Each is tombstoned
//! here first — which already makes every attestation under it invalid, locally and for
//! whatever arrives later — and then announced once per counterparty chain over its one open,
//! trusted channel. A chain without such a channel is recorded as not told and retried by
//! running the message again; the local tombstone never depends on any channel, and neither
//! message can be paused.

use cosmwasm_std::{
    DepsMut, Env, Event, IbcMsg, IbcTimeout, Order, Response, StdResult, Storage, Timestamp,
};
use cw_storage_plus::Map;
use healthmesh_proto::attest::v2 as pb;
use healthmesh_types::attestation::Lane;
use healthmesh_types::attestation::{
    AttestationStatus, DeliveryStatus, NoticeDelivery, ReceiveAck, DEFAULT_TIMEOUT_SECONDS,
};
use healthmesh_types::consent::ConsentStatus;
use healthmesh_types::events;
use healthmesh_types::staking::{QueryMsg as StakingQuery, SlashesResponse};

use crate::ibc::open_trusted_channel;
use crate::packet::encode;
use crate::state::{
    lane_channels, ALLOWED_CONNECTIONS, CONFIG, REVOCATION_NOTICES, REVOKED_CONSENTS,
    SENT_UNDER_CONSENT, SLASHED_ATTESTERS, SLASH_NOTICES,
};
use crate::submit::load_consent;
use crate::validity::consent_status;
use crate::ContractError;

/// Anyone, once the consent is revoked: tombstone it and tell every chain that was sent an
/// attestation under it.
pub fn propagate(deps: DepsMut, env: Env, consent_id: String) -> Result<Response, ContractError> {
    let consent = CONFIG.load(deps.storage)?.consent;
    let record = load_consent(deps.as_ref(), &consent, &consent_id)?;
    if !matches!(record.status, ConsentStatus::Revoked { .. }) {
        return Err(ContractError::ConsentNotRevoked(consent_id));
    }
    let at = match consent_status(&record, &env.block) {
        AttestationStatus::Revoked { at, .. } => at,
        AttestationStatus::Valid => env.block.time,
    };
    let chain_id = env.block.chain_id.clone();
    let key = (chain_id.as_str(), consent_id.as_str());
    if !REVOKED_CONSENTS.has(deps.storage, key) {
        REVOKED_CONSENTS.save(deps.storage, key, &at)?;
    }
    // The chains an attestation under this consent was sent to. Sends only go to trusted
    // chains, whose number governance bounds (`MAX_COUNTERPARTIES` at a time).
    let chains: Vec<String> = SENT_UNDER_CONSENT
        .prefix(&consent_id)
        .keys(deps.storage, None, None, Order::Ascending)
        .collect::<StdResult<_>>()?;
    let body = pb::packet::Body::Revocation(pb::RevocationPacket {
        source_chain: chain_id.clone(),
        consent_id: consent_id.clone(),
        reason: "consent revoked".into(),
    });
    let notice = Notice {
        map: REVOCATION_NOTICES,
        subject: &consent_id,
        event: "revocation_sent",
        body,
    };
    let response = notice.send(deps.storage, &env, chains)?;
    Ok(response
        .add_attribute("action", "propagate_revocation")
        .add_event(
            Event::new(events::CONSENT_TOMBSTONED)
                .add_attribute("source_chain", chain_id)
                .add_attribute("consent_id", consent_id),
        ))
}

/// Anyone, once the staking contract records a slash of `attester`: tombstone it and tell
/// every counterparty chain.
pub fn invalidate_attester(
    deps: DepsMut,
    env: Env,
    attester: String,
) -> Result<Response, ContractError> {
    let attester = deps.api.addr_validate(&attester)?.to_string();
    let staking = CONFIG.load(deps.storage)?.staking;
    let slashes: SlashesResponse = deps.querier.query_wasm_smart(
        staking,
        &StakingQuery::Slashes {
            attester: attester.clone(),
            start_after: None,
            limit: Some(1),
        },
    )?;
    let Some(first) = slashes.slashes.first() else {
        return Err(ContractError::NotSlashed(attester));
    };
    let chain_id = env.block.chain_id.clone();
    let key = (chain_id.as_str(), attester.as_str());
    if !SLASHED_ATTESTERS.has(deps.storage, key) {
        SLASHED_ATTESTERS.save(deps.storage, key, &first.time)?;
    }
    // Every trusted chain (at most MAX_COUNTERPARTIES), linked now or not: one whose channel
    // is closed is recorded as not told, to be retried.
    let mut chains: Vec<String> = ALLOWED_CONNECTIONS
        .range(deps.storage, None, None, Order::Ascending)
        .map(|item| item.map(|(_, a)| a.chain_id))
        .collect::<StdResult<_>>()?;
    chains.sort();
    chains.dedup();
    let body = pb::packet::Body::AttesterSlashed(pb::AttesterSlashedPacket {
        source_chain: chain_id.clone(),
        attester: attester.clone(),
    });
    let notice = Notice {
        map: SLASH_NOTICES,
        subject: &attester,
        event: "slash_notice_sent",
        body,
    };
    let response = notice.send(deps.storage, &env, chains)?;
    Ok(response
        .add_attribute("action", "invalidate_attester")
        .add_event(
            Event::new(events::ATTESTER_TOMBSTONED)
                .add_attribute("source_chain", chain_id)
                .add_attribute("attester", attester),
        ))
}

/// One piece of news and where its per-chain delivery is recorded.
struct Notice<'a> {
    map: Map<(&'static str, &'static str), NoticeDelivery>,
    subject: &'a str,
    event: &'static str,
    body: pb::packet::Body,
}

impl Notice<'_> {
    /// Send to every chain not yet told (delivered, or in flight on its current channel); a
    /// chain without an open trusted channel is marked failed, to be retried, and never fails
    /// the message. Resending is harmless: receivers acknowledge a known tombstone with 0.
    fn send(
        self,
        storage: &mut dyn Storage,
        env: &Env,
        chains: Vec<String>,
    ) -> Result<Response, ContractError> {
        let mut response = Response::new();
        for chain in chains {
            let key = (self.subject, chain.as_str());
            let channel = notice_channel(storage, &chain)?;
            let current = channel.as_ref().map(|c| c.channel_id.clone());
            let told = self.map.may_load(storage, key)?;
            let done = told.is_some_and(|t| match t.status {
                DeliveryStatus::Delivered { .. } => true,
                // In flight on a channel that is no longer the chain's: send again.
                DeliveryStatus::Pending => t.channel_id == current,
                _ => false,
            });
            if done {
                continue;
            }
            let Some(channel) = channel else {
                let error = format!("no open trusted channel to {chain}; run again once there is");
                let notice = NoticeDelivery {
                    chain_id: chain.clone(),
                    channel_id: None,
                    status: DeliveryStatus::Failed { error },
                };
                self.map.save(storage, key, &notice)?;
                response = response.add_event(
                    Event::new(events::NOTICE_DEFERRED)
                        .add_attribute("subject", self.subject)
                        .add_attribute("chain_id", &chain),
                );
                continue;
            };
            let notice = NoticeDelivery {
                chain_id: chain.clone(),
                channel_id: current,
                status: DeliveryStatus::Pending,
            };
            self.map.save(storage, key, &notice)?;
            response = response
                .add_message(IbcMsg::SendPacket {
                    channel_id: channel.channel_id.clone(),
                    data: encode(self.body.clone()),
                    timeout: IbcTimeout::with_timestamp(
                        env.block.time.plus_seconds(DEFAULT_TIMEOUT_SECONDS),
                    ),
                })
                .add_event(
                    Event::new(self.event)
                        .add_attribute("subject", self.subject)
                        .add_attribute("chain_id", &chain)
                        .add_attribute("channel_id", channel.channel_id),
                );
        }
        Ok(response)
    }
}

/// A tombstone received from `source_chain`: 1 if new, 0 if already known.
pub fn receive_tombstone(
    storage: &mut dyn Storage,
    map: Map<(&str, &str), Timestamp>,
    source_chain: &str,
    subject: &str,
    at: Timestamp,
) -> StdResult<ReceiveAck> {
    let key = (source_chain, subject);
    if map.has(storage, key) {
        return Ok(ReceiveAck::new(0));
    }
    map.save(storage, key, &at)?;
    Ok(ReceiveAck::new(1))
}

/// The channel a notice to `chain` goes on: the bulk lane's, or the urgent lane's if the
/// chain has only that one (both lanes bind the same counterparty contract).
fn notice_channel(
    storage: &dyn Storage,
    chain: &str,
) -> Result<Option<healthmesh_types::attestation::ChannelInfo>, ContractError> {
    for lane in [Lane::Bulk, Lane::Urgent] {
        let open = lane_channels(lane)
            .may_load(storage, chain)?
            .and_then(|id| open_trusted_channel(storage, &id).ok());
        if open.is_some() {
            return Ok(open);
        }
    }
    Ok(None)
}
