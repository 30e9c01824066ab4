//! Conversions between stored attestations and the protobuf packets of `proto/`.

use cosmwasm_std::{Binary, HexBinary, Timestamp};
use healthmesh_proofs::statement::Operator;
use healthmesh_proto::attest::v2 as pb;
use healthmesh_types::attestation::{Attestation, Predicate, ProofContext};
use prost::Message;

use crate::ContractError;

pub fn encode(body: pb::packet::Body) -> Binary {
    encode_with_fee(body, 0)
}

/// A packet whose relayer fee (escrowed here) has id `fee_id`.
pub fn encode_with_fee(body: pb::packet::Body, fee_id: u64) -> Binary {
    Binary::new(
        pb::Packet {
            body: Some(body),
            fee_id,
        }
        .encode_to_vec(),
    )
}

/// The relayer fee id of one of this contract's own packets (0: none or undecodable).
pub fn fee_id(data: &[u8]) -> u64 {
    pb::Packet::decode(data).map_or(0, |p| p.fee_id)
}

pub fn decode(data: &[u8]) -> Result<pb::packet::Body, ContractError> {
    pb::Packet::decode(data)
        .map_err(|e| {
            ContractError::MalformedPacket(format!("not a healthmesh.attest.v1.Packet: {e}"))
        })?
        .body
        .ok_or_else(|| ContractError::MalformedPacket("packet has no body".into()))
}

pub fn attestation_packet(a: &Attestation) -> Result<pb::AttestationPacket, ContractError> {
    Ok(pb::AttestationPacket {
        attestation_id: a.id,
        source_chain: a.context.chain_id.clone(),
        circuit_id: a.circuit_id.clone(),
        attribute: a.attribute.clone(),
        predicate: Some(pb::Predicate {
            op: a.predicate.op.code() as u32,
            values: a.predicate.values.clone(),
        }),
        commitment: a.commitment.to_vec(),
        proof: a.proof.to_vec(),
        context: Some(pb::Context {
            chain_id: a.context.chain_id.clone(),
            consent_contract: a.context.consent_contract.clone(),
            consent_id: a.context.consent_id.clone(),
            grantee: a.context.grantee.clone(),
        }),
        attester: a.attester.clone(),
        expires_at: a.expires_at.map_or(0, |t| t.seconds()),
        consent_purpose: a.consent_purpose.clone(),
        patient_tag: a.patient_tag.as_ref().map_or(vec![], |t| t.to_vec()),
    })
}

/// The fields of a received attestation, checked for presence and shape.
pub struct Received {
    pub predicate: Predicate,
    pub context: ProofContext,
    pub commitment: HexBinary,
    pub expires_at: Option<Timestamp>,
    pub patient_tag: Option<HexBinary>,
}

pub fn received(p: &pb::AttestationPacket) -> Result<Received, ContractError> {
    let missing = |f: &str| ContractError::MalformedPacket(format!("attestation packet lacks {f}"));
    let predicate = p.predicate.as_ref().ok_or_else(|| missing("predicate"))?;
    let op = u8::try_from(predicate.op)
        .map_err(|_| ContractError::MalformedPacket(format!("operator code {}", predicate.op)))?;
    let context = p.context.as_ref().ok_or_else(|| missing("context"))?;
    if p.commitment.len() != 32 {
        return Err(ContractError::MalformedPacket(format!(
            "commitment must be 32 bytes, got {}",
            p.commitment.len()
        )));
    }
    let patient_tag = match p.patient_tag.len() {
        0 => None,
        32 => Some(HexBinary::from(p.patient_tag.clone())),
        n => {
            return Err(ContractError::MalformedPacket(format!(
                "patient tag must be 32 bytes, got {n}"
            )))
        }
    };
    if p.consent_purpose.len() > healthmesh_types::consent::MAX_PURPOSE_LEN {
        return Err(ContractError::MalformedPacket(
            "consent purpose too long".into(),
        ));
    }
    Ok(Received {
        predicate: Predicate {
            op: Operator::from_code(op)?,
            values: predicate.values.clone(),
        },
        context: ProofContext {
            chain_id: context.chain_id.clone(),
            consent_contract: context.consent_contract.clone(),
            consent_id: context.consent_id.clone(),
            grantee: context.grantee.clone(),
        },
        commitment: HexBinary::from(p.commitment.clone()),
        expires_at: expiry(p.expires_at)?,
        patient_tag,
    })
}

/// Unix seconds (0 = never) as a timestamp; seconds past what nanoseconds can hold are
/// refused rather than overflowing.
fn expiry(seconds: u64) -> Result<Option<Timestamp>, ContractError> {
    if seconds == 0 {
        return Ok(None);
    }
    seconds
        .checked_mul(1_000_000_000)
        .map(|nanos| Some(Timestamp::from_nanos(nanos)))
        .ok_or_else(|| {
            ContractError::MalformedPacket(format!("expires_at {seconds} is out of range"))
        })
}
