//! Local attestations: the proof is verified on chain, the commitment must be anchored by an
//! active attester, the consent must allow the attribute, and the proof's context must be
//! this chain, this consent and its grantee.

use cosmwasm_std::{Binary, DepsMut, Env, Event, HexBinary, MessageInfo, Response, Timestamp};
use healthmesh_types::attestation::{
    Attestation, AttestationStatus, Origin, PredicateMsg, ProofContext,
};
use healthmesh_types::consent::{CheckAccessResponse, ConsentResponse, QueryMsg as ConsentQuery};
use healthmesh_types::validate;

use crate::anchor::assert_active_attester;
use crate::state::{attestations, next_attestation_id, ANCHORS, CONFIG, PAUSE};
use crate::{verify, ContractError};

pub struct Submission {
    pub circuit_id: String,
    pub attribute: String,
    pub predicate: PredicateMsg,
    pub commitment: HexBinary,
    pub consent_token_id: String,
    pub proof: Binary,
    pub expires_at: Option<Timestamp>,
}

pub fn submit(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    s: Submission,
) -> Result<Response, ContractError> {
    PAUSE.assert_not_paused(deps.storage, &env.block)?;
    validate::commitment("commitment", &s.commitment)?;
    if let Some(expires) = s.expires_at.filter(|t| *t <= env.block.time) {
        return Err(ContractError::AlreadyExpired(expires));
    }
    let anchor = ANCHORS
        .may_load(deps.storage, &s.commitment)?
        .ok_or_else(|| ContractError::NotAnchored(s.commitment.to_hex()))?;
    assert_active_attester(deps.as_ref(), &anchor.attester)?;
    if anchor.attribute != s.attribute {
        return Err(ContractError::AnchorMismatch(format!(
            "commitment is anchored for attribute {:?}, not {:?}",
            anchor.attribute, s.attribute
        )));
    }

    let consent_contract = CONFIG.load(deps.storage)?.consent;
    let consent: ConsentResponse = deps.querier.query_wasm_smart(
        &consent_contract,
        &ConsentQuery::Consent {
            token_id: s.consent_token_id.clone(),
        },
    )?;
    let record = consent.record;
    if record.dataset != anchor.dataset || record.patient != anchor.patient {
        return Err(ContractError::AnchorMismatch(
            "the consent's dataset or patient differs from the anchor's".into(),
        ));
    }
    let access: CheckAccessResponse = deps.querier.query_wasm_smart(
        &consent_contract,
        &ConsentQuery::CheckAccess {
            grantee: record.grantee.to_string(),
            dataset: anchor.dataset.clone(),
            purpose: record.purpose.clone(),
            attribute: s.attribute.clone(),
            token_id: Some(s.consent_token_id.clone()),
            patient: Some(anchor.patient.to_string()),
        },
    )?;
    if !access.allowed {
        return Err(ContractError::ConsentDenied {
            token_id: s.consent_token_id,
            reason: format!(
                "{:?}",
                access
                    .reason
                    .unwrap_or(healthmesh_types::consent::DenialReason::Unknown)
            ),
        });
    }

    let context = ProofContext {
        chain_id: env.block.chain_id.clone(),
        consent_id: s.consent_token_id.clone(),
        grantee: record.grantee.to_string(),
    };
    let statement = verify::statement(&s.attribute, &s.predicate, &s.commitment, &context)?;
    verify::verify(deps.as_ref(), &s.circuit_id, &s.proof, &statement)?;

    let id = next_attestation_id(deps.storage)?;
    let attestation = Attestation {
        id,
        origin: Origin::Local {
            submitter: info.sender,
        },
        circuit_id: s.circuit_id,
        attribute: s.attribute,
        predicate: s.predicate,
        commitment: s.commitment,
        proof: s.proof,
        context,
        attester: anchor.attester.to_string(),
        patient: anchor.patient.to_string(),
        dataset: anchor.dataset,
        recorded_at: env.block.time,
        height: env.block.height,
        expires_at: s.expires_at,
        status: AttestationStatus::Valid,
    };
    attestations().save(deps.storage, id, &attestation)?;
    Ok(Response::new()
        .add_attribute("action", "submit_attestation")
        .add_event(attestation_event("attestation_recorded", &attestation)))
}

/// The attributes every attestation event carries (stable names, see README).
pub fn attestation_event(kind: &str, a: &Attestation) -> Event {
    Event::new(kind)
        .add_attribute("attestation_id", a.id.to_string())
        .add_attribute("source_chain", &a.context.chain_id)
        .add_attribute("consent_id", &a.context.consent_id)
        .add_attribute("grantee", &a.context.grantee)
        .add_attribute("commitment", a.commitment.to_hex())
        .add_attribute("attribute", &a.attribute)
        .add_attribute("op", &a.predicate.op)
        .add_attribute(
            "values",
            a.predicate
                .values
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(","),
        )
        .add_attribute("attester", &a.attester)
        .add_attribute("circuit_id", &a.circuit_id)
}
