use cosmwasm_std::{to_json_binary, Binary, Deps, Env, Isqrt, Order, StdResult};
use cw_storage_plus::Bound;
use healthmesh_controllers::pagination::clamp_limit;
use healthmesh_types::staking::{
    ClaimsResponse, HooksResponse, IsActiveAttesterResponse, QueryMsg, SlashesResponse,
    StakeResponse, StakerInfo, StakersResponse, VotingPowerResponse,
};

use crate::state::{
    ADMIN, BONDS, CLAIMS, CONFIG, HOOKS, PAUSE, SLASHES, TOTAL_BONDED, TOTAL_SQRT_BONDED,
};
use crate::{rewards, ContractError};

pub fn dispatch(deps: Deps, env: Env, msg: QueryMsg) -> Result<Binary, ContractError> {
    let binary = match msg {
        QueryMsg::Config {} => to_json_binary(&CONFIG.load(deps.storage)?)?,
        QueryMsg::Stake { address } => {
            let address = deps.api.addr_validate(&address)?;
            let bonded = BONDS.may_load(deps.storage, &address)?.unwrap_or_default();
            let config = CONFIG.load(deps.storage)?;
            to_json_binary(&StakeResponse {
                pending_rewards: rewards::settled(deps.storage, &address, bonded)?.pending,
                claims: CLAIMS.may_load(deps.storage, &address)?.unwrap_or_default(),
                active_attester: config.is_active_attester(bonded),
                address,
                bonded,
            })?
        }
        QueryMsg::IsActiveAttester { address } => {
            let address = deps.api.addr_validate(&address)?;
            let bonded = BONDS.may_load(deps.storage, &address)?.unwrap_or_default();
            let config = CONFIG.load(deps.storage)?;
            to_json_binary(&IsActiveAttesterResponse {
                active: config.is_active_attester(bonded),
                bonded,
                min_bond: config.min_bond,
            })?
        }
        QueryMsg::Claims { address } => {
            let address = deps.api.addr_validate(&address)?;
            let claims = CLAIMS.may_load(deps.storage, &address)?.unwrap_or_default();
            to_json_binary(&ClaimsResponse { claims })?
        }
        QueryMsg::Stakers { start_after, limit } => {
            let start = start_after
                .map(|a| deps.api.addr_validate(&a))
                .transpose()?;
            let stakers = BONDS
                .range(
                    deps.storage,
                    start.as_ref().map(Bound::exclusive),
                    None,
                    Order::Ascending,
                )
                .take(clamp_limit(limit))
                .map(|item| item.map(|(address, bonded)| StakerInfo { address, bonded }))
                .collect::<StdResult<_>>()?;
            to_json_binary(&StakersResponse { stakers })?
        }
        QueryMsg::VotingPowerAtHeight { address, height } => {
            let address = deps.api.addr_validate(&address)?;
            let height = height.unwrap_or(env.block.height);
            let power = BONDS
                .may_load_at_height(deps.storage, &address, height)?
                .unwrap_or_default();
            to_json_binary(&VotingPowerResponse { power, height })?
        }
        QueryMsg::TotalPowerAtHeight { height } => {
            let height = height.unwrap_or(env.block.height);
            let power = TOTAL_BONDED
                .may_load_at_height(deps.storage, height)?
                .unwrap_or_default();
            to_json_binary(&VotingPowerResponse { power, height })?
        }
        QueryMsg::QuadraticPowerAtHeight { address, height } => {
            let address = deps.api.addr_validate(&address)?;
            let height = height.unwrap_or(env.block.height);
            let power = BONDS
                .may_load_at_height(deps.storage, &address, height)?
                .unwrap_or_default()
                .isqrt();
            to_json_binary(&VotingPowerResponse { power, height })?
        }
        QueryMsg::QuadraticTotalAtHeight { height } => {
            let height = height.unwrap_or(env.block.height);
            let power = TOTAL_SQRT_BONDED
                .may_load_at_height(deps.storage, height)?
                .unwrap_or_default();
            to_json_binary(&VotingPowerResponse { power, height })?
        }
        QueryMsg::Slashes {
            attester,
            start_after,
            limit,
        } => {
            let attester = deps.api.addr_validate(&attester)?;
            let slashes = SLASHES
                .prefix(&attester)
                .range(
                    deps.storage,
                    start_after.map(Bound::exclusive),
                    None,
                    Order::Ascending,
                )
                .take(clamp_limit(limit))
                .map(|item| item.map(|(_, record)| record))
                .collect::<StdResult<_>>()?;
            to_json_binary(&SlashesResponse { slashes })?
        }
        QueryMsg::Hooks {} => to_json_binary(&HooksResponse {
            hooks: HOOKS.may_load(deps.storage)?.unwrap_or_default(),
        })?,
        QueryMsg::PauseStatus {} => to_json_binary(&PAUSE.status(deps.storage, &env.block)?)?,
        QueryMsg::Ownership {} => to_json_binary(&ADMIN.get_ownership(deps.storage)?)?,
    };
    Ok(binary)
}
