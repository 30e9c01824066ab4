//! Voting power (stake snapshots or fixed members, counted by the DAO's voting rule: stake,
//! its square root, or one member one vote) and the threshold rules.

use cosmwasm_std::{Addr, Decimal, Deps, Isqrt, Uint128};
use healthmesh_types::governance::{StoredVotingSource, Tally, Threshold, VotingRule};
use healthmesh_types::staking::{QueryMsg as StakingQuery, VotingPowerResponse};

use crate::state::{
    Config, MEMBERS, MEMBERSHIP, MEMBERSHIP_TOTAL, MEMBERS_SQRT_TOTAL, MEMBERS_TOTAL,
};
use crate::ContractError;

/// Power of `voter` at the start of block `height`, under the DAO's voting rule.
pub fn power_at(
    deps: Deps,
    config: &Config,
    voter: &Addr,
    height: u64,
) -> Result<Uint128, ContractError> {
    power_under(deps, config, config.voting_rule, voter, height)
}

/// Power of `voter` at the start of block `height`, counted by `rule`.
pub fn power_under(
    deps: Deps,
    config: &Config,
    rule: VotingRule,
    voter: &Addr,
    height: u64,
) -> Result<Uint128, ContractError> {
    match (rule, &config.voting) {
        (VotingRule::Stake, _) => source_power_at(deps, config, voter, height),
        (VotingRule::Membership, _) => Ok(MEMBERSHIP
            .may_load_at_height(deps.storage, voter, height)?
            .unwrap_or_default()),
        (VotingRule::Quadratic, StoredVotingSource::Members {}) => {
            Ok(source_power_at(deps, config, voter, height)?.isqrt())
        }
        (VotingRule::Quadratic, StoredVotingSource::Staking { contract }) => {
            let query = StakingQuery::QuadraticPowerAtHeight {
                address: voter.to_string(),
                height: Some(height),
            };
            Ok(deps
                .querier
                .query_wasm_smart::<VotingPowerResponse>(contract, &query)?
                .power)
        }
    }
}

/// Total power at the start of block `height`, under the DAO's voting rule.
pub fn total_power_at(deps: Deps, config: &Config, height: u64) -> Result<Uint128, ContractError> {
    match (config.voting_rule, &config.voting) {
        (VotingRule::Stake, _) => source_total_at(deps, config, height),
        (VotingRule::Membership, _) => Ok(MEMBERSHIP_TOTAL
            .may_load_at_height(deps.storage, height)?
            .unwrap_or_default()),
        (VotingRule::Quadratic, StoredVotingSource::Members {}) => Ok(MEMBERS_SQRT_TOTAL
            .may_load(deps.storage)?
            .unwrap_or_default()),
        (VotingRule::Quadratic, StoredVotingSource::Staking { contract }) => {
            let query = StakingQuery::QuadraticTotalAtHeight {
                height: Some(height),
            };
            Ok(deps
                .querier
                .query_wasm_smart::<VotingPowerResponse>(contract, &query)?
                .power)
        }
    }
}

/// An `absolute_count` threshold must stay within the total power after a rule change or a
/// revoked membership, or no proposal (not even one fixing it) could ever pass again.
/// `height` is the next block's, so this block's changes count.
pub fn check_reachable(deps: Deps, config: &Config, height: u64) -> Result<(), ContractError> {
    if let Threshold::AbsoluteCount { weight } = &config.threshold {
        let total = total_power_at(deps, config, height)?;
        if *weight > total {
            return Err(ContractError::InvalidConfig(format!(
                "the absolute_count threshold {weight} exceeds the total voting power {total} under the {:?} rule: no proposal could pass; lower it in the same proposal",
                config.voting_rule
            )));
        }
    }
    Ok(())
}

/// The voting source's own power (stake or fixed weight).
fn source_power_at(
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

fn source_total_at(deps: Deps, config: &Config, height: u64) -> Result<Uint128, ContractError> {
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

/// Enough power voted for a veto to count: the quorum of `ThresholdQuorum`; for the other
/// rules, as much power voting yes, no or veto as passing needs in yes.
pub fn quorum_reached(threshold: &Threshold, tally: &Tally, total: Uint128) -> bool {
    let deciding = tally.yes + tally.no + tally.veto;
    match threshold {
        Threshold::ThresholdQuorum { quorum, .. } => at_least(cast(tally), total, *quorum),
        Threshold::AbsolutePercentage { percentage } => {
            at_least(deciding, total.saturating_sub(tally.abstain), *percentage)
        }
        Threshold::AbsoluteCount { weight } => deciding >= *weight && !deciding.is_zero(),
    }
}

/// More than `veto_threshold` of the cast votes are `veto`, with quorum: a veto forfeits the
/// deposit, so a handful of veto votes in a quiet vote must not.
pub fn vetoed_by_votes(
    threshold: &Threshold,
    tally: &Tally,
    total: Uint128,
    veto_threshold: Decimal,
) -> bool {
    let cast = cast(tally);
    quorum_reached(threshold, tally, total)
        && !cast.is_zero()
        && Decimal::from_ratio(tally.veto, cast) > veto_threshold
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
        let veto = |t: &Threshold, tally: &Tally| {
            vetoed_by_votes(t, tally, 100u128.into(), Decimal::percent(33))
        };
        assert!(veto(&p, &tally(10, 0, 0, 60)));
        assert!(!veto(&p, &tally(60, 0, 0, 20)), "25 % veto share");
    }

    /// L-6: a veto needs the quorum (or, without one, the turnout passing would need).
    #[test]
    fn l6_a_veto_needs_quorum() {
        let veto = |t: &Threshold, tally: &Tally| {
            vetoed_by_votes(t, tally, 100u128.into(), Decimal::percent(33))
        };
        let q = Threshold::ThresholdQuorum {
            threshold: Decimal::percent(50),
            quorum: Decimal::percent(40),
        };
        assert!(!veto(&q, &tally(0, 0, 0, 1)), "1 of 100 is no quorum");
        assert!(!veto(&q, &tally(10, 0, 0, 29)), "39 % turnout");
        assert!(veto(&q, &tally(10, 0, 0, 30)));
        assert!(veto(&q, &tally(0, 0, 25, 15)), "abstain counts for quorum");
        let p = Threshold::AbsolutePercentage {
            percentage: Decimal::percent(60),
        };
        assert!(!veto(&p, &tally(0, 0, 0, 59)));
        assert!(veto(&p, &tally(0, 0, 0, 60)));
        assert!(
            veto(&p, &tally(0, 0, 50, 30)),
            "60 % of the 50 not abstaining"
        );
        let c = Threshold::AbsoluteCount {
            weight: 20u128.into(),
        };
        assert!(!veto(&c, &tally(0, 0, 0, 19)));
        assert!(veto(&c, &tally(0, 0, 0, 20)));
    }
}
