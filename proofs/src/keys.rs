//! Parameter generation and the proving-key file format.
//!
//! [`setup_from_seed`] derives the Groth16 parameters deterministically from a seed, so every
//! localnet node and test gets the same keys. Whoever knows the seed knows the toxic waste
//! and can forge proofs: production needs a multi-party setup ceremony instead.

use alloc::format;
use alloc::vec::Vec;
use bls12_381::Bls12;
#[cfg(test)]
use bls12_381::G1Affine;
use chacha20::ChaCha20Rng;
use rand_core::SeedableRng;
use sha2::{Digest, Sha256};
use std::sync::OnceLock;

use crate::circuit::PredicateCircuit;
use crate::prover::{query_points_valid, Prover};
use crate::verifier::VerifyingKey;
use crate::Error;

pub const SETUP_WARNING: &str = "WARNING: keys derived from a public seed are for tests and \
the localnet only; anyone who knows the seed can forge proofs. Production keys need a \
multi-party setup ceremony.";

const PK_MAGIC: &[u8; 4] = b"HMPK";
const PK_VERSION: u8 = 1;

/// Groth16 parameters of the predicate circuit (proving key; it contains the verifying key).
///
/// Load it once and prove many times: reading checks every point (~0.2 s on two cores), and
/// the first proof builds the key's [`Prover`] (kept here; ~0.4 s, ~17 MB).
pub struct ProvingKey {
    params: groth16::Parameters<Bls12>,
    prover: OnceLock<Result<Prover, Error>>,
}

impl ProvingKey {
    /// A key from parameters (of the predicate circuit, for [`ProvingKey::prover`]).
    pub fn from_parameters(params: groth16::Parameters<Bls12>) -> Self {
        ProvingKey {
            params,
            prover: OnceLock::new(),
        }
    }

    /// The Groth16 parameters (read-only: the prover caches a converted copy of them).
    pub fn params(&self) -> &groth16::Parameters<Bls12> {
        &self.params
    }

    /// The key's prover for the predicate circuit, built on first use (~0.4 s; call it
    /// early to keep that off the first proof).
    pub fn prover(&self) -> Result<&Prover, Error> {
        self.prover
            .get_or_init(|| Prover::new(&self.params, PredicateCircuit::default()))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// `"HMPK" | version u8 | groth16 parameters (uncompressed points)`.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::from(&PK_MAGIC[..]);
        out.push(PK_VERSION);
        self.params
            .write(&mut out)
            .expect("writing to a Vec cannot fail");
        out
    }

    /// Reads and checks every point (on curve, in subgroup).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        if bytes.len() < 5 {
            return Err(Error::Length {
                field: "proving key",
                expected: 5,
                got: bytes.len(),
            });
        }
        if &bytes[..4] != PK_MAGIC {
            return Err(Error::BadMagic {
                what: "proving key",
                expected: "HMPK",
            });
        }
        if bytes[4] != PK_VERSION {
            return Err(Error::UnsupportedVersion {
                what: "proving key",
                got: bytes[4],
                supported: PK_VERSION,
            });
        }
        // Unchecked: decodes the query points (canonical coordinates, no point at infinity)
        // without the curve and subgroup checks, done next on all cores; the verifying key's
        // points are checked either way.
        let mut rest = &bytes[5..];
        let params = groth16::Parameters::read(&mut rest, false).map_err(|e| Error::Malformed {
            what: "proving key",
            reason: format!("{e}"),
        })?;
        if !rest.is_empty() {
            return Err(Error::Malformed {
                what: "proving key",
                reason: format!("{} bytes after the parameters", rest.len()),
            });
        }
        if !query_points_valid(&params) {
            return Err(Error::Malformed {
                what: "proving key",
                reason: "a point is not on the curve or not in the subgroup".into(),
            });
        }
        Ok(ProvingKey::from_parameters(params))
    }

    pub fn verifying_key(&self) -> VerifyingKey {
        let vk = &self.params.vk;
        VerifyingKey {
            alpha_g1: vk.alpha_g1,
            beta_g2: vk.beta_g2,
            gamma_g2: vk.gamma_g2,
            delta_g2: vk.delta_g2,
            ic: vk.ic.clone(),
        }
    }
}

/// Deterministic parameters from `seed` (see [`SETUP_WARNING`]).
pub fn setup_from_seed(seed: &[u8]) -> Result<ProvingKey, Error> {
    let digest: [u8; 32] = Sha256::new()
        .chain_update(b"healthmesh.setup.v1")
        .chain_update(seed)
        .finalize()
        .into();
    let mut rng = ChaCha20Rng::from_seed(digest);
    let params =
        groth16::generate_random_parameters::<Bls12, _, _>(PredicateCircuit::default(), &mut rng)
            .map_err(|e| Error::Proving(format!("parameter generation: {e}")))?;
    Ok(ProvingKey::from_parameters(params))
}

#[cfg(test)]
mod tests {
    use super::*;
    use blst::{blst_fp, blst_p1_affine};

    /// A point on G1's curve outside the prime-order subgroup (almost every curve point is).
    fn outside_subgroup() -> [u8; 96] {
        let fp = |n: u64| {
            let mut out = blst_fp::default();
            // SAFETY: six limbs in, one field element out.
            unsafe { blst::blst_fp_from_uint64(&mut out, [n, 0, 0, 0, 0, 0].as_ptr()) };
            out
        };
        for n in 1.. {
            let x = fp(n);
            let (mut rhs, mut y) = (blst_fp::default(), blst_fp::default());
            // SAFETY: plain values in and out; y^2 = x^3 + 4.
            let p = unsafe {
                blst::blst_fp_sqr(&mut rhs, &x);
                blst::blst_fp_mul(&mut rhs, &rhs, &x);
                blst::blst_fp_add(&mut rhs, &rhs, &fp(4));
                if !blst::blst_fp_sqrt(&mut y, &rhs) {
                    continue;
                }
                blst_p1_affine { x, y }
            };
            // SAFETY: as above.
            if unsafe { blst::blst_p1_affine_on_curve(&p) && !blst::blst_p1_affine_in_g1(&p) } {
                let mut out = [0u8; 96];
                // SAFETY: writes the 96-byte uncompressed encoding.
                unsafe { blst::blst_p1_affine_serialize(out.as_mut_ptr(), &p) };
                return out;
            }
        }
        unreachable!()
    }

    #[test]
    fn every_query_point_is_checked() {
        let pk = setup_from_seed(b"point checks").unwrap();
        let bytes = pk.to_bytes();
        assert!(ProvingKey::from_bytes(&bytes).is_ok());
        let mut vk = Vec::new();
        pk.params().vk.write(&mut vk).unwrap();
        // The first H point follows the header, the verifying key and H's length; the last
        // B point in G1 precedes the length of B in G2 and its points.
        let first_h = 5 + vk.len() + 4;
        let last_b_g1 = bytes.len() - 192 * pk.params().b_g2.len() - 4 - 96;

        let outside = outside_subgroup();
        assert!(bool::from(
            G1Affine::from_uncompressed_unchecked(&outside).is_some()
        ));
        for at in [first_h, last_b_g1] {
            let mut bad = bytes.clone();
            bad[at..at + 96].copy_from_slice(&outside);
            assert!(matches!(
                ProvingKey::from_bytes(&bad),
                Err(Error::Malformed { .. })
            ));
            // Off the curve: y changed.
            let mut bad = bytes.clone();
            bad[at + 95] ^= 1;
            assert!(matches!(
                ProvingKey::from_bytes(&bad),
                Err(Error::Malformed { .. })
            ));
        }
        // And in G2: the last byte of the last B point.
        let mut bad = bytes.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert!(matches!(
            ProvingKey::from_bytes(&bad),
            Err(Error::Malformed { .. })
        ));
        // Trailing bytes.
        let mut long = bytes.clone();
        long.push(0);
        assert!(matches!(
            ProvingKey::from_bytes(&long),
            Err(Error::Malformed { .. })
        ));
    }
}
