//! The rule tying this DAO to the staking contract it votes with: the staking contract's
//! `slashing_window` must be at least this DAO's voting period plus timelock. Unbonding
//! claims stay slashable until released, and staking keeps its unbonding period at least as
//! long as the window; so a slash proposed when a custodian unbonds lands before that stake
//! leaves. Checked at instantiate, at `UpdateConfig`, and after every proposal's messages
//! (the only way the staking contract's window changes while this DAO is its admin).
//! A DAO voting with fixed members has no staking contract to check.

use cosmwasm_std::{Addr, Deps};
use healthmesh_types::governance::StoredVotingSource;
use healthmesh_types::staking::{ConfigResponse as StakingConfig, QueryMsg as StakingQuery};

use crate::state::Config;
use crate::ContractError;

/// Reply id of a proposal's last message, after which the rule is checked; proposal ids
/// (the reply ids of executions) count up from 1 and never reach it.
pub const CHECK_REPLY_ID: u64 = u64::MAX;

/// The longest a slash proposal takes from submission to execution.
fn decision_time(voting_period: u64, timelock: u64) -> u64 {
    voting_period.saturating_add(timelock)
}

/// The rule for a known slashing window.
pub fn check_window(window: u64, voting_period: u64, timelock: u64) -> Result<(), ContractError> {
    let required = decision_time(voting_period, timelock);
    if window < required {
        return Err(ContractError::SlashingWindowTooShort { window, required });
    }
    Ok(())
}

/// The rule against the window of the staking contract at `staking`.
pub fn check_contract(
    deps: Deps,
    staking: &Addr,
    voting_period: u64,
    timelock: u64,
) -> Result<(), ContractError> {
    let config: StakingConfig = deps
        .querier
        .query_wasm_smart(staking, &StakingQuery::Config {})?;
    check_window(config.slashing_window, voting_period, timelock)
}

/// The rule for this DAO's config and voting source.
pub fn check(deps: Deps, config: &Config) -> Result<(), ContractError> {
    match &config.voting {
        StoredVotingSource::Members {} => Ok(()),
        StoredVotingSource::Staking { contract } => {
            check_contract(deps, contract, config.voting_period, config.timelock)
        }
    }
}
