//! Fixtures shared by the proofs crate's tests: synthetic statements and one key pair.

#![allow(dead_code)]

use std::sync::OnceLock;

use bls12_381::Scalar;
use healthmesh_proofs::keys::{setup_from_seed, ProvingKey};
use healthmesh_proofs::prover::Opening;
use healthmesh_proofs::statement::{
    commit, subject_key, AttributeCode, Context, Operator, Predicate, Statement,
};

pub fn keys() -> &'static ProvingKey {
    static KEYS: OnceLock<ProvingKey> = OnceLock::new();
    KEYS.get_or_init(|| setup_from_seed(b"healthmesh-tests").expect("setup"))
}

pub fn context() -> Context {
    Context {
        chain_id: "trials-1".into(),
        consent_contract: "wasm1consentcontract".into(),
        consent_id: "7".into(),
        grantee: "wasm1researcherxyz".into(),
    }
}

pub fn opening(value: u64) -> Opening {
    Opening {
        value,
        salt: Scalar::from(0x5eed_5a17u64) * (Scalar::from(value) + Scalar::from(3u64)),
        subject: subject_key("wasm1patientabc"),
    }
}

/// A statement about `value` under `op values`, with the commitment of `opening(value)`.
pub fn statement(value: u64, op: Operator, values: Vec<u64>) -> (Statement, Opening) {
    let attribute = AttributeCode::new("hba1c").unwrap();
    let opening = opening(value);
    let commitment = commit(&attribute, value, &opening.salt, &opening.subject);
    let statement = Statement {
        attribute,
        predicate: Predicate { op, values },
        commitment,
        context: context(),
    };
    (statement, opening)
}

/// A true statement for each operator about HbA1c 6.9 % (69).
pub fn true_cases() -> Vec<(Operator, Vec<u64>)> {
    vec![
        (Operator::Eq, vec![69]),
        (Operator::Ne, vec![70]),
        (Operator::Lt, vec![70]),
        (Operator::Lte, vec![69]),
        (Operator::Gt, vec![68]),
        (Operator::Gte, vec![69]),
        (Operator::Between, vec![65, 69]),
        (Operator::NonBetween, vec![70, 90]),
        (Operator::In, vec![10, 69, 80]),
        (Operator::Nin, vec![10, 68, 70]),
    ]
}
