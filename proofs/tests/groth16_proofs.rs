//! Real Groth16 proofs: every operator proves and verifies, on both pairing back-ends;
//! tampered proofs, statements and keys are rejected with the same verdict by both.

mod common;

use common::{keys, statement, true_cases};
use cosmwasm_std::testing::MockApi;
use cosmwasm_std::Api;
use healthmesh_proofs::prover::prove;
use healthmesh_proofs::statement::{Operator, Predicate, Statement};
use healthmesh_proofs::verifier::{
    verify_statement, NativePairing, PairingBackend, PreparedVerifyingKey, VerifyingKey, PROOF_LEN,
};
use healthmesh_proofs::Error;

/// cosmwasm-std's host function, as a contract sees it (MockApi implements it natively).
struct HostPairing(MockApi);

impl PairingBackend for HostPairing {
    type Error = cosmwasm_std::VerificationError;
    fn pairing_equality(
        &self,
        ps: &[u8],
        qs: &[u8],
        r: &[u8],
        s: &[u8],
    ) -> Result<bool, Self::Error> {
        self.0.bls12_381_pairing_equality(ps, qs, r, s)
    }
}

/// The verdict of both back-ends and of the prepared-key path, which must all agree.
fn verdict(vk: &VerifyingKey, proof: &[u8], statement: &Statement) -> Result<(), Error> {
    let native = verify_statement(&NativePairing, vk, proof, statement);
    let host = verify_statement(&HostPairing(MockApi::default()), vk, proof, statement);
    let prepared = PreparedVerifyingKey::new(vk).verify_statement(proof, statement);
    assert_eq!(
        prepared.as_ref().map_err(core::mem::discriminant),
        native.as_ref().map_err(core::mem::discriminant),
        "prepared-key verification disagrees"
    );
    match (&native, &host) {
        (Ok(()), Ok(())) | (Err(Error::InvalidProof), Err(Error::InvalidProof)) => {}
        (Err(a), Err(b)) if core::mem::discriminant(a) == core::mem::discriminant(b) => {}
        _ => panic!("back-ends disagree: native {native:?}, host {host:?}"),
    }
    native
}

fn proof_for(statement: &Statement, value: u64) -> [u8; PROOF_LEN] {
    let (_, opening) = common::statement(
        value,
        statement.predicate.op,
        statement.predicate.values.clone(),
    );
    prove(keys(), statement, &opening, &mut rand::rng()).expect("prove")
}

#[test]
fn every_operator_proves_and_verifies_on_both_backends() {
    let vk = keys().verifying_key();
    for (op, values) in true_cases() {
        let (statement, opening) = statement(69, op, values);
        let proof = prove(keys(), &statement, &opening, &mut rand::rng()).unwrap();
        assert_eq!(verdict(&vk, &proof, &statement), Ok(()), "{op:?}");
    }
}

#[test]
fn tampered_proofs_and_statements_are_rejected() {
    let vk = keys().verifying_key();
    let (statement, _) = statement(69, Operator::Lt, vec![70]);
    let proof = proof_for(&statement, 69);
    assert_eq!(verdict(&vk, &proof, &statement), Ok(()));

    // Flipped bytes: either not a valid point any more, or a valid point that fails.
    for at in [0, 47, 48, 100, 143, 144, 191] {
        let mut bad = proof;
        bad[at] ^= 0x01;
        let err = verdict(&vk, &bad, &statement).unwrap_err();
        assert!(
            matches!(err, Error::InvalidProof | Error::InvalidPoint(_)),
            "byte {at}: {err:?}"
        );
    }
    assert!(matches!(
        verdict(&vk, &proof[..191], &statement),
        Err(Error::Length { got: 191, .. })
    ));

    let mut wrong_bound = statement.clone();
    wrong_bound.predicate = Predicate::new(Operator::Lt, vec![71]).unwrap();
    let mut wrong_op = statement.clone();
    wrong_op.predicate = Predicate::new(Operator::Lte, vec![70]).unwrap();
    let mut wrong_commitment = statement.clone();
    wrong_commitment.commitment[0] ^= 1;
    let mut wrong_chain = statement.clone();
    wrong_chain.context.chain_id = "genomics-1".into();
    let mut wrong_consent_contract = statement.clone();
    wrong_consent_contract.context.consent_contract = "wasm1seconddeployment".into();
    let mut wrong_consent = statement.clone();
    wrong_consent.context.consent_id = "8".into();
    let mut wrong_grantee = statement.clone();
    wrong_grantee.context.grantee = "wasm1someoneelse".into();
    let mut wrong_attribute = statement.clone();
    wrong_attribute.attribute = healthmesh_proofs::statement::AttributeCode::new("age").unwrap();
    for (what, s) in [
        ("bound", wrong_bound),
        ("operator", wrong_op),
        ("commitment", wrong_commitment),
        ("chain", wrong_chain),
        ("consent contract", wrong_consent_contract),
        ("consent", wrong_consent),
        ("grantee", wrong_grantee),
        ("attribute", wrong_attribute),
    ] {
        assert_eq!(
            verdict(&vk, &proof, &s),
            Err(Error::InvalidProof),
            "wrong {what} accepted"
        );
    }
}

#[test]
fn a_key_from_another_setup_rejects_the_proof() {
    let (statement, _) = statement(69, Operator::Gte, vec![18]);
    let proof = proof_for(&statement, 69);
    let other = healthmesh_proofs::keys::setup_from_seed(b"another ceremony").unwrap();
    assert_eq!(
        verdict(&other.verifying_key(), &proof, &statement),
        Err(Error::InvalidProof)
    );
}

#[test]
fn the_prover_refuses_false_claims_and_wrong_openings() {
    let (statement, opening) = statement(69, Operator::Gt, vec![69]);
    assert_eq!(
        prove(keys(), &statement, &opening, &mut rand::rng()),
        Err(Error::Unsatisfied)
    );
    let (statement, mut opening) = common::statement(69, Operator::Lt, vec![70]);
    opening.value = 60;
    assert_eq!(
        prove(keys(), &statement, &opening, &mut rand::rng()),
        Err(Error::CommitmentMismatch)
    );
}

#[test]
fn keys_round_trip_and_malformed_encodings_are_refused() {
    let vk = keys().verifying_key();
    let bytes = vk.to_bytes();
    assert_eq!(bytes.len(), 6 + 48 + 3 * 96 + 2 * 48);
    assert_eq!(VerifyingKey::from_bytes(&bytes).unwrap(), vk);

    let mut bad_magic = bytes.clone();
    bad_magic[0] = b'X';
    assert!(matches!(
        VerifyingKey::from_bytes(&bad_magic),
        Err(Error::BadMagic { .. })
    ));
    let mut bad_version = bytes.clone();
    bad_version[4] = 2;
    assert!(matches!(
        VerifyingKey::from_bytes(&bad_version),
        Err(Error::UnsupportedVersion { got: 2, .. })
    ));
    assert!(matches!(
        VerifyingKey::from_bytes(&bytes[..100]),
        Err(Error::Length { .. })
    ));
    let mut bad_point = bytes.clone();
    bad_point[10] ^= 0xff;
    assert!(matches!(
        VerifyingKey::from_bytes(&bad_point),
        Err(Error::InvalidPoint(_))
    ));

    let pk_bytes = keys().to_bytes();
    let pk = healthmesh_proofs::keys::ProvingKey::from_bytes(&pk_bytes).unwrap();
    assert_eq!(pk.verifying_key(), vk);
    let mut bad_pk = pk_bytes.clone();
    bad_pk[4] = 9;
    assert!(matches!(
        healthmesh_proofs::keys::ProvingKey::from_bytes(&bad_pk),
        Err(Error::UnsupportedVersion { got: 9, .. })
    ));
    assert!(matches!(
        healthmesh_proofs::keys::ProvingKey::from_bytes(&pk_bytes[..pk_bytes.len() / 2]),
        Err(Error::Malformed { .. })
    ));
}

#[test]
fn seeded_setup_is_deterministic() {
    let again = healthmesh_proofs::keys::setup_from_seed(b"healthmesh-tests").unwrap();
    assert_eq!(again.verifying_key(), keys().verifying_key());
}

/// Counts what one verification asks of the pairing back-end (on chain: the host function).
struct Counting {
    calls: std::cell::Cell<usize>,
    pairs: std::cell::Cell<usize>,
}

impl PairingBackend for Counting {
    type Error = Error;
    fn pairing_equality(&self, ps: &[u8], qs: &[u8], r: &[u8], s: &[u8]) -> Result<bool, Error> {
        self.calls.set(self.calls.get() + 1);
        // The left-hand pairs plus e(r, s) on the right.
        self.pairs.set(self.pairs.get() + ps.len() / 48 + 1);
        NativePairing.pairing_equality(ps, qs, r, s)
    }
}

#[test]
fn one_verification_costs_one_scalar_multiplication_and_four_pairings() {
    let vk = keys().verifying_key();
    let (statement, _) = statement(69, Operator::Lt, vec![70]);
    let proof = proof_for(&statement, 69);
    let counting = Counting {
        calls: 0.into(),
        pairs: 0.into(),
    };
    verify_statement(&counting, &vk, &proof, &statement).unwrap();
    // G1 scalar multiplications in wasm = public inputs = IC points − 1.
    let scalar_muls = vk.ic.len() - 1;
    println!(
        "verification: {scalar_muls} G1 scalar multiplication(s) in wasm, {} pairing-equality call(s) with {} pairing(s)",
        counting.calls.get(),
        counting.pairs.get()
    );
    assert_eq!(
        (scalar_muls, counting.calls.get(), counting.pairs.get()),
        (1, 1, 4)
    );
}
