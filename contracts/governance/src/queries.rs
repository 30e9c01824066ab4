use cosmwasm_std::{to_json_binary, Binary, Deps, Env, Order, StdResult};
use cw_storage_plus::Bound;
use healthmesh_controllers::pagination::clamp_limit;
use healthmesh_types::governance::{
    CouncilActionResponse, CouncilResponse, MembershipResponse, NetworkResponse, ProposalResponse,
    ProposalsResponse, QueryMsg, VoteResponse, VotesResponse,
};
use healthmesh_types::staking::VotingPowerResponse;

use crate::proposal::{load_current, refresh};
use crate::state::{
    CONFIG, COUNCIL, COUNCIL_ACTIONS, GOV_CHANNELS, LAST_NETWORK_PAUSE, PAUSE_TARGETS, PROPOSALS,
    VOTES,
};
use crate::voting::{power_at, total_power_at};
use crate::{membership, ContractError};

pub fn dispatch(deps: Deps, env: Env, msg: QueryMsg) -> Result<Binary, ContractError> {
    let config = CONFIG.load(deps.storage)?;
    let binary = match msg {
        QueryMsg::Config {} => to_json_binary(&config)?,
        QueryMsg::Proposal { proposal_id } => to_json_binary(&ProposalResponse {
            proposal: load_current(deps.storage, &config, &env.block, proposal_id)?,
        })?,
        QueryMsg::ListProposals {
            start_after,
            limit,
            reverse,
        } => {
            let (order, min, max) = match reverse {
                Some(true) => (Order::Descending, None, start_after.map(Bound::exclusive)),
                _ => (Order::Ascending, start_after.map(Bound::exclusive), None),
            };
            let proposals = PROPOSALS
                .range(deps.storage, min, max, order)
                .take(clamp_limit(limit))
                .map(|item| {
                    item.map(|(_, mut p)| {
                        refresh(&mut p, &config, &env.block);
                        p
                    })
                })
                .collect::<StdResult<_>>()?;
            to_json_binary(&ProposalsResponse { proposals })?
        }
        QueryMsg::Votes {
            proposal_id,
            start_after,
            limit,
        } => {
            let start = start_after
                .map(|a| deps.api.addr_validate(&a))
                .transpose()?;
            let votes = VOTES
                .prefix(proposal_id)
                .range(
                    deps.storage,
                    start.as_ref().map(Bound::exclusive),
                    None,
                    Order::Ascending,
                )
                .take(clamp_limit(limit))
                .map(|item| item.map(|(_, v)| v))
                .collect::<StdResult<_>>()?;
            to_json_binary(&VotesResponse { votes })?
        }
        QueryMsg::Vote { proposal_id, voter } => {
            let voter = deps.api.addr_validate(&voter)?;
            to_json_binary(&VoteResponse {
                vote: VOTES.may_load(deps.storage, (proposal_id, &voter))?,
            })?
        }
        QueryMsg::VotingPowerAtHeight { address, height } => {
            let address = deps.api.addr_validate(&address)?;
            let height = height.unwrap_or(env.block.height);
            let power = power_at(deps, &config, &address, height)?;
            to_json_binary(&VotingPowerResponse { power, height })?
        }
        QueryMsg::TotalPowerAtHeight { height } => {
            let height = height.unwrap_or(env.block.height);
            let power = total_power_at(deps, &config, height)?;
            to_json_binary(&VotingPowerResponse { power, height })?
        }
        QueryMsg::Membership { address } => to_json_binary(&MembershipResponse {
            member: membership::is_member(deps, &address)?,
        })?,
        QueryMsg::Memberships { start_after, limit } => {
            to_json_binary(&membership::list(deps, start_after, limit)?)?
        }
        QueryMsg::Council {} => {
            let council = COUNCIL.load(deps.storage)?;
            to_json_binary(&CouncilResponse {
                members: council.members,
                threshold: council.threshold,
                epoch: council.epoch,
            })?
        }
        QueryMsg::Network {} => to_json_binary(&NetworkResponse {
            connections: GOV_CHANNELS.allowed_connections(deps.storage)?,
            channels: GOV_CHANNELS.channels(deps.storage)?,
            pause_targets: PAUSE_TARGETS.may_load(deps.storage)?.unwrap_or_default(),
            last_network_pause: LAST_NETWORK_PAUSE.may_load(deps.storage)?,
        })?,
        QueryMsg::CouncilAction { action_id } => {
            let action = COUNCIL_ACTIONS
                .may_load(deps.storage, action_id)?
                .ok_or(ContractError::CouncilActionNotFound(action_id))?;
            to_json_binary(&CouncilActionResponse { action })?
        }
    };
    Ok(binary)
}
