//! Voting power (stake snapshots or fixed members) and the threshold rules.

use cosmwasm_std::{Addr, Decimal, Deps, Uint128};
use healthmesh_types::governance::{StoredVotingSource, Tally, Threshold};
use healthmesh_types::staking::{QueryMsg as StakingQuery, VotingPowerResponse};

use crate::state::{Config, MEMBERS, MEMBERS_TOTAL};
use crate::ContractError;

/// Power of `voter` at the start of block `height`.
pub fn power_at(
    deps: Deps,
    config: &Config,
    voter: &Addr,
    height: u64,
) -> Result<Uint128, ContractError> {
    Ok(match &config.voting {
        StoredVotingSource::Members {} => {
            MEMBERS.may_load(deps.storage, voter)?.unwrap_or_default()
        }
        StoredVotingSource::Staking { contract } => {
            let query = StakingQuery::VotingPowerAtHeight {
                address: voter.to_string(),
                height: Some(height),
            };
            deps.querier
                .query_wasm_smart::<VotingPowerResponse>(contract, &query)?
                .power
        }
    })
}

pub fn total_power_at(deps: Deps, config: &Config, height: u64) -> Result<Uint128, ContractError> {
    Ok(match &config.voting {
        StoredVotingSource::Members {} => MEMBERS_TOTAL.may_load(deps.storage)?.unwrap_or_default(),
        StoredVotingSource::Staking { contract } => {
            let query = StakingQuery::TotalPowerAtHeight {
                height: Some(height),
            };
            deps.querier
                .query_wasm_smart::<VotingPowerResponse>(contract, &query)?
                .power
        }
    })
}

pub fn cast(tally: &Tally) -> Uint128 {
    tally.yes + tally.no + tally.abstain + tally.veto
}

fn at_least(part: Uint128, whole: Uint128, share: Decimal) -> bool {
    !whole.is_zero() && Decimal::from_ratio(part, whole) >= share
}

/// Does the tally pass under `threshold` with `total` voting power?
pub fn passes(threshold: &Threshold, tally: &Tally, total: Uint128) -> bool {
    match threshold {
        Threshold::AbsolutePercentage { percentage } => {
            at_least(tally.yes, total.saturating_sub(tally.abstain), *percentage)
        }
        Threshold::ThresholdQuorum { threshold, quorum } => {
            at_least(cast(tally), total, *quorum)
                && at_least(tally.yes, tally.yes + tally.no + tally.veto, *threshold)
        }
        Threshold::AbsoluteCount { weight } => tally.yes >= *weight && !tally.yes.is_zero(),
    }
}

/// More than `veto_threshold` of the cast votes are `veto`.
pub fn vetoed_by_votes(tally: &Tally, veto_threshold: Decimal) -> bool {
    let cast = cast(tally);
    !cast.is_zero() && Decimal::from_ratio(tally.veto, cast) > veto_threshold
}

pub fn validate_threshold(threshold: &Threshold) -> Result<(), ContractError> {
    let share_ok = |d: &Decimal| !d.is_zero() && *d <= Decimal::one();
    let ok = match threshold {
        Threshold::AbsolutePercentage { percentage } => share_ok(percentage),
        Threshold::ThresholdQuorum { threshold, quorum } => share_ok(threshold) && share_ok(quorum),
        Threshold::AbsoluteCount { weight } => !weight.is_zero(),
    };
    if ok {
        Ok(())
    } else {
        Err(ContractError::InvalidConfig(
            "threshold shares must be in (0, 1], counts positive".into(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tally(yes: u128, no: u128, abstain: u128, veto: u128) -> Tally {
        Tally {
            yes: yes.into(),
            no: no.into(),
            abstain: abstain.into(),
            veto: veto.into(),
        }
    }

    #[test]
    fn threshold_quorum_needs_turnout_and_share() {
        let t = Threshold::ThresholdQuorum {
            threshold: Decimal::percent(50),
            quorum: Decimal::percent(40),
        };
        assert!(passes(&t, &tally(30, 10, 0, 0), 100u128.into()));
        assert!(
            !passes(&t, &tally(30, 5, 0, 0), 100u128.into()),
            "35% turnout is below quorum"
        );
        assert!(
            passes(&t, &tally(20, 10, 20, 0), 100u128.into()),
            "abstain counts for quorum only"
        );
        assert!(!passes(&t, &tally(20, 30, 0, 0), 100u128.into()));
        assert!(!passes(&t, &tally(0, 0, 50, 0), 100u128.into()));
    }

    #[test]
    fn absolute_rules() {
        let p = Threshold::AbsolutePercentage {
            percentage: Decimal::percent(60),
        };
        assert!(passes(&p, &tally(60, 0, 0, 0), 100u128.into()));
        assert!(!passes(&p, &tally(59, 0, 0, 0), 100u128.into()));
        assert!(
            passes(&p, &tally(54, 0, 10, 0), 100u128.into()),
            "abstain leaves the base"
        );
        let c = Threshold::AbsoluteCount {
            weight: 3u128.into(),
        };
        assert!(passes(&c, &tally(3, 9, 0, 0), 100u128.into()));
        assert!(!passes(&c, &tally(2, 0, 0, 0), 100u128.into()));
        assert!(vetoed_by_votes(&tally(10, 0, 0, 6), Decimal::percent(33)));
        assert!(!vetoed_by_votes(&tally(10, 0, 0, 4), Decimal::percent(33)));
    }
}
