//! Batch verification (random linear combination, one pairing-equality call of n + 3
//! pairs): sound, equal to the single check for one proof, and refusing hostile batches.

mod common;

use bls12_381::{G1Affine, G1Projective, Scalar};
use common::{keys, statement, true_cases};
use cosmwasm_std::testing::MockApi;
use cosmwasm_std::Api;
use group::Curve;
use healthmesh_proofs::batch::{
    coefficients, pairing_arguments, pairing_arguments_with, verify_batch, BatchItem, MAX_BATCH,
};
use healthmesh_proofs::prover::prove;
use healthmesh_proofs::statement::Statement;
use healthmesh_proofs::verifier::{NativePairing, PairingBackend, PairingKey, PROOF_LEN};
use healthmesh_proofs::Error;

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

/// Counts the pairs of each call.
struct Counting(std::cell::RefCell<Vec<usize>>);

impl PairingBackend for Counting {
    type Error = Error;
    fn pairing_equality(&self, ps: &[u8], qs: &[u8], r: &[u8], s: &[u8]) -> Result<bool, Error> {
        self.0.borrow_mut().push(ps.len() / 48 + 1);
        NativePairing.pairing_equality(ps, qs, r, s)
    }
}

/// Ten true statements (every operator) with their proofs and public inputs.
fn batch() -> Vec<(Statement, [u8; PROOF_LEN], Vec<Scalar>)> {
    true_cases()
        .into_iter()
        .map(|(op, values)| {
            let (statement, opening) = statement(69, op, values);
            let proof = prove(keys(), &statement, &opening, &mut rand::rng()).unwrap();
            let inputs = vec![statement.public_input().unwrap()];
            (statement, proof, inputs)
        })
        .collect()
}

fn items(batch: &[(Statement, [u8; PROOF_LEN], Vec<Scalar>)]) -> Vec<BatchItem<'_>> {
    batch
        .iter()
        .map(|(_, proof, inputs)| BatchItem {
            proof,
            public_inputs: inputs,
        })
        .collect()
}

fn key() -> PairingKey {
    PairingKey::new(&keys().verifying_key())
}

/// Both back-ends' verdicts, which must agree.
fn verdict(items: &[BatchItem]) -> Result<(), Error> {
    let key = key();
    let native = verify_batch(&NativePairing, &key, items);
    let host = verify_batch(&HostPairing(MockApi::default()), &key, items);
    assert_eq!(
        native.is_ok(),
        host.is_ok(),
        "native {native:?}, host {host:?}"
    );
    native
}

#[test]
fn a_batch_of_valid_proofs_verifies_with_one_call_of_n_plus_3_pairs() {
    let batch = batch();
    let items = items(&batch);
    assert_eq!(verdict(&items), Ok(()));
    let counting = Counting(Default::default());
    verify_batch(&counting, &key(), &items).unwrap();
    assert_eq!(*counting.0.borrow(), vec![items.len() + 3]);
}

#[test]
fn one_bad_proof_rejects_the_whole_batch() {
    let batch = batch();
    for bad in [0, 4, batch.len() - 1] {
        let mut items = items(&batch);
        // A valid proof of another statement: each point is fine, the proof is not.
        let other = (bad + 1) % batch.len();
        items[bad].proof = &batch[other].1;
        assert_eq!(
            verdict(&items),
            Err(Error::InvalidProof),
            "bad proof at {bad}"
        );
        // And a statement (public input) that is not the one proven.
        let mut items = self::items(&batch);
        items[bad].public_inputs = &batch[other].2;
        assert_eq!(
            verdict(&items),
            Err(Error::InvalidProof),
            "bad input at {bad}"
        );
    }
}

#[test]
fn a_batch_of_one_is_exactly_the_single_proof_check() {
    let batch = batch();
    let (_, proof, inputs) = &batch[2];
    let vk = keys().verifying_key();
    let args = pairing_arguments(
        &key(),
        &[BatchItem {
            proof,
            public_inputs: inputs,
        }],
    )
    .unwrap();
    // The single check e(A,B)·e(L,−γ)·e(C,−δ) = e(α,β), with L = IC₀ + x·IC₁ computed by the
    // bls12_381 crate's own (constant-time) multiplication.
    let l = (G1Projective::from(vk.ic[0]) + vk.ic[1] * inputs[0]).to_affine();
    let mut ps = proof[..48].to_vec();
    ps.extend(l.to_compressed());
    ps.extend(&proof[144..]);
    let mut qs = proof[48..144].to_vec();
    qs.extend((-vk.gamma_g2).to_compressed());
    qs.extend((-vk.delta_g2).to_compressed());
    assert_eq!(args.ps, ps);
    assert_eq!(args.qs, qs);
    assert_eq!(args.r, vk.alpha_g1.to_compressed());
    assert_eq!(args.s, vk.beta_g2.to_compressed());
    assert_eq!(coefficients(&key(), &items(&batch[2..3])), vec![1]);
}

/// Two invalid proofs whose errors cancel: C₁ + Δ and C₂ − Δ. Summed with coefficients the
/// submitter can predict (here all 1) they pass; with the derived coefficients they fail.
#[test]
fn coefficients_the_submitter_can_predict_would_be_unsound() {
    let batch = batch();
    let delta = G1Affine::generator();
    let shift = |proof: &[u8; PROOF_LEN], sign: bool| {
        let c = G1Affine::from_compressed(proof[144..].try_into().unwrap()).unwrap();
        let moved = if sign {
            G1Projective::from(c) + delta
        } else {
            G1Projective::from(c) - delta
        };
        let mut out = *proof;
        out[144..].copy_from_slice(&moved.to_affine().to_compressed());
        out
    };
    let forged = [shift(&batch[0].1, true), shift(&batch[1].1, false)];
    let items: Vec<BatchItem> = forged
        .iter()
        .zip(&batch)
        .map(|(proof, (_, _, inputs))| BatchItem {
            proof,
            public_inputs: inputs,
        })
        .collect();
    for item in &items {
        assert_eq!(
            verdict(std::slice::from_ref(item)),
            Err(Error::InvalidProof)
        );
    }
    let naive = pairing_arguments_with(&key(), &items, &[1, 1]).unwrap();
    assert_eq!(
        NativePairing.pairing_equality(&naive.ps, &naive.qs, &naive.r, &naive.s),
        Ok(true),
        "fixed coefficients accept the forged pair"
    );
    assert_eq!(verdict(&items), Err(Error::InvalidProof));
}

#[test]
fn coefficients_depend_on_every_proof_and_input() {
    let batch = batch();
    let items = items(&batch);
    let base = coefficients(&key(), &items);
    assert_eq!(base[0], 1);
    assert!(
        base[1..].iter().all(|r| *r > 1 << 64),
        "128-bit coefficients"
    );
    let mut swapped = items.clone();
    swapped[7].proof = &batch[8].1;
    let mut other_input = items.clone();
    other_input[3].public_inputs = &batch[4].2;
    for changed in [swapped, other_input] {
        let r = coefficients(&key(), &changed);
        assert!(base.iter().zip(&r).skip(1).all(|(a, b)| a != b));
    }
}

#[test]
fn hostile_batches_are_refused_before_any_pairing() {
    let batch = batch();
    let key = key();
    let counting = Counting(Default::default());
    assert_eq!(verify_batch(&counting, &key, &[]), Err(Error::EmptyBatch));
    let many = vec![items(&batch)[0]; MAX_BATCH + 1];
    assert_eq!(
        verify_batch(&counting, &key, &many),
        Err(Error::BatchTooLarge {
            max: MAX_BATCH,
            got: MAX_BATCH + 1
        })
    );
    let short = [0u8; 191];
    let mut items = items(&batch);
    items[5].proof = &short;
    assert!(matches!(
        verify_batch(&counting, &key, &items),
        Err(Error::Length { field: "proof", .. })
    ));
    // A proof for a circuit with another number of public inputs.
    let two = [Scalar::one(), Scalar::one()];
    let mut items = self::items(&batch);
    items[1].public_inputs = &two;
    assert_eq!(
        verify_batch(&counting, &key, &items),
        Err(Error::InputCount { ic: 2, inputs: 2 })
    );
    // An x with no point on the curve (A of the second proof).
    let off_curve = (1u64..)
        .find_map(|x| {
            let mut bytes = [0u8; 48];
            bytes[40..].copy_from_slice(&x.to_be_bytes());
            bytes[0] |= 0x80;
            bool::from(G1Affine::from_compressed_unchecked(&bytes).is_none()).then_some(bytes)
        })
        .unwrap();
    let mut garbage = batch[1].1;
    garbage[..48].copy_from_slice(&off_curve);
    let mut items = self::items(&batch);
    items[1].proof = &garbage;
    assert_eq!(
        verify_batch(&counting, &key, &items),
        Err(Error::InvalidPoint("proof A"))
    );
    assert!(counting.0.borrow().is_empty(), "no pairing was computed");
}

#[test]
fn the_pairing_key_round_trips_through_its_encoding() {
    let key = key();
    let bytes = key.to_bytes();
    assert_eq!(PairingKey::from_trusted_bytes(&bytes), Ok(key.clone()));
    assert!(PairingKey::from_trusted_bytes(&bytes[..bytes.len() - 1]).is_err());
    let mut wrong_magic = bytes.clone();
    wrong_magic[0] = b'X';
    assert!(PairingKey::from_trusted_bytes(&wrong_magic).is_err());
}

/// An on-curve G1 point outside the prime-order subgroup (almost every curve point is).
fn torsion_point() -> [u8; 48] {
    (1u64..)
        .find_map(|x| {
            let mut bytes = [0u8; 48];
            bytes[40..].copy_from_slice(&x.to_be_bytes());
            bytes[0] |= 0x80;
            let on_curve = bool::from(G1Affine::from_compressed_unchecked(&bytes).is_some());
            let in_group = bool::from(G1Affine::from_compressed(&bytes).is_some());
            (on_curve && !in_group).then_some(bytes)
        })
        .unwrap()
}

#[test]
fn points_outside_the_subgroup_are_refused_by_the_pairing_check() {
    let batch = batch();
    let torsion = torsion_point();
    for (at, offset) in [(0, 0), (1, 0), (1, 144), (0, 144)] {
        let mut proof = batch[at].1;
        proof[offset..offset + 48].copy_from_slice(&torsion);
        let mut items = items(&batch);
        items[at].proof = &proof;
        let native = verify_batch(&NativePairing, &key(), &items);
        let host = verify_batch(&HostPairing(MockApi::default()), &key(), &items);
        for verdict in [native, host] {
            assert!(
                matches!(
                    verdict,
                    Err(Error::InvalidPoint(_)) | Err(Error::InvalidProof)
                ),
                "proof {at}, offset {offset}: {verdict:?}"
            );
        }
    }
}
