//! Whether an attested predicate implies a criterion: the values satisfying the attestation
//! must all satisfy the criterion (`hba1c lt 65` implies `hba1c lt 70`; `in {2, 3}` implies
//! `between 1 4`). Satisfying sets are intervals, finite sets or their complements.

use healthmesh_types::trials::{Operator, Predicate};

enum Set {
    /// `[lo, hi]`, empty when `lo > hi`.
    Interval(u64, u64),
    Values(Vec<u64>),
    Complement(Box<Set>),
}

fn set(p: &Predicate) -> Set {
    let v = &p.values;
    let first = v.first().copied().unwrap_or_default();
    let second = v.get(1).copied().unwrap_or_default();
    match p.op {
        Operator::Eq => Set::Interval(first, first),
        Operator::Lt => first
            .checked_sub(1)
            .map_or(Set::Interval(1, 0), |hi| Set::Interval(0, hi)),
        Operator::Lte => Set::Interval(0, first),
        Operator::Gt => first
            .checked_add(1)
            .map_or(Set::Interval(1, 0), |lo| Set::Interval(lo, u64::MAX)),
        Operator::Gte => Set::Interval(first, u64::MAX),
        Operator::Between => Set::Interval(first, second),
        Operator::In => Set::Values(v.clone()),
        Operator::Ne => Set::Complement(Box::new(Set::Interval(first, first))),
        Operator::Nin => Set::Complement(Box::new(Set::Values(v.clone()))),
        Operator::NonBetween => Set::Complement(Box::new(Set::Interval(first, second))),
    }
}

fn contains(s: &Set, x: u64) -> bool {
    match s {
        Set::Interval(lo, hi) => *lo <= x && x <= *hi,
        Set::Values(vs) => vs.contains(&x),
        Set::Complement(inner) => !contains(inner, x),
    }
}

/// Most values of an interval enumerated to compare it with a finite set.
const MAX_ENUMERATED: u64 = 64;

/// `a ⊆ b`, exactly for the shapes predicates make.
fn subset(a: &Set, b: &Set) -> bool {
    match (a, b) {
        (Set::Interval(lo, hi), _) if lo > hi => false, // nothing can be proven of it
        (Set::Interval(a_lo, a_hi), Set::Interval(b_lo, b_hi)) => b_lo <= a_lo && a_hi <= b_hi,
        (Set::Interval(lo, hi), Set::Values(_)) => {
            hi - lo < MAX_ENUMERATED && (*lo..=*hi).all(|x| contains(b, x))
        }
        (Set::Values(vs), _) => !vs.is_empty() && vs.iter().all(|x| contains(b, *x)),
        (_, Set::Complement(excluded)) => disjoint(a, excluded),
        (Set::Complement(_), _) => false, // unbounded: never inside a bounded set
    }
}

/// `a ∩ b = ∅`.
fn disjoint(a: &Set, b: &Set) -> bool {
    match (a, b) {
        (Set::Interval(a_lo, a_hi), Set::Interval(b_lo, b_hi)) => a_hi < b_lo || b_hi < a_lo,
        (Set::Values(vs), other) | (other, Set::Values(vs)) => {
            !vs.iter().any(|x| contains(other, *x))
        }
        // a ∩ ¬y = ∅ ⇔ a ⊆ y.
        (other, Set::Complement(y)) | (Set::Complement(y), other) => subset(other, y),
    }
}

/// Does proving `attested` show `criterion`?
pub fn implies(attested: &Predicate, criterion: &Predicate) -> bool {
    attested == criterion || subset(&set(attested), &set(criterion))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(op: Operator, values: &[u64]) -> Predicate {
        Predicate {
            op,
            values: values.to_vec(),
        }
    }

    #[test]
    fn implication_by_operator() {
        use Operator::*;
        let yes = [
            (p(Lt, &[65]), p(Lt, &[70])),
            (p(Lt, &[70]), p(Lte, &[69])),
            (p(Between, &[20, 40]), p(Gte, &[18])),
            (p(Eq, &[30]), p(Between, &[18, 65])),
            (p(In, &[2, 3]), p(Between, &[1, 4])),
            (p(In, &[2]), p(In, &[2, 3])),
            (p(Between, &[2, 3]), p(In, &[1, 2, 3])),
            (p(Gte, &[18]), p(Ne, &[5])),
            (p(In, &[1, 9]), p(Nin, &[4, 5])),
            (p(Lt, &[10]), p(NonBetween, &[10, 20])),
            (p(Nin, &[1, 2]), p(Nin, &[1])),
            (p(Gt, &[17]), p(Gte, &[18])),
        ];
        for (attested, criterion) in yes {
            assert!(
                implies(&attested, &criterion),
                "{attested:?} ⇒ {criterion:?}"
            );
        }
        let no = [
            (p(Lt, &[75]), p(Lt, &[70])),
            (p(Gte, &[16]), p(Gte, &[18])),
            (p(In, &[2, 5]), p(Between, &[1, 4])),
            (p(Between, &[0, 1000]), p(In, &[1, 2])),
            (p(Ne, &[5]), p(Gte, &[18])),
            (p(Between, &[4, 9]), p(Nin, &[5])),
            (p(Nin, &[1]), p(Nin, &[1, 2])),
            (p(Lt, &[0]), p(Lt, &[70])),
        ];
        for (attested, criterion) in no {
            assert!(
                !implies(&attested, &criterion),
                "{attested:?} ⇏ {criterion:?}"
            );
        }
    }
}
