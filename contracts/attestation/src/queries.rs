use cosmwasm_std::{to_json_binary, Binary, Deps, Env, Order, StdResult};
use cw_storage_plus::{Bound, IndexPrefix};
use healthmesh_controllers::pagination::clamp_limit;
use healthmesh_controllers::validate;
use healthmesh_types::attestation::{
    Attestation, AttestationsResponse, ChannelsResponse, DeliveriesResponse, IsAttestedResponse,
    NoticeDelivery, NoticeKind, QueryMsg, RelayerFeesResponse,
};

use crate::state::{
    attestations, claim_key, ADMIN, ALLOWED_CONNECTIONS, ANCHORS, ANCHOR_CONFLICTS, CHANNELS,
    CONFIG, DELIVERIES, PAUSE, POLICIES, RELAYER_FEES, REVOCATION_NOTICES, REVOKED_CONSENTS,
    SLASHED_ATTESTERS, SLASH_NOTICES, VERIFYING_KEYS,
};
use crate::validity::{valid_at, Validity};
use crate::{verify, ContractError};

/// An attestation as answered: its status is the effective one (consent, tombstones).
fn effective(validity: &mut Validity, mut a: Attestation) -> Result<Attestation, ContractError> {
    a.status = validity.status(&a)?;
    Ok(a)
}

fn page(
    deps: Deps,
    env: &Env,
    prefix: IndexPrefix<u64, Attestation, u64>,
    start_after: Option<u64>,
    limit: Option<u32>,
) -> Result<AttestationsResponse, ContractError> {
    let mut validity = Validity::new(deps, &env.block);
    let attestations = prefix
        .range(
            deps.storage,
            start_after.map(Bound::exclusive),
            None,
            Order::Ascending,
        )
        .take(clamp_limit(limit))
        .map(|item| effective(&mut validity, item?.1))
        .collect::<Result<_, _>>()?;
    Ok(AttestationsResponse { attestations })
}

/// The values of a key-ordered range, at most `limit` of them.
fn values<K, T>(
    range: impl Iterator<Item = StdResult<(K, T)>>,
    limit: Option<u32>,
) -> StdResult<Vec<T>> {
    range
        .take(clamp_limit(limit))
        .map(|item| item.map(|(_, v)| v))
        .collect()
}

/// The lower bound of a page of string keys.
fn string_bound(start_after: &Option<String>) -> Option<Bound<'_, &str>> {
    start_after.as_deref().map(Bound::exclusive)
}

pub fn dispatch(deps: Deps, env: Env, msg: QueryMsg) -> Result<Binary, ContractError> {
    let idx = attestations().idx;
    let binary = match msg {
        QueryMsg::Config {} => to_json_binary(&CONFIG.load(deps.storage)?)?,
        QueryMsg::Attestation { id } => {
            let a = attestations()
                .may_load(deps.storage, id)?
                .ok_or(ContractError::AttestationNotFound(id))?;
            to_json_binary(&effective(&mut Validity::new(deps, &env.block), a)?)?
        }
        QueryMsg::AttestationsByConsent {
            source_chain,
            consent_id,
            start_after,
            limit,
        } => to_json_binary(&page(
            deps,
            &env,
            idx.consent.prefix((source_chain, consent_id)),
            start_after,
            limit,
        )?)?,
        QueryMsg::AttestationsByGrantee {
            grantee,
            start_after,
            limit,
        } => to_json_binary(&page(
            deps,
            &env,
            idx.grantee.prefix(grantee),
            start_after,
            limit,
        )?)?,
        QueryMsg::AttestationsByCommitment {
            commitment,
            start_after,
            limit,
        } => {
            validate::commitment("commitment", &commitment)?;
            to_json_binary(&page(
                deps,
                &env,
                idx.commitment.prefix(commitment.to_vec()),
                start_after,
                limit,
            )?)?
        }
        QueryMsg::IsAttested {
            commitment,
            attribute,
            predicate,
            at,
            start_before,
        } => {
            validate::commitment("commitment", &commitment)?;
            verify::predicate(&predicate)?;
            let at = at.unwrap_or(env.block.time);
            to_json_binary(&is_attested(
                deps,
                &env,
                claim_key(&commitment, &attribute, &predicate),
                at,
                start_before,
            )?)?
        }
        QueryMsg::Anchor {
            commitment,
            custodian,
        } => to_json_binary(
            &ANCHORS.may_load(deps.storage, (commitment.as_slice(), custodian.as_str()))?,
        )?,
        QueryMsg::Anchors {
            commitment,
            start_after,
            limit,
        } => {
            let range = ANCHORS.prefix(commitment.as_slice()).range(
                deps.storage,
                string_bound(&start_after),
                None,
                Order::Ascending,
            );
            to_json_binary(&values(range, limit)?)?
        }
        QueryMsg::AnchorConflicts {
            commitment,
            start_after,
            limit,
        } => {
            let range = ANCHOR_CONFLICTS.prefix(commitment.as_slice()).range(
                deps.storage,
                start_after.map(Bound::exclusive),
                None,
                Order::Ascending,
            );
            to_json_binary(&values(range, limit)?)?
        }
        QueryMsg::Deliveries {
            attestation_id,
            start_after,
            limit,
        } => {
            let range = DELIVERIES.prefix(attestation_id).range(
                deps.storage,
                string_bound(&start_after),
                None,
                Order::Ascending,
            );
            let deliveries = values(range, limit)?;
            to_json_binary(&DeliveriesResponse { deliveries })?
        }
        QueryMsg::ConsentRevocation {
            source_chain,
            consent_id,
        } => {
            to_json_binary(&REVOKED_CONSENTS.may_load(deps.storage, (&source_chain, &consent_id))?)?
        }
        QueryMsg::AttesterInvalidation {
            source_chain,
            attester,
        } => {
            to_json_binary(&SLASHED_ATTESTERS.may_load(deps.storage, (&source_chain, &attester))?)?
        }
        QueryMsg::Notices { kind, subject } => {
            let map = match kind {
                NoticeKind::Revocation => REVOCATION_NOTICES,
                NoticeKind::Slash => SLASH_NOTICES,
            };
            let notices: Vec<NoticeDelivery> = map
                .prefix(&subject)
                .range(deps.storage, None, None, Order::Ascending)
                .map(|item| item.map(|(_, notice)| notice))
                .collect::<StdResult<_>>()?;
            to_json_binary(&notices)?
        }
        QueryMsg::PredicatePolicy { attribute } => {
            to_json_binary(&POLICIES.may_load(deps.storage, &attribute)?)?
        }
        QueryMsg::Channels { start_after, limit } => {
            let range = CHANNELS.range(
                deps.storage,
                string_bound(&start_after),
                None,
                Order::Ascending,
            );
            let channels = values(range, limit)?;
            to_json_binary(&ChannelsResponse { channels })?
        }
        QueryMsg::AllowedConnections { start_after, limit } => {
            let range = ALLOWED_CONNECTIONS.range(
                deps.storage,
                string_bound(&start_after),
                None,
                Order::Ascending,
            );
            to_json_binary(&values(range, limit)?)?
        }
        QueryMsg::VerifyingKeys { start_after, limit } => {
            let ids: Vec<String> = VERIFYING_KEYS
                .keys(
                    deps.storage,
                    string_bound(&start_after),
                    None,
                    Order::Ascending,
                )
                .take(clamp_limit(limit))
                .collect::<StdResult<_>>()?;
            to_json_binary(&ids)?
        }
        QueryMsg::RelayerFees { start_after, limit } => {
            let fees = RELAYER_FEES
                .range(
                    deps.storage,
                    start_after.map(Bound::exclusive),
                    None,
                    Order::Ascending,
                )
                .take(clamp_limit(limit))
                .map(|item| item.map(|(_, fee)| fee))
                .collect::<StdResult<_>>()?;
            to_json_binary(&RelayerFeesResponse { fees })?
        }
        QueryMsg::PauseStatus {} => to_json_binary(&PAUSE.status(deps.storage, &env.block)?)?,
        QueryMsg::Ownership {} => to_json_binary(&ADMIN.get_ownership(deps.storage)?)?,
    };
    Ok(binary)
}

/// M-3: the records of exactly this claim, newest first, one page per call.
fn is_attested(
    deps: Deps,
    env: &Env,
    claim: (Vec<u8>, String, String),
    at: cosmwasm_std::Timestamp,
    start_before: Option<u64>,
) -> Result<IsAttestedResponse, ContractError> {
    let limit = clamp_limit(Some(u32::MAX));
    let mut validity = Validity::new(deps, &env.block);
    let mut scanned = 0;
    let mut last = None;
    for item in attestations().idx.claim.prefix(claim).range(
        deps.storage,
        None,
        start_before.map(Bound::exclusive),
        Order::Descending,
    ) {
        let (id, a) = item?;
        let status = validity.status(&a)?;
        if valid_at(&a, &status, at) {
            return Ok(IsAttestedResponse {
                attested: true,
                attestation_id: Some(id),
                next: None,
            });
        }
        scanned += 1;
        last = Some(id);
        if scanned == limit {
            break;
        }
    }
    Ok(IsAttestedResponse {
        attested: false,
        attestation_id: None,
        next: if scanned == limit { last } else { None },
    })
}
