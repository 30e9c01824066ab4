//! Proving: check the opening and the predicate natively (so a false claim gets a clear
//! error instead of an invalid proof), then run the Groth16 prover.

use alloc::format;
use bls12_381::{Bls12, Scalar};
use rand_core::Rng;

use crate::circuit::{Assignment, PredicateCircuit};
use crate::keys::ProvingKey;
use crate::statement::{commit, Statement};
use crate::verifier::{Proof, PROOF_LEN};
use crate::Error;

/// What only the prover knows: the committed value, its salt and the subject key.
#[derive(Clone, Debug)]
pub struct Opening {
    pub value: u64,
    pub salt: Scalar,
    pub subject: Scalar,
}

/// A 192-byte proof of `statement`, or why the opening cannot prove it.
pub fn prove<R: Rng>(
    pk: &ProvingKey,
    statement: &Statement,
    opening: &Opening,
    rng: &mut R,
) -> Result<[u8; PROOF_LEN], Error> {
    statement.predicate.validate()?;
    if commit(
        &statement.attribute,
        opening.value,
        &opening.salt,
        &opening.subject,
    ) != statement.commitment
    {
        return Err(Error::CommitmentMismatch);
    }
    if !statement.predicate.holds(opening.value) {
        return Err(Error::Unsatisfied);
    }
    let circuit = PredicateCircuit {
        assignment: Some(Assignment::new(
            statement,
            opening.value,
            opening.salt,
            opening.subject,
        )),
    };
    let proof = groth16::create_random_proof::<Bls12, _, _, _>(circuit, &pk.params, rng)
        .map_err(|e| Error::Proving(format!("{e}")))?;
    Ok(Proof {
        a: proof.a,
        b: proof.b,
        c: proof.c,
    }
    .to_bytes())
}
