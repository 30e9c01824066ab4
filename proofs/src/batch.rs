//! Batch verification of Groth16 proofs under one key, with a random linear combination.
//!
//! Each proof j must satisfy `e(Aⱼ,Bⱼ)·e(Lⱼ,−γ)·e(Cⱼ,−δ) = e(α,β)`. Raising equation j to a
//! coefficient rⱼ and multiplying them all gives one check with n + 3 pairings:
//!
//! `∏ e(rⱼAⱼ, Bⱼ) · e(Σ rⱼLⱼ, −γ) · e(Σ rⱼCⱼ, −δ) = e((Σ rⱼ)·α, β)`
//!
//! If any proof is invalid, the combined check passes only if the coefficients happen to
//! cancel its error: with 128-bit coefficients a submitter cannot choose, that has
//! probability ≈ 2⁻¹²⁸. The coefficients are derived (Fiat–Shamir) from the key and every
//! proof and public input of the batch, so changing any of them changes all coefficients.
//! r₀ = 1, which makes a batch of one *exactly* the single-proof check.
//!
//! Work in wasm: one square root (decompression, no subgroup check: see `g1_on_curve`) and
//! one 128-bit multiplication per proof (rⱼAⱼ); one interleaved pass for
//! Σ rⱼCⱼ; and `Σ rⱼLⱼ = (Σ rⱼ)·IC₀ + Σᵢ (Σⱼ rⱼxⱼᵢ)·ICᵢ`, computed on scalars first, so the
//! public inputs cost one multiplication per input of the circuit whatever the batch size.
//! Bⱼ, −γ, −δ and β go to the host function compressed and are never decoded in wasm.

use alloc::vec;
use alloc::vec::Vec;
use bls12_381::{G1Affine, G1Projective, Scalar};
use sha2::{Digest, Sha256};

use crate::verifier::{PairingBackend, PairingKey, G1_LEN, G2_LEN, PROOF_LEN};
use crate::Error;

/// Most proofs one batch may hold (bounds the work of one transaction or packet).
pub const MAX_BATCH: usize = 64;
const TRANSCRIPT_DOMAIN: &[u8] = b"healthmesh.groth16.batch.v1";

/// One proof (192 bytes, `A | B | C` compressed) and its public inputs.
#[derive(Clone, Copy, Debug)]
pub struct BatchItem<'a> {
    pub proof: &'a [u8],
    pub public_inputs: &'a [Scalar],
}

/// Verify every proof of `items` under `key` with one pairing-equality call of
/// `items.len() + 3` pairs. Any invalid proof rejects the whole batch.
pub fn verify_batch<B: PairingBackend>(
    backend: &B,
    key: &PairingKey,
    items: &[BatchItem],
) -> Result<(), Error> {
    let args = pairing_arguments(key, items)?;
    // Every point was built here or checked at key registration except the proofs' own:
    // the host refusing a point means a proof's A, B or C is not a valid subgroup point.
    let equal = backend
        .pairing_equality(&args.ps, &args.qs, &args.r, &args.s)
        .map_err(|_| Error::InvalidPoint("a proof point (A, B or C)"))?;
    if equal {
        Ok(())
    } else {
        Err(Error::InvalidProof)
    }
}

/// The arguments of the one pairing-equality call that checks a batch:
/// `∏ e(psᵢ, qsᵢ) == e(r, s)`, points compressed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PairingArguments {
    pub ps: Vec<u8>,
    pub qs: Vec<u8>,
    pub r: Vec<u8>,
    pub s: Vec<u8>,
}

pub fn pairing_arguments(key: &PairingKey, items: &[BatchItem]) -> Result<PairingArguments, Error> {
    check(key, items)?;
    pairing_arguments_with(key, items, &coefficients(key, items))
}

fn check(key: &PairingKey, items: &[BatchItem]) -> Result<(), Error> {
    if items.is_empty() {
        return Err(Error::EmptyBatch);
    }
    if items.len() > MAX_BATCH {
        return Err(Error::BatchTooLarge {
            max: MAX_BATCH,
            got: items.len(),
        });
    }
    for item in items {
        if item.proof.len() != PROOF_LEN {
            return Err(Error::Length {
                field: "proof",
                expected: PROOF_LEN,
                got: item.proof.len(),
            });
        }
        if key.ic.len() != item.public_inputs.len() + 1 {
            return Err(Error::InputCount {
                ic: key.ic.len(),
                inputs: item.public_inputs.len(),
            });
        }
    }
    Ok(())
}

/// The batch check for a *given* choice of coefficients. Only the derived
/// [`coefficients`] make it sound; this exists to show, in tests, why.
pub fn pairing_arguments_with(
    key: &PairingKey,
    items: &[BatchItem],
    r: &[u128],
) -> Result<PairingArguments, Error> {
    check(key, items)?;
    if r.len() != items.len() {
        return Err(Error::Length {
            field: "batch coefficients",
            expected: items.len(),
            got: r.len(),
        });
    }

    // Points computed in wasm, normalized together (one field inversion): rⱼAⱼ (j ≥ 1),
    // Σ rⱼLⱼ, and — for more than one proof — Σ rⱼCⱼ and (Σ rⱼ)·α.
    let mut computed: Vec<G1Projective> = Vec::with_capacity(items.len() + 2);
    for (item, rj) in items.iter().zip(r).skip(1) {
        let point = g1_on_curve(a(item.proof), "proof A")?;
        computed.push(mul_vartime(&point, &rj.to_le_bytes()));
    }
    computed.push(combined_inputs(key, items, r));
    if items.len() > 1 {
        let cs = items
            .iter()
            .map(|item| g1_on_curve(c(item.proof), "proof C"))
            .collect::<Result<Vec<_>, _>>()?;
        computed.push(multi_mul_u128(&cs, r));
        let sum: Scalar = r.iter().map(|rj| scalar_u128(*rj)).sum();
        computed.push(mul_vartime(&key.alpha, &sum.to_bytes()));
    }
    let mut affine = vec![G1Affine::identity(); computed.len()];
    G1Projective::batch_normalize(&computed, &mut affine);

    let n = items.len();
    let mut ps = Vec::with_capacity((n + 2) * G1_LEN);
    let mut qs = Vec::with_capacity((n + 2) * G2_LEN);
    ps.extend_from_slice(a(items[0].proof));
    for point in &affine[..n - 1] {
        ps.extend_from_slice(&point.to_compressed());
    }
    ps.extend_from_slice(&affine[n - 1].to_compressed());
    let (c_sum, alpha) = if n == 1 {
        (
            c(items[0].proof).to_vec(),
            key.alpha.to_compressed().to_vec(),
        )
    } else {
        (
            affine[n].to_compressed().to_vec(),
            affine[n + 1].to_compressed().to_vec(),
        )
    };
    ps.extend_from_slice(&c_sum);
    for item in items {
        qs.extend_from_slice(b(item.proof));
    }
    qs.extend_from_slice(&key.neg_gamma);
    qs.extend_from_slice(&key.neg_delta);
    Ok(PairingArguments {
        ps,
        qs,
        r: alpha,
        s: key.beta.to_vec(),
    })
}

/// A compressed G1 point on the curve, *without* the subgroup check (which costs wasm about
/// three times the square root): Aⱼ and Cⱼ only enter the check through rⱼAⱼ and Σ rⱼCⱼ,
/// which the host function checks for subgroup membership. A torsion component that
/// survives into those points is refused there; one that vanishes (rⱼT = 0) leaves exactly
/// the check of the subgroup parts, which are then a valid proof — nothing is accepted that
/// a valid proof does not back.
fn g1_on_curve(bytes: &[u8], field: &'static str) -> Result<G1Affine, Error> {
    let arr: &[u8; G1_LEN] = bytes.try_into().map_err(|_| Error::Length {
        field,
        expected: G1_LEN,
        got: bytes.len(),
    })?;
    Option::from(G1Affine::from_compressed_unchecked(arr)).ok_or(Error::InvalidPoint(field))
}

fn a(proof: &[u8]) -> &[u8] {
    &proof[..G1_LEN]
}

fn b(proof: &[u8]) -> &[u8] {
    &proof[G1_LEN..G1_LEN + G2_LEN]
}

fn c(proof: &[u8]) -> &[u8] {
    &proof[G1_LEN + G2_LEN..]
}

/// r₀ = 1; rⱼ = the first 16 bytes of SHA-256(seed ‖ j), seed = SHA-256 of the key id and
/// every proof and public input, in order. Never zero.
pub fn coefficients(key: &PairingKey, items: &[BatchItem]) -> Vec<u128> {
    let mut transcript = Sha256::new();
    transcript.update(TRANSCRIPT_DOMAIN);
    transcript.update(key.id);
    transcript.update((items.len() as u64).to_be_bytes());
    for item in items {
        transcript.update(item.proof);
        for x in item.public_inputs {
            transcript.update(x.to_bytes());
        }
    }
    let seed = transcript.finalize();
    (0..items.len() as u64)
        .map(|j| {
            if j == 0 {
                return 1;
            }
            let digest = Sha256::new()
                .chain_update(seed)
                .chain_update(j.to_be_bytes())
                .finalize();
            let mut low = [0u8; 16];
            low.copy_from_slice(&digest[..16]);
            u128::from_le_bytes(low).max(1)
        })
        .collect()
}

/// `Σⱼ rⱼ·Lⱼ` with `Lⱼ = IC₀ + Σᵢ xⱼᵢ·ICᵢ`: the scalars are combined first, so this costs
/// one multiplication per IC point whatever the batch size (none for IC₀ in a batch of one).
fn combined_inputs(key: &PairingKey, items: &[BatchItem], r: &[u128]) -> G1Projective {
    let mut scalars = vec![Scalar::zero(); key.ic.len()];
    for (item, rj) in items.iter().zip(r) {
        let rj = scalar_u128(*rj);
        scalars[0] += rj;
        for (acc, x) in scalars[1..].iter_mut().zip(item.public_inputs) {
            *acc += rj * x;
        }
    }
    key.ic
        .iter()
        .zip(&scalars)
        .map(|(p, k)| {
            if *k == Scalar::one() {
                G1Projective::from(p)
            } else {
                mul_vartime(p, &k.to_bytes())
            }
        })
        .sum()
}

fn scalar_u128(k: u128) -> Scalar {
    Scalar::from_raw([k as u64, (k >> 64) as u64, 0, 0])
}

/// `k·p` by double-and-add from the top set bit of `k` (little-endian bytes). Variable
/// time: every input here is public, and skipping the leading zeros halves the work for
/// 128-bit coefficients.
pub fn mul_vartime(p: &G1Affine, k_le: &[u8]) -> G1Projective {
    multi_mul(&[(p, k_le)])
}

/// `Σ kⱼ·pⱼ` for 128-bit `kⱼ`, sharing the doublings (Straus).
fn multi_mul_u128(points: &[G1Affine], ks: &[u128]) -> G1Projective {
    let ks: Vec<[u8; 16]> = ks.iter().map(|k| k.to_le_bytes()).collect();
    let terms: Vec<(&G1Affine, &[u8])> = points.iter().zip(ks.iter().map(|k| &k[..])).collect();
    multi_mul(&terms)
}

fn multi_mul(terms: &[(&G1Affine, &[u8])]) -> G1Projective {
    let bits = terms.iter().map(|(_, k)| k.len() * 8).max().unwrap_or(0);
    let bit = |k: &[u8], i: usize| k.get(i / 8).is_some_and(|byte| (byte >> (i % 8)) & 1 == 1);
    let mut acc = G1Projective::identity();
    let mut started = false;
    for i in (0..bits).rev() {
        if started {
            acc = acc.double();
        }
        for (p, k) in terms {
            if bit(k, i) {
                acc = acc.add_mixed(p);
                started = true;
            }
        }
    }
    acc
}
