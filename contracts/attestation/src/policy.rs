//! H-4: what may be proven about an attribute. Governance sets, per attribute, the operators
//! allowed and the fewest values the attestations of one commitment may together narrow the
//! value to, so a sensitive value is never disclosed by `eq`, `in [v]`, `between v v`, or by
//! two one-sided bounds (`lt 70` next to `gte 69`). Proven ranges only ever narrow: a
//! revoked attestation has already disclosed what it proved.
//!
//! A set (`in`) counts as its members, not the span between them (`in [69, 1000]` pins 69
//! about as well as `eq 69`).
//!
//! Limitation (documented in the threat model): exclusions (`ne`, `nin`, `nonbetween`) are not
//! subtracted from the range; leave them out of `allowed_ops` on attributes where excluding a
//! few values from a narrow range would matter.

use std::collections::BTreeMap;

use cosmwasm_std::Storage;
use healthmesh_proofs::statement::{Operator, Predicate};
use healthmesh_types::attestation::PredicatePolicy;

use crate::state::{POLICIES, PROVEN_RANGES};
use crate::ContractError;

/// One attestation to admit: (commitment, attribute, predicate).
pub type Claim<'a> = (&'a [u8], &'a str, &'a Predicate);

/// Admit every claim or none: each is judged against the ranges already proven and those of
/// the claims before it, and the new ranges are written only if all pass — an IBC receive
/// answers a refusal with an error ack, which keeps state, so nothing may be written first.
pub fn admit_all(storage: &mut dyn Storage, claims: &[Claim]) -> Result<(), ContractError> {
    let mut ranges: BTreeMap<(Vec<u8>, String), (u64, u64)> = BTreeMap::new();
    for (commitment, attribute, predicate) in claims {
        let key = (commitment.to_vec(), attribute.to_string());
        let proven = match ranges.get(&key) {
            Some(range) => *range,
            None => PROVEN_RANGES
                .may_load(storage, (commitment, attribute))?
                .unwrap_or((0, u64::MAX)),
        };
        let range = judge(storage, attribute, predicate, proven)?;
        ranges.insert(key, range);
    }
    for ((commitment, attribute), range) in ranges {
        PROVEN_RANGES.save(storage, (commitment.as_slice(), attribute.as_str()), &range)?;
    }
    Ok(())
}

/// The range proven once `predicate` joins `proven`, or why the attribute's policy refuses it.
fn judge(
    storage: &dyn Storage,
    attribute: &str,
    predicate: &Predicate,
    (proven_lo, proven_hi): (u64, u64),
) -> Result<(u64, u64), ContractError> {
    // Ranges are tracked with or without a policy, so a policy set later judges new
    // attestations against everything already proven.
    let (lo, hi) = range(predicate);
    let (lo, hi) = (lo.max(proven_lo), hi.min(proven_hi));
    if let Some(policy) = POLICIES.may_load(storage, attribute)? {
        let op = predicate.op.name();
        if !policy.allowed_ops.is_empty() && !policy.allowed_ops.iter().any(|o| o == op) {
            return Err(ContractError::OperatorNotAllowed {
                attribute: attribute.into(),
                op: op.into(),
            });
        }
        let width = possible_values(predicate, lo, hi);
        if width < policy.min_range as u128 {
            return Err(ContractError::RangeTooNarrow {
                attribute: attribute.into(),
                width: width as u64,
                min: policy.min_range,
            });
        }
    }
    Ok((lo, hi))
}

/// How many values the attestations leave possible within [lo, hi]: a set (`in`) allows
/// only its members, however far apart they are.
fn possible_values(predicate: &Predicate, lo: u64, hi: u64) -> u128 {
    if lo > hi {
        return 0;
    }
    match predicate.op {
        Operator::In => predicate
            .values
            .iter()
            .filter(|v| (lo..=hi).contains(*v))
            .count() as u128,
        _ => (hi - lo) as u128 + 1,
    }
}

/// The smallest interval holding every value that satisfies `p`; exclusions span everything.
fn range(p: &Predicate) -> (u64, u64) {
    let v = &p.values;
    match p.op {
        Operator::Eq => (v[0], v[0]),
        // `lt 0` and `gt MAX` hold for nothing: an empty interval.
        Operator::Lt => v[0].checked_sub(1).map_or((1, 0), |hi| (0, hi)),
        Operator::Lte => (0, v[0]),
        Operator::Gt => v[0].checked_add(1).map_or((1, 0), |lo| (lo, u64::MAX)),
        Operator::Gte => (v[0], u64::MAX),
        Operator::Between => (v[0], v[1]),
        Operator::In => (
            v.iter().copied().min().unwrap_or(0),
            v.iter().copied().max().unwrap_or(u64::MAX),
        ),
        Operator::Ne | Operator::NonBetween | Operator::Nin => (0, u64::MAX),
    }
}

pub fn validate(policy: &PredicatePolicy) -> Result<(), ContractError> {
    for op in &policy.allowed_ops {
        Operator::from_name(op)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_of_every_operator() {
        let p = |op, values: Vec<u64>| Predicate::new(op, values).unwrap();
        assert_eq!(range(&p(Operator::Eq, vec![5])), (5, 5));
        assert_eq!(range(&p(Operator::Lt, vec![70])), (0, 69));
        assert_eq!(range(&p(Operator::Lt, vec![0])), (1, 0));
        assert_eq!(range(&p(Operator::Lte, vec![70])), (0, 70));
        assert_eq!(range(&p(Operator::Gt, vec![u64::MAX])), (1, 0));
        assert_eq!(range(&p(Operator::Gte, vec![18])), (18, u64::MAX));
        assert_eq!(range(&p(Operator::Between, vec![3, 9])), (3, 9));
        assert_eq!(range(&p(Operator::In, vec![9, 2, 4])), (2, 9));
        assert_eq!(range(&p(Operator::Nin, vec![9])), (0, u64::MAX));
    }
}
