//! Proof verification on chain: the proofs crate's verifier with cosmwasm-std's BLS12-381
//! pairing-equality host function as its back-end.

use cosmwasm_std::{Api, Deps, HexBinary, VerificationError};
use healthmesh_proofs::batch::{verify_batch as verify_batch_with, BatchItem};
use healthmesh_proofs::statement::{AttributeCode, Context, Statement};
use healthmesh_proofs::verifier::{PairingBackend, PairingKey, VerifyingKey};
use healthmesh_types::attestation::{Predicate, ProofContext};

use crate::state::{PAIRING_KEYS, VERIFYING_KEYS};
use crate::ContractError;

/// `e(p₁,q₁)…e(pₙ,qₙ) == e(r,s)` by the chain's host function (native speed, metered).
pub struct HostPairing<'a>(pub &'a dyn Api);

impl PairingBackend for HostPairing<'_> {
    type Error = VerificationError;
    fn pairing_equality(
        &self,
        ps: &[u8],
        qs: &[u8],
        r: &[u8],
        s: &[u8],
    ) -> Result<bool, VerificationError> {
        self.0.bls12_381_pairing_equality(ps, qs, r, s)
    }
}

/// The predicate, its operand shape checked (deserializing does not check it).
pub fn predicate(msg: &Predicate) -> Result<Predicate, ContractError> {
    msg.validate()?;
    Ok(msg.clone())
}

pub fn statement(
    attribute: &str,
    predicate_msg: &Predicate,
    commitment: &HexBinary,
    context: &ProofContext,
) -> Result<Statement, ContractError> {
    let commitment: [u8; 32] = commitment.as_slice().try_into().map_err(|_| {
        healthmesh_controllers::validate::ValidationError::CommitmentLength {
            field: "commitment",
            len: commitment.len(),
        }
    })?;
    Ok(Statement {
        attribute: AttributeCode::new(attribute)?,
        predicate: predicate(predicate_msg)?,
        commitment,
        context: Context {
            chain_id: context.chain_id.clone(),
            consent_contract: context.consent_contract.clone(),
            consent_id: context.consent_id.clone(),
            grantee: context.grantee.clone(),
        },
    })
}

/// The stored key `circuit_id`, prepared for verification (keys added before pairing keys
/// were stored are prepared from their encoding).
fn pairing_key(deps: Deps, circuit_id: &str) -> Result<PairingKey, ContractError> {
    if let Some(bytes) = PAIRING_KEYS.may_load(deps.storage, circuit_id)? {
        return Ok(PairingKey::from_trusted_bytes(&bytes)?);
    }
    let vk_bytes = VERIFYING_KEYS
        .may_load(deps.storage, circuit_id)?
        .ok_or_else(|| ContractError::UnknownCircuit(circuit_id.into()))?;
    Ok(PairingKey::new(&VerifyingKey::from_bytes(&vk_bytes)?))
}

/// Verify every (proof, statement) under the stored key `circuit_id` with one batched
/// pairing check: any invalid proof fails the whole batch.
pub fn verify_batch(
    deps: Deps,
    circuit_id: &str,
    proofs: &[(&[u8], &Statement)],
) -> Result<(), ContractError> {
    let key = pairing_key(deps, circuit_id)?;
    let inputs = proofs
        .iter()
        .map(|(_, statement)| statement.public_input().map(|x| [x]))
        .collect::<Result<Vec<_>, _>>()?;
    let items: Vec<BatchItem> = proofs
        .iter()
        .zip(&inputs)
        .map(|((proof, _), inputs)| BatchItem {
            proof,
            public_inputs: inputs,
        })
        .collect();
    verify_batch_with(&HostPairing(deps.api), &key, &items)?;
    Ok(())
}
