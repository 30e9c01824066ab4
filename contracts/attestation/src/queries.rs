use cosmwasm_std::{to_json_binary, Binary, Deps, Env, Order, StdResult};
use cw_storage_plus::{Bound, IndexPrefix};
use healthmesh_types::attestation::{
    AllowedConnection, Attestation, AttestationStatus, AttestationsResponse, ChannelsResponse,
    DeliveriesResponse, IsAttestedResponse, QueryMsg,
};
use healthmesh_types::pagination::{clamp_limit, MAX_LIMIT};
use healthmesh_types::validate;

use crate::state::{
    attestations, ADMIN, ALLOWED_CONNECTIONS, ANCHORS, ANCHOR_CONFLICTS, CHANNELS, CONFIG,
    DELIVERIES, PAUSE, VERIFYING_KEYS,
};
use crate::{verify, ContractError};

fn page(
    deps: Deps,
    prefix: IndexPrefix<u64, Attestation, u64>,
    start_after: Option<u64>,
    limit: Option<u32>,
) -> StdResult<AttestationsResponse> {
    let attestations = prefix
        .range(
            deps.storage,
            start_after.map(Bound::exclusive),
            None,
            Order::Ascending,
        )
        .take(clamp_limit(limit))
        .map(|item| item.map(|(_, a)| a))
        .collect::<StdResult<_>>()?;
    Ok(AttestationsResponse { attestations })
}

pub fn dispatch(deps: Deps, env: Env, msg: QueryMsg) -> Result<Binary, ContractError> {
    let idx = attestations().idx;
    let binary = match msg {
        QueryMsg::Config {} => to_json_binary(&CONFIG.load(deps.storage)?)?,
        QueryMsg::Attestation { id } => to_json_binary(
            &attestations()
                .may_load(deps.storage, id)?
                .ok_or(ContractError::AttestationNotFound(id))?,
        )?,
        QueryMsg::AttestationsByConsent {
            source_chain,
            consent_id,
            start_after,
            limit,
        } => to_json_binary(&page(
            deps,
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
        } => {
            validate::commitment("commitment", &commitment)?;
            verify::predicate(&predicate)?;
            let at = at.unwrap_or(env.block.time);
            let found = idx
                .commitment
                .prefix(commitment.to_vec())
                .range(deps.storage, None, None, Order::Descending)
                .take(MAX_LIMIT as usize)
                .filter_map(Result::ok)
                .find(|(_, a)| {
                    a.attribute == attribute
                        && a.predicate == predicate
                        && a.status == AttestationStatus::Valid
                        && a.recorded_at <= at
                        && a.expires_at.is_none_or(|t| at < t)
                });
            to_json_binary(&IsAttestedResponse {
                attested: found.is_some(),
                attestation_id: found.map(|(id, _)| id),
            })?
        }
        QueryMsg::Anchor { commitment } => {
            to_json_binary(&ANCHORS.may_load(deps.storage, &commitment)?)?
        }
        QueryMsg::AnchorConflicts { commitment } => {
            let conflicts: Vec<_> = ANCHOR_CONFLICTS
                .prefix(&commitment)
                .range(deps.storage, None, None, Order::Ascending)
                .take(MAX_LIMIT as usize)
                .map(|item| item.map(|(_, c)| c))
                .collect::<StdResult<_>>()?;
            to_json_binary(&conflicts)?
        }
        QueryMsg::Deliveries { attestation_id } => {
            let deliveries = DELIVERIES
                .prefix(attestation_id)
                .range(deps.storage, None, None, Order::Ascending)
                .take(MAX_LIMIT as usize)
                .map(|item| item.map(|(_, d)| d))
                .collect::<StdResult<_>>()?;
            to_json_binary(&DeliveriesResponse { deliveries })?
        }
        QueryMsg::Channels {} => {
            let channels = CHANNELS
                .range(deps.storage, None, None, Order::Ascending)
                .take(MAX_LIMIT as usize)
                .map(|item| item.map(|(_, c)| c))
                .collect::<StdResult<_>>()?;
            to_json_binary(&ChannelsResponse { channels })?
        }
        QueryMsg::AllowedConnections {} => {
            let allowed: Vec<AllowedConnection> = ALLOWED_CONNECTIONS
                .range(deps.storage, None, None, Order::Ascending)
                .take(MAX_LIMIT as usize)
                .map(|item| {
                    item.map(|(connection_id, chain_id)| AllowedConnection {
                        connection_id,
                        chain_id,
                    })
                })
                .collect::<StdResult<_>>()?;
            to_json_binary(&allowed)?
        }
        QueryMsg::VerifyingKeys {} => {
            let ids: Vec<String> = VERIFYING_KEYS
                .keys(deps.storage, None, None, Order::Ascending)
                .take(MAX_LIMIT as usize)
                .collect::<StdResult<_>>()?;
            to_json_binary(&ids)?
        }
        QueryMsg::PauseStatus {} => to_json_binary(&PAUSE.status(deps.storage, &env.block)?)?,
        QueryMsg::Ownership {} => to_json_binary(&ADMIN.get_ownership(deps.storage)?)?,
    };
    Ok(binary)
}
