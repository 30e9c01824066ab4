//! Proof verification on chain: the proofs crate's verifier with cosmwasm-std's BLS12-381
//! pairing-equality host function as its back-end.

use cosmwasm_std::{Api, Deps, HexBinary, VerificationError};
use healthmesh_proofs::statement::{AttributeCode, Context, Statement};
use healthmesh_proofs::verifier::{verify_statement, PairingBackend, VerifyingKey};
use healthmesh_types::attestation::{Predicate, ProofContext};

use crate::state::VERIFYING_KEYS;
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

/// Verify `proof` for `statement` under the stored key `circuit_id`.
pub fn verify(
    deps: Deps,
    circuit_id: &str,
    proof: &[u8],
    statement: &Statement,
) -> Result<(), ContractError> {
    let vk_bytes = VERIFYING_KEYS
        .may_load(deps.storage, circuit_id)?
        .ok_or_else(|| ContractError::UnknownCircuit(circuit_id.into()))?;
    let vk = VerifyingKey::from_bytes(&vk_bytes)?;
    verify_statement(&HostPairing(deps.api), &vk, proof, statement)?;
    Ok(())
}
