//! Parameter generation and the proving-key file format.
//!
//! [`setup_from_seed`] derives the Groth16 parameters deterministically from a seed, so every
//! localnet node and test gets the same keys. Whoever knows the seed knows the toxic waste
//! and can forge proofs: production needs a multi-party setup ceremony instead.

use alloc::format;
use alloc::vec::Vec;
use bls12_381::Bls12;
use chacha20::ChaCha20Rng;
use rand_core::SeedableRng;
use sha2::{Digest, Sha256};

use crate::circuit::PredicateCircuit;
use crate::verifier::VerifyingKey;
use crate::Error;

pub const SETUP_WARNING: &str = "WARNING: keys derived from a public seed are for tests and \
the localnet only; anyone who knows the seed can forge proofs. Production keys need a \
multi-party setup ceremony.";

const PK_MAGIC: &[u8; 4] = b"HMPK";
const PK_VERSION: u8 = 1;

/// Groth16 parameters of the predicate circuit (proving key; it contains the verifying key).
pub struct ProvingKey {
    pub params: groth16::Parameters<Bls12>,
}

impl ProvingKey {
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
        let params =
            groth16::Parameters::read(&bytes[5..], true).map_err(|e| Error::Malformed {
                what: "proving key",
                reason: format!("{e}"),
            })?;
        Ok(ProvingKey { params })
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
    Ok(ProvingKey { params })
}
