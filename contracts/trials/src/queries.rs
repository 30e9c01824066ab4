//! Trials queries: one trial, pages of trials (by sponsor), approved sites.

use cosmwasm_std::{to_json_binary, Addr, Binary, Deps, Env, Order, StdResult};
use cw_storage_plus::Bound;
use healthmesh_controllers::pagination::clamp_limit;
use healthmesh_types::trials::{MilestoneClaimsResponse, QueryMsg, SitesResponse, TrialsResponse};

use crate::contract::load;
use crate::state::{trials, ADMIN, BILLING, CLAIMS, PAUSE, SITES};
use crate::{enrollment, milestones, ContractError};

pub fn dispatch(deps: Deps, env: Env, msg: QueryMsg) -> Result<Binary, ContractError> {
    let binary = match msg {
        QueryMsg::Trial { trial_id } => to_json_binary(&load(deps, trial_id)?)?,
        QueryMsg::Trials {
            sponsor,
            start_before,
            limit,
        } => {
            let max = start_before.map(Bound::exclusive);
            let limit = clamp_limit(limit);
            let page = match sponsor {
                Some(sponsor) => trials()
                    .idx
                    .sponsor
                    .prefix(deps.api.addr_validate(&sponsor)?)
                    .range(deps.storage, None, max, Order::Descending)
                    .take(limit)
                    .map(|item| item.map(|(_, t)| t))
                    .collect::<StdResult<Vec<_>>>()?,
                None => trials()
                    .range(deps.storage, None, max, Order::Descending)
                    .take(limit)
                    .map(|item| item.map(|(_, t)| t))
                    .collect::<StdResult<Vec<_>>>()?,
            };
            to_json_binary(&TrialsResponse { trials: page })?
        }
        QueryMsg::Participant {
            trial_id,
            participant,
        } => {
            let participant = deps.api.addr_validate(&participant)?;
            to_json_binary(&enrollment::participant(deps, trial_id, &participant)?)?
        }
        QueryMsg::Participants {
            trial_id,
            start_after,
            limit,
        } => to_json_binary(&enrollment::participants(
            deps,
            trial_id,
            start_after,
            limit,
        )?)?,
        QueryMsg::Sites { start_after, limit } => {
            let start = start_after
                .map(|s| deps.api.addr_validate(&s))
                .transpose()?;
            let sites = SITES
                .keys(
                    deps.storage,
                    start.as_ref().map(Bound::exclusive),
                    None,
                    Order::Ascending,
                )
                .take(clamp_limit(limit))
                .collect::<StdResult<Vec<Addr>>>()?;
            to_json_binary(&SitesResponse { sites })?
        }
        QueryMsg::MilestoneClaim {
            trial_id,
            milestone,
            participant,
        } => {
            let participant = deps.api.addr_validate(&participant)?;
            let claim = CLAIMS
                .may_load(deps.storage, (trial_id, &milestone, &participant))?
                .ok_or(ContractError::NoClaim {
                    trial_id,
                    milestone,
                })?;
            to_json_binary(&claim)?
        }
        QueryMsg::MilestoneClaims {
            trial_id,
            start_after,
            limit,
        } => {
            let start = start_after
                .map(|(m, p)| deps.api.addr_validate(&p).map(|p| (m, p)))
                .transpose()?;
            let claims = CLAIMS
                .sub_prefix(trial_id)
                .range(
                    deps.storage,
                    start
                        .as_ref()
                        .map(|(m, p)| Bound::exclusive((m.as_str(), p))),
                    None,
                    Order::Ascending,
                )
                .take(clamp_limit(limit))
                .map(|item| item.map(|(_, c)| c))
                .collect::<StdResult<Vec<_>>>()?;
            to_json_binary(&MilestoneClaimsResponse { claims })?
        }
        QueryMsg::BudgetLink { trial_id } => {
            to_json_binary(&milestones::budget_link(deps, trial_id)?)?
        }
        QueryMsg::BillingChannels {} => to_json_binary(&BILLING.channels(deps.storage)?)?,
        QueryMsg::BillingConnections {} => {
            to_json_binary(&BILLING.allowed_connections(deps.storage)?)?
        }
        QueryMsg::PauseStatus {} => to_json_binary(&PAUSE.status(deps.storage, &env.block)?)?,
        QueryMsg::Ownership {} => to_json_binary(&ADMIN.get_ownership(deps.storage)?)?,
    };
    Ok(binary)
}
