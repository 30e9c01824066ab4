//! The cw721 0.22 queries, answered from the consent records with the cw721 crate's own
//! response types so wallets and indexers see standard tokens.

use cosmwasm_std::{to_json_binary, Binary, Deps, Order, StdResult};
use cw721::msg::{
    AllNftInfoResponse, ApprovalsResponse, CollectionInfoAndExtensionResponse, MinterResponse,
    NftInfoResponse, NumTokensResponse, OperatorsResponse, OwnerOfResponse, TokensResponse,
};
use cw_ownable::Ownership;
use healthmesh_controllers::pagination::clamp_limit;
use healthmesh_types::consent::{CollectionExtension, ConsentRecord, QueryMsg};

use crate::state::{consents, load_consent, start_bound, ADMIN, COLLECTION, TOKEN_COUNT};
use crate::ContractError;

pub fn dispatch(deps: Deps, msg: QueryMsg) -> Result<Binary, ContractError> {
    let binary = match msg {
        QueryMsg::OwnerOf { token_id, .. } => {
            let (_, record) = load_consent(deps.storage, &token_id)?;
            to_json_binary(&owner_of(&record))?
        }
        QueryMsg::Approvals { token_id, .. } => {
            load_consent(deps.storage, &token_id)?;
            to_json_binary(&ApprovalsResponse { approvals: vec![] })?
        }
        QueryMsg::AllOperators { owner, .. } => {
            deps.api.addr_validate(&owner)?;
            to_json_binary(&OperatorsResponse { operators: vec![] })?
        }
        QueryMsg::NumTokens {} => {
            let count = TOKEN_COUNT.may_load(deps.storage)?.unwrap_or_default();
            to_json_binary(&NumTokensResponse { count })?
        }
        QueryMsg::ContractInfo {} | QueryMsg::GetCollectionInfoAndExtension {} => {
            let info = COLLECTION.load(deps.storage)?;
            to_json_binary(&CollectionInfoAndExtensionResponse::<CollectionExtension> {
                name: info.name,
                symbol: info.symbol,
                extension: None,
                updated_at: info.updated_at,
            })?
        }
        QueryMsg::Minter {} => to_json_binary(&MinterResponse { minter: None })?,
        QueryMsg::GetMinterOwnership {} => to_json_binary(&Ownership::<cosmwasm_std::Addr> {
            owner: None,
            pending_owner: None,
            pending_expiry: None,
        })?,
        QueryMsg::GetCreatorOwnership {} => to_json_binary(&ADMIN.get_ownership(deps.storage)?)?,
        QueryMsg::NftInfo { token_id } => {
            let (_, record) = load_consent(deps.storage, &token_id)?;
            to_json_binary(&nft_info(record))?
        }
        QueryMsg::AllNftInfo { token_id, .. } => {
            let (_, record) = load_consent(deps.storage, &token_id)?;
            to_json_binary(&AllNftInfoResponse {
                access: owner_of(&record),
                info: nft_info(record),
            })?
        }
        QueryMsg::Tokens {
            owner,
            start_after,
            limit,
        } => {
            let owner = deps.api.addr_validate(&owner)?;
            let tokens = consents()
                .idx
                .grantee
                .prefix(owner)
                .keys(
                    deps.storage,
                    start_bound(start_after)?,
                    None,
                    Order::Ascending,
                )
                .take(clamp_limit(limit))
                .map(|id| id.map(|id| id.to_string()))
                .collect::<StdResult<_>>()?;
            to_json_binary(&TokensResponse { tokens })?
        }
        QueryMsg::AllTokens { start_after, limit } => {
            let tokens = consents()
                .keys(
                    deps.storage,
                    start_bound(start_after)?,
                    None,
                    Order::Ascending,
                )
                .take(clamp_limit(limit))
                .map(|id| id.map(|id| id.to_string()))
                .collect::<StdResult<_>>()?;
            to_json_binary(&TokensResponse { tokens })?
        }
        consent_query => {
            // `queries::dispatch` answers these before delegating here.
            return Err(ContractError::Std(cosmwasm_std::StdError::generic_err(
                format!("not a cw721 query: {consent_query:?}"),
            )));
        }
    };
    Ok(binary)
}

fn owner_of(record: &ConsentRecord) -> OwnerOfResponse {
    OwnerOfResponse {
        owner: record.grantee.to_string(),
        approvals: vec![],
    }
}

fn nft_info(record: ConsentRecord) -> NftInfoResponse<ConsentRecord> {
    NftInfoResponse {
        token_uri: None,
        extension: record,
    }
}
