//! Consent queries: access checks, single records and the paginated index listings.

use cosmwasm_std::{to_json_binary, Binary, BlockInfo, Deps, Env, Order, StdResult, Storage};
use cw_storage_plus::IndexPrefix;
use healthmesh_controllers::pagination::clamp_limit;
use healthmesh_controllers::validate;
use healthmesh_types::consent::{
    ConsentRecord, ConsentResponse, ConsentsResponse, CustodianResponse, QueryMsg,
    MAX_ATTRIBUTE_LEN, MAX_PURPOSE_LEN,
};

use crate::access::{check_recent_grants, check_token, effective_status, AccessQuery};
use crate::offers;
use crate::state::{consents, load_consent, start_bound, CUSTODIANS, PAUSE, SETTLEMENT};
use crate::{cw721_queries, ContractError};

pub fn dispatch(deps: Deps, env: Env, msg: QueryMsg) -> Result<Binary, ContractError> {
    let block = &env.block;
    let binary = match msg {
        QueryMsg::CheckAccess {
            grantee,
            dataset,
            purpose,
            attribute,
            token_id,
            patient,
        } => {
            validate::commitment("dataset", &dataset)?;
            validate::identifier("purpose", &purpose, MAX_PURPOSE_LEN)?;
            validate::identifier("attribute", &attribute, MAX_ATTRIBUTE_LEN)?;
            let grantee = deps.api.addr_validate(&grantee)?;
            let patient = patient.map(|p| deps.api.addr_validate(&p)).transpose()?;
            let query = AccessQuery {
                grantee: &grantee,
                dataset: &dataset,
                purpose: &purpose,
                attribute: &attribute,
                patient: patient.as_ref(),
            };
            let response = match token_id {
                Some(token_id) => check_token(deps, block, &query, &token_id)?,
                None => check_recent_grants(deps, block, &query)?,
            };
            to_json_binary(&response)?
        }
        QueryMsg::Offer { offer_id } => offers::query_offer(deps, offer_id)?,
        QueryMsg::Offers {
            patient,
            start_before,
            limit,
        } => offers::query_offers(deps, patient, start_before, limit)?,
        QueryMsg::SettlementChannels {} => to_json_binary(&SETTLEMENT.channels(deps.storage)?)?,
        QueryMsg::SettlementConnections {} => {
            to_json_binary(&SETTLEMENT.allowed_connections(deps.storage)?)?
        }
        QueryMsg::Custodian { patient, dataset } => {
            validate::commitment("dataset", &dataset)?;
            let patient = deps.api.addr_validate(&patient)?;
            let custodian = CUSTODIANS.may_load(deps.storage, (&patient, dataset.as_slice()))?;
            to_json_binary(&CustodianResponse { custodian })?
        }
        QueryMsg::Consent { token_id } => {
            let (_, record) = load_consent(deps.storage, &token_id)?;
            to_json_binary(&consent_response(token_id, record, block))?
        }
        QueryMsg::GrantsByPatient {
            patient,
            start_after,
            limit,
        } => {
            let prefix = consents()
                .idx
                .patient
                .prefix(deps.api.addr_validate(&patient)?);
            to_json_binary(&list(deps.storage, block, prefix, start_after, limit)?)?
        }
        QueryMsg::GrantsByGrantee {
            grantee,
            start_after,
            limit,
        } => {
            let prefix = consents()
                .idx
                .grantee
                .prefix(deps.api.addr_validate(&grantee)?);
            to_json_binary(&list(deps.storage, block, prefix, start_after, limit)?)?
        }
        QueryMsg::GrantsByDataset {
            dataset,
            start_after,
            limit,
        } => {
            validate::commitment("dataset", &dataset)?;
            let prefix = consents().idx.dataset.prefix(dataset.to_vec());
            to_json_binary(&list(deps.storage, block, prefix, start_after, limit)?)?
        }
        QueryMsg::PauseStatus {} => to_json_binary(&PAUSE.status(deps.storage, block)?)?,
        cw721 => cw721_queries::dispatch(deps, cw721)?,
    };
    Ok(binary)
}

pub fn consent_response(
    token_id: String,
    record: ConsentRecord,
    block: &BlockInfo,
) -> ConsentResponse {
    ConsentResponse {
        token_id,
        effective_status: effective_status(&record, block),
        record,
    }
}

fn list(
    storage: &dyn Storage,
    block: &BlockInfo,
    prefix: IndexPrefix<u64, ConsentRecord, u64>,
    start_after: Option<String>,
    limit: Option<u32>,
) -> Result<ConsentsResponse, ContractError> {
    let consents = prefix
        .range(storage, start_bound(start_after)?, None, Order::Ascending)
        .take(clamp_limit(limit))
        .map(|item| item.map(|(id, record)| consent_response(id.to_string(), record, block)))
        .collect::<StdResult<_>>()?;
    Ok(ConsentsResponse { consents })
}
