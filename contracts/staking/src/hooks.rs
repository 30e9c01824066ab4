//! Stake-change hooks, sent as sub-messages with a gas limit and `reply_on_error`: a hook
//! that fails or runs out of gas is reported in a `hook_failed` event and cannot block
//! bonding, unbonding or slashing.

use cosmwasm_std::{
    to_json_binary, Addr, Reply, Response, StdResult, Storage, SubMsg, Uint128, WasmMsg,
};
use healthmesh_types::events;
use healthmesh_types::staking::{StakeChange, StakeChangedHookMsg, HOOK_GAS_LIMIT};

use crate::state::HOOKS;

pub const HOOK_REPLY_ID: u64 = 1;

pub fn notify(
    storage: &dyn Storage,
    address: &Addr,
    bonded: Uint128,
    kind: &str,
) -> StdResult<Vec<SubMsg>> {
    let msg = to_json_binary(&StakeChangedHookMsg::StakeChanged(StakeChange {
        address: address.clone(),
        bonded,
        kind: kind.into(),
    }))?;
    Ok(HOOKS
        .may_load(storage)?
        .unwrap_or_default()
        .into_iter()
        .map(|hook| {
            let exec = WasmMsg::Execute {
                contract_addr: hook.into_string(),
                msg: msg.clone(),
                funds: vec![],
            };
            SubMsg::reply_on_error(exec, HOOK_REPLY_ID).with_gas_limit(HOOK_GAS_LIMIT)
        })
        .collect())
}

/// The error of a failed hook, swallowed into an event.
pub fn on_failure(reply: Reply) -> Response {
    let error = reply.result.into_result().err().unwrap_or_default();
    Response::new()
        .add_event(cosmwasm_std::Event::new(events::HOOK_FAILED).add_attribute("error", error))
}
