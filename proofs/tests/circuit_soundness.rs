//! The circuit accepts exactly the true statements: checked on bellman's test constraint
//! system, which reports whether a witness satisfies every constraint.

mod common;

use bellman::gadgets::test::TestConstraintSystem;
use bellman::Circuit;
use bls12_381::Scalar;
use common::{statement, true_cases};
use ff::Field;
use healthmesh_proofs::circuit::{Assignment, PredicateCircuit};
use healthmesh_proofs::statement::{Operator, Predicate};

fn synthesize(assignment: Assignment) -> TestConstraintSystem<Scalar> {
    let mut cs = TestConstraintSystem::new();
    PredicateCircuit {
        assignment: Some(assignment),
    }
    .synthesize(&mut cs)
    .expect("synthesis");
    cs
}

fn satisfied(value: u64, op: Operator, values: Vec<u64>) -> bool {
    let (statement, opening) = statement(value, op, values);
    let cs = synthesize(Assignment::new(
        &statement,
        value,
        opening.salt,
        opening.subject,
    ));
    cs.is_satisfied()
}

#[test]
fn public_input_is_the_native_statement_hash() {
    for (op, values) in true_cases() {
        let (statement, opening) = statement(69, op, values);
        let mut cs = synthesize(Assignment::new(
            &statement,
            69,
            opening.salt,
            opening.subject,
        ));
        assert!(cs.is_satisfied(), "{op:?}: {:?}", cs.which_is_unsatisfied());
        assert_eq!(
            cs.get_input(1, "statement hash"),
            statement.public_input().unwrap()
        );
    }
}

#[test]
fn every_operator_accepts_true_and_rejects_false_statements() {
    let false_cases = [
        (Operator::Eq, vec![70]),
        (Operator::Ne, vec![69]),
        (Operator::Lt, vec![69]),
        (Operator::Lte, vec![68]),
        (Operator::Gt, vec![69]),
        (Operator::Gte, vec![70]),
        (Operator::Between, vec![70, 90]),
        (Operator::NonBetween, vec![60, 69]),
        (Operator::In, vec![10, 68, 70]),
        (Operator::Nin, vec![10, 69, 80]),
    ];
    for ((op, yes), (op_false, no)) in true_cases().into_iter().zip(false_cases) {
        assert_eq!(op, op_false);
        assert!(Predicate {
            op,
            values: yes.clone()
        }
        .holds(69));
        assert!(satisfied(69, op, yes), "{op:?} true statement rejected");
        assert!(!Predicate {
            op,
            values: no.clone()
        }
        .holds(69));
        assert!(!satisfied(69, op, no), "{op:?} false statement accepted");
    }
}

#[test]
fn edges_of_the_u64_range_and_of_bounds() {
    let max = u64::MAX;
    let cases: Vec<(u64, Operator, Vec<u64>)> = vec![
        (0, Operator::Eq, vec![0]),
        (max, Operator::Eq, vec![max]),
        (0, Operator::Lt, vec![1]),
        (max - 1, Operator::Lt, vec![max]),
        (max, Operator::Gt, vec![max - 1]),
        (max, Operator::Gte, vec![max]),
        (0, Operator::Lte, vec![0]),
        (0, Operator::Gte, vec![0]),
        (0, Operator::Between, vec![0, max]),
        (max, Operator::Between, vec![0, max]),
        (5, Operator::Between, vec![5, 5]),
        (0, Operator::NonBetween, vec![1, max]),
        (max, Operator::NonBetween, vec![0, max - 1]),
        (max, Operator::In, vec![max]),
        (0, Operator::Nin, vec![1, max]),
    ];
    for (value, op, values) in cases {
        let holds = Predicate {
            op,
            values: values.clone(),
        }
        .holds(value);
        assert!(holds, "test case {value} {op:?} {values:?} must be true");
        assert!(
            satisfied(value, op, values.clone()),
            "{value} {op:?} {values:?}"
        );
    }
    // And just across each edge, false.
    let false_cases: Vec<(u64, Operator, Vec<u64>)> = vec![
        (0, Operator::Lt, vec![0]),
        (max, Operator::Lt, vec![max]),
        (max, Operator::Gt, vec![max]),
        (0, Operator::Gt, vec![0]),
        (max, Operator::Lte, vec![max - 1]),
        (4, Operator::Between, vec![5, 5]),
        (6, Operator::Between, vec![5, 5]),
        (5, Operator::NonBetween, vec![5, 5]),
        (max, Operator::Nin, vec![max]),
    ];
    for (value, op, values) in false_cases {
        assert!(
            !satisfied(value, op, values.clone()),
            "{value} {op:?} {values:?} accepted"
        );
    }
}

/// A witness that lies about the value outside u64, or about the operator, is rejected even
/// when the statement hash is consistent with it.
#[test]
fn out_of_range_witnesses_and_unknown_operators_are_unsatisfiable() {
    let (statement, opening) = statement(69, Operator::Lt, vec![70]);
    let mut bad_op = Assignment::new(&statement, 69, opening.salt, opening.subject);
    bad_op.op = 10;
    assert!(!synthesize(bad_op).is_satisfied());

    // The opening must match: another salt gives another commitment, so the statement hash
    // (and the public input) changes; the native statement no longer matches.
    let mut other_salt =
        Assignment::new(&statement, 69, opening.salt + Scalar::ONE, opening.subject);
    let mut cs = synthesize(other_salt.clone());
    assert!(
        cs.is_satisfied(),
        "a consistent but different witness is a different statement"
    );
    assert_ne!(
        cs.get_input(1, "statement hash"),
        statement.public_input().unwrap()
    );
    other_salt.salt = opening.salt;
    let mut cs = synthesize(other_salt);
    assert_eq!(
        cs.get_input(1, "statement hash"),
        statement.public_input().unwrap()
    );
}

#[test]
fn constraint_count_is_stable() {
    let (statement, opening) = statement(69, Operator::Lt, vec![70]);
    let cs = synthesize(Assignment::new(
        &statement,
        69,
        opening.salt,
        opening.subject,
    ));
    // 4 Poseidon permutations (1 commitment + 3 statement) at 300 constraints each, a 64-bit
    // range check, two 65-bit comparisons and the operator selection.
    let n = cs.num_constraints();
    println!("constraints: {n}");
    assert!((1_400..1_500).contains(&n), "constraint count changed: {n}");
}
