//! The membership token of a DAO voting one member one vote: non-transferable, issued and
//! revoked only by proposal, snapshotted per block (a member issued during a vote does not
//! vote in it). Issued and revoked under any rule, so a DAO can build its membership before
//! switching to it.

use cosmwasm_std::{Addr, Deps, DepsMut, Env, Event, Order, Response, StdResult, Uint128};
use cw_storage_plus::Bound;
use healthmesh_controllers::pagination::clamp_limit;
use healthmesh_types::governance::{MembershipsResponse, VotingRule};

use crate::state::{CONFIG, MEMBERSHIP, MEMBERSHIP_TOTAL};
use crate::ContractError;

pub fn issue(deps: DepsMut, env: &Env, address: &str) -> Result<Response, ContractError> {
    let member = deps.api.addr_validate(address)?;
    if MEMBERSHIP.may_load(deps.storage, &member)?.is_some() {
        return Err(ContractError::AlreadyMember(member.into_string()));
    }
    let height = env.block.height;
    MEMBERSHIP.save(deps.storage, &member, &Uint128::one(), height)?;
    let total = total(deps.as_ref())? + Uint128::one();
    MEMBERSHIP_TOTAL.save(deps.storage, &total, height)?;
    Ok(event("membership_issued", &member, total))
}

pub fn revoke(deps: DepsMut, env: &Env, address: &str) -> Result<Response, ContractError> {
    let member = deps.api.addr_validate(address)?;
    if MEMBERSHIP.may_load(deps.storage, &member)?.is_none() {
        return Err(ContractError::NotMember(member.into_string()));
    }
    let total = total(deps.as_ref())?.saturating_sub(Uint128::one());
    let rule = CONFIG.load(deps.storage)?.voting_rule;
    if rule == VotingRule::Membership && total.is_zero() {
        return Err(ContractError::LastMember);
    }
    let height = env.block.height;
    MEMBERSHIP.remove(deps.storage, &member, height)?;
    MEMBERSHIP_TOTAL.save(deps.storage, &total, height)?;
    let config = CONFIG.load(deps.storage)?;
    if config.voting_rule == VotingRule::Membership {
        crate::voting::check_reachable(deps.as_ref(), &config, height + 1)?;
    }
    Ok(event("membership_revoked", &member, total))
}

pub fn total(deps: Deps) -> StdResult<Uint128> {
    Ok(MEMBERSHIP_TOTAL.may_load(deps.storage)?.unwrap_or_default())
}

fn event(kind: &str, member: &Addr, total: Uint128) -> Response {
    Response::new().add_attribute("action", kind).add_event(
        Event::new(kind)
            .add_attribute("member", member)
            .add_attribute("members", total),
    )
}

pub fn is_member(deps: Deps, address: &str) -> Result<bool, ContractError> {
    let member = deps.api.addr_validate(address)?;
    Ok(MEMBERSHIP.may_load(deps.storage, &member)?.is_some())
}

pub fn list(
    deps: Deps,
    start_after: Option<String>,
    limit: Option<u32>,
) -> Result<MembershipsResponse, ContractError> {
    let start = start_after
        .map(|a| deps.api.addr_validate(&a))
        .transpose()?;
    let members = MEMBERSHIP
        .keys(
            deps.storage,
            start.as_ref().map(Bound::exclusive),
            None,
            Order::Ascending,
        )
        .take(clamp_limit(limit))
        .collect::<StdResult<Vec<_>>>()?;
    Ok(MembershipsResponse { members })
}
