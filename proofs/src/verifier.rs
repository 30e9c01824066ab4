//! The Groth16 verifier, `no_std`, for contracts and native code alike.
//!
//! The check `e(A,B) = e(α,β)·e(L,γ)·e(C,δ)`, with `L = IC₀ + Σ xᵢ·ICᵢ`, is rewritten as
//! `e(A,B)·e(L,−γ)·e(C,−δ) = e(α,β)`: one *pairing equality* over compressed points, the exact
//! shape of cosmwasm-std's `Api::bls12_381_pairing_equality(ps, qs, r, s)`. A contract plugs
//! that host function in through [`PairingBackend`]; native code uses [`NativePairing`]. Only
//! the public-input combination `L` (one G1 scalar multiplication per input) runs in wasm.

use alloc::string::ToString;
use alloc::vec::Vec;
use bls12_381::{G1Affine, G1Projective, G2Affine, G2Prepared, Gt, Scalar};
use core::fmt::Display;
use group::Curve;
use pairing::MultiMillerLoop;
use sha2::{Digest, Sha256};

use crate::statement::Statement;
use crate::Error;

pub const G1_LEN: usize = 48;
pub const G2_LEN: usize = 96;
/// A Groth16 proof: A (G1), B (G2), C (G1), compressed.
pub const PROOF_LEN: usize = G1_LEN + G2_LEN + G1_LEN;
const VK_MAGIC: &[u8; 4] = b"HMVK";
const VK_VERSION: u8 = 1;
const VK_HEADER: usize = 4 + 1 + 1;

/// Computes `e(p₁,q₁)·…·e(pₙ,qₙ) == e(r,s)` over compressed points (48-byte G1 in `ps`/`r`,
/// 96-byte G2 in `qs`/`s`), like cosmwasm-std's `bls12_381_pairing_equality`.
pub trait PairingBackend {
    type Error: Display;
    fn pairing_equality(
        &self,
        ps: &[u8],
        qs: &[u8],
        r: &[u8],
        s: &[u8],
    ) -> Result<bool, Self::Error>;

    /// The same check on decoded points. The default compresses them for
    /// [`pairing_equality`](Self::pairing_equality); native back-ends skip the round trip.
    fn pairing_equality_points(
        &self,
        ps: &[G1Affine],
        qs: &[G2Affine],
        r: &G1Affine,
        s: &G2Affine,
    ) -> Result<bool, Self::Error> {
        let ps: Vec<u8> = ps.iter().flat_map(|p| p.to_compressed()).collect();
        let qs: Vec<u8> = qs.iter().flat_map(|q| q.to_compressed()).collect();
        self.pairing_equality(&ps, &qs, &r.to_compressed(), &s.to_compressed())
    }
}

/// The pairing of the `bls12_381` crate, for native verification.
pub struct NativePairing;

impl PairingBackend for NativePairing {
    type Error = Error;

    fn pairing_equality(&self, ps: &[u8], qs: &[u8], r: &[u8], s: &[u8]) -> Result<bool, Error> {
        if ps.len() % G1_LEN != 0
            || qs.len() % G2_LEN != 0
            || ps.len() / G1_LEN != qs.len() / G2_LEN
        {
            return Err(Error::Length {
                field: "pairing inputs",
                expected: ps.len() / G1_LEN * G2_LEN,
                got: qs.len(),
            });
        }
        let ps: Vec<G1Affine> = ps
            .chunks(G1_LEN)
            .map(|p| g1(p, "pairing p"))
            .collect::<Result<_, _>>()?;
        let qs: Vec<G2Affine> = qs
            .chunks(G2_LEN)
            .map(|q| g2(q, "pairing q"))
            .collect::<Result<_, _>>()?;
        self.pairing_equality_points(&ps, &qs, &g1(r, "pairing r")?, &g2(s, "pairing s")?)
    }

    /// `∏ e(pᵢ,qᵢ) · e(−r,s) = 1` with one multi-Miller loop and one final exponentiation.
    fn pairing_equality_points(
        &self,
        ps: &[G1Affine],
        qs: &[G2Affine],
        r: &G1Affine,
        s: &G2Affine,
    ) -> Result<bool, Error> {
        let neg_r = -r;
        let prepared: Vec<G2Prepared> =
            qs.iter().chain([s]).map(|q| G2Prepared::from(*q)).collect();
        let terms: Vec<(&G1Affine, &G2Prepared)> =
            ps.iter().chain([&neg_r]).zip(prepared.iter()).collect();
        let result: Gt = bls12_381::Bls12::multi_miller_loop(&terms).final_exponentiation();
        Ok(result == Gt::identity())
    }
}

pub(crate) fn g1(bytes: &[u8], field: &'static str) -> Result<G1Affine, Error> {
    let arr: &[u8; G1_LEN] = bytes.try_into().map_err(|_| Error::Length {
        field,
        expected: G1_LEN,
        got: bytes.len(),
    })?;
    Option::from(G1Affine::from_compressed(arr)).ok_or(Error::InvalidPoint(field))
}

pub(crate) fn g2(bytes: &[u8], field: &'static str) -> Result<G2Affine, Error> {
    let arr: &[u8; G2_LEN] = bytes.try_into().map_err(|_| Error::Length {
        field,
        expected: G2_LEN,
        got: bytes.len(),
    })?;
    Option::from(G2Affine::from_compressed(arr)).ok_or(Error::InvalidPoint(field))
}

/// What the verifier needs of a Groth16 verifying key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifyingKey {
    pub alpha_g1: G1Affine,
    pub beta_g2: G2Affine,
    pub gamma_g2: G2Affine,
    pub delta_g2: G2Affine,
    /// One point per public input, plus one.
    pub ic: Vec<G1Affine>,
}

impl VerifyingKey {
    /// `"HMVK" | version u8 | ic count u8 | α (G1) | β, γ, δ (G2) | IC… (G1)`, compressed.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(VK_HEADER + G1_LEN + 3 * G2_LEN + self.ic.len() * G1_LEN);
        out.extend_from_slice(VK_MAGIC);
        out.push(VK_VERSION);
        out.push(self.ic.len() as u8);
        out.extend_from_slice(&self.alpha_g1.to_compressed());
        for g in [&self.beta_g2, &self.gamma_g2, &self.delta_g2] {
            out.extend_from_slice(&g.to_compressed());
        }
        for p in &self.ic {
            out.extend_from_slice(&p.to_compressed());
        }
        out
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        if bytes.len() < VK_HEADER {
            return Err(Error::Length {
                field: "verifying key",
                expected: VK_HEADER,
                got: bytes.len(),
            });
        }
        if &bytes[..4] != VK_MAGIC {
            return Err(Error::BadMagic {
                what: "verifying key",
                expected: "HMVK",
            });
        }
        if bytes[4] != VK_VERSION {
            return Err(Error::UnsupportedVersion {
                what: "verifying key",
                got: bytes[4],
                supported: VK_VERSION,
            });
        }
        let ic_count = bytes[5] as usize;
        let expected = VK_HEADER + G1_LEN + 3 * G2_LEN + ic_count * G1_LEN;
        if bytes.len() != expected || ic_count == 0 {
            return Err(Error::Length {
                field: "verifying key",
                expected,
                got: bytes.len(),
            });
        }
        let mut at = VK_HEADER;
        let mut take = |n: usize| {
            let part = &bytes[at..at + n];
            at += n;
            part
        };
        let alpha_g1 = g1(take(G1_LEN), "verifying key alpha")?;
        let beta_g2 = g2(take(G2_LEN), "verifying key beta")?;
        let gamma_g2 = g2(take(G2_LEN), "verifying key gamma")?;
        let delta_g2 = g2(take(G2_LEN), "verifying key delta")?;
        let ic = (0..ic_count)
            .map(|_| g1(take(G1_LEN), "verifying key IC"))
            .collect::<Result<_, _>>()?;
        Ok(VerifyingKey {
            alpha_g1,
            beta_g2,
            gamma_g2,
            delta_g2,
            ic,
        })
    }

    /// SHA-256 of the encoding: names the key (and so the circuit) in statements and events.
    pub fn id(&self) -> [u8; 32] {
        Sha256::digest(self.to_bytes()).into()
    }
}

/// A Groth16 proof, checked to be made of valid subgroup points.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proof {
    pub a: G1Affine,
    pub b: G2Affine,
    pub c: G1Affine,
}

impl Proof {
    /// The 192-byte encoding `A | B | C`, identical to `groth16::Proof::write`.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        if bytes.len() != PROOF_LEN {
            return Err(Error::Length {
                field: "proof",
                expected: PROOF_LEN,
                got: bytes.len(),
            });
        }
        Ok(Proof {
            a: g1(&bytes[..G1_LEN], "proof A")?,
            b: g2(&bytes[G1_LEN..G1_LEN + G2_LEN], "proof B")?,
            c: g1(&bytes[G1_LEN + G2_LEN..], "proof C")?,
        })
    }

    pub fn to_bytes(&self) -> [u8; PROOF_LEN] {
        let mut out = [0u8; PROOF_LEN];
        out[..G1_LEN].copy_from_slice(&self.a.to_compressed());
        out[G1_LEN..G1_LEN + G2_LEN].copy_from_slice(&self.b.to_compressed());
        out[G1_LEN + G2_LEN..].copy_from_slice(&self.c.to_compressed());
        out
    }
}

/// A verifying key prepared once for repeated native verification (the gateway, the CLI):
/// `e(α,β)` precomputed and `−γ`, `−δ` prepared for the Miller loop.
pub struct PreparedVerifyingKey {
    ic: Vec<G1Affine>,
    alpha_beta: Gt,
    neg_gamma: G2Prepared,
    neg_delta: G2Prepared,
}

impl PreparedVerifyingKey {
    pub fn new(vk: &VerifyingKey) -> Self {
        PreparedVerifyingKey {
            ic: vk.ic.clone(),
            alpha_beta: bls12_381::pairing(&vk.alpha_g1, &vk.beta_g2),
            neg_gamma: G2Prepared::from(-vk.gamma_g2),
            neg_delta: G2Prepared::from(-vk.delta_g2),
        }
    }

    /// The same check as [`verify`], natively: `e(A,B)·e(L,−γ)·e(C,−δ) = e(α,β)`.
    pub fn verify(&self, proof: &Proof, public_inputs: &[Scalar]) -> Result<(), Error> {
        let l = public_input_point(&self.ic, public_inputs)?;
        let b = G2Prepared::from(proof.b);
        let terms = [
            (&proof.a, &b),
            (&l, &self.neg_gamma),
            (&proof.c, &self.neg_delta),
        ];
        let lhs = bls12_381::Bls12::multi_miller_loop(&terms).final_exponentiation();
        if lhs == self.alpha_beta {
            Ok(())
        } else {
            Err(Error::InvalidProof)
        }
    }

    /// Verify a proof (192 bytes) of `statement`.
    pub fn verify_statement(&self, proof: &[u8], statement: &Statement) -> Result<(), Error> {
        self.verify(&Proof::from_bytes(proof)?, &[statement.public_input()?])
    }
}

/// `L = IC₀ + Σ xᵢ·ICᵢ`: one G1 scalar multiplication per public input.
fn public_input_point(ic: &[G1Affine], public_inputs: &[Scalar]) -> Result<G1Affine, Error> {
    if ic.len() != public_inputs.len() + 1 {
        return Err(Error::InputCount {
            ic: ic.len(),
            inputs: public_inputs.len(),
        });
    }
    Ok(public_inputs
        .iter()
        .zip(&ic[1..])
        .fold(G1Projective::from(ic[0]), |acc, (x, p)| {
            acc + crate::batch::mul_vartime(p, &x.to_bytes())
        })
        .to_affine())
}

/// Verify a proof (192 bytes) of `statement` under `vk`: a batch of one (see
/// [`crate::batch::verify_batch`]), one pairing-equality call with four pairs.
pub fn verify_statement<B: PairingBackend>(
    backend: &B,
    vk: &VerifyingKey,
    proof: &[u8],
    statement: &Statement,
) -> Result<(), Error> {
    let inputs = [statement.public_input()?];
    crate::batch::verify_batch(
        backend,
        &PairingKey::new(vk),
        &[crate::batch::BatchItem {
            proof,
            public_inputs: &inputs,
        }],
    )
}

const PAIRING_KEY_MAGIC: &[u8; 4] = b"HMPA";
const PAIRING_KEY_VERSION: u8 = 1;
const G1_UNCOMPRESSED_LEN: usize = 2 * G1_LEN;

/// A verifying key in the form on-chain verification uses it, prepared once when the key is
/// registered: what only the pairing host call reads (β, −γ, −δ) stays compressed, so wasm
/// never decompresses a G2 point; the G1 points wasm multiplies (α, IC) are uncompressed, so
/// loading them costs no square root or subgroup check. Build it from a checked
/// [`VerifyingKey`]; [`from_trusted_bytes`](Self::from_trusted_bytes) trusts its input and is
/// for the contract's own storage only.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PairingKey {
    /// [`VerifyingKey::id`] of the key it was prepared from.
    pub id: [u8; 32],
    pub alpha: G1Affine,
    pub beta: [u8; G2_LEN],
    pub neg_gamma: [u8; G2_LEN],
    pub neg_delta: [u8; G2_LEN],
    pub ic: Vec<G1Affine>,
}

impl PairingKey {
    pub fn new(vk: &VerifyingKey) -> Self {
        PairingKey {
            id: vk.id(),
            alpha: vk.alpha_g1,
            beta: vk.beta_g2.to_compressed(),
            neg_gamma: (-vk.gamma_g2).to_compressed(),
            neg_delta: (-vk.delta_g2).to_compressed(),
            ic: vk.ic.clone(),
        }
    }

    /// `"HMPA" | version u8 | ic count u8 | id | α (uncompressed) | β, −γ, −δ (compressed) |
    /// IC… (uncompressed)`.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(
            VK_HEADER + 32 + G1_UNCOMPRESSED_LEN * (1 + self.ic.len()) + 3 * G2_LEN,
        );
        out.extend_from_slice(PAIRING_KEY_MAGIC);
        out.push(PAIRING_KEY_VERSION);
        out.push(self.ic.len() as u8);
        out.extend_from_slice(&self.id);
        out.extend_from_slice(&self.alpha.to_uncompressed());
        for g in [&self.beta, &self.neg_gamma, &self.neg_delta] {
            out.extend_from_slice(g);
        }
        for p in &self.ic {
            out.extend_from_slice(&p.to_uncompressed());
        }
        out
    }

    /// Reads [`to_bytes`](Self::to_bytes) output *without* checking the points: only for
    /// bytes this code wrote from a checked key.
    pub fn from_trusted_bytes(bytes: &[u8]) -> Result<Self, Error> {
        let malformed = |reason: &str| Error::Malformed {
            what: "pairing key",
            reason: reason.to_string(),
        };
        if bytes.len() < VK_HEADER || &bytes[..4] != PAIRING_KEY_MAGIC {
            return Err(malformed("bad header"));
        }
        if bytes[4] != PAIRING_KEY_VERSION {
            return Err(Error::UnsupportedVersion {
                what: "pairing key",
                got: bytes[4],
                supported: PAIRING_KEY_VERSION,
            });
        }
        let ic_count = bytes[5] as usize;
        let expected = VK_HEADER + 32 + G1_UNCOMPRESSED_LEN * (1 + ic_count) + 3 * G2_LEN;
        if bytes.len() != expected || ic_count == 0 {
            return Err(Error::Length {
                field: "pairing key",
                expected,
                got: bytes.len(),
            });
        }
        let mut at = VK_HEADER;
        let mut take = |n: usize| {
            let part = &bytes[at..at + n];
            at += n;
            part
        };
        let g1 = |b: &[u8]| -> Result<G1Affine, Error> {
            let arr: &[u8; G1_UNCOMPRESSED_LEN] =
                b.try_into().map_err(|_| malformed("G1 length"))?;
            Option::from(G1Affine::from_uncompressed_unchecked(arr))
                .ok_or_else(|| malformed("G1 point"))
        };
        let g2 = |b: &[u8]| -> Result<[u8; G2_LEN], Error> {
            b.try_into().map_err(|_| malformed("G2 length"))
        };
        let id: [u8; 32] = take(32).try_into().map_err(|_| malformed("id length"))?;
        let alpha = g1(take(G1_UNCOMPRESSED_LEN))?;
        let beta = g2(take(G2_LEN))?;
        let neg_gamma = g2(take(G2_LEN))?;
        let neg_delta = g2(take(G2_LEN))?;
        let ic = (0..ic_count)
            .map(|_| g1(take(G1_UNCOMPRESSED_LEN)))
            .collect::<Result<_, _>>()?;
        Ok(PairingKey {
            id,
            alpha,
            beta,
            neg_gamma,
            neg_delta,
            ic,
        })
    }
}
