//! Local attestations: the proof is verified on chain; the commitment must be anchored by the
//! custodian the patient designated for the consent's dataset, an active attester never
//! slashed; the consent must allow the attribute; the proof's context must be this chain, this
//! consent contract, this consent and its grantee; one record per statement.

use cosmwasm_std::Timestamp;
use cosmwasm_std::{Addr, Binary, Deps, DepsMut, Env, HexBinary, MessageInfo, Response};
use cw_utils::Expiration;
use healthmesh_controllers::validate;
use healthmesh_types::attestation::{
    Attestation, AttestationStatus, Origin, Predicate, ProofContext,
};
use healthmesh_types::consent::{
    CheckAccessResponse, ConsentRecord, ConsentResponse, CustodianResponse, DenialReason,
    QueryMsg as ConsentQuery, MAX_ATTRIBUTE_LEN,
};
use healthmesh_types::events;
use healthmesh_types::pause::PauseStatusResponse;
use sha2::{Digest, Sha256};

use crate::anchor::assert_attester_in_standing;
use crate::event::attestation_event;
use crate::state::{attestations, next_attestation_id, ANCHORS, CONFIG, PAUSE, STATEMENTS};
use crate::{policy, verify, ContractError};

pub struct Submission {
    pub circuit_id: String,
    pub attribute: String,
    pub predicate: Predicate,
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
    validate::identifier("attribute", &s.attribute, MAX_ATTRIBUTE_LEN)?;
    if let Some(expires) = s.expires_at.filter(|t| *t <= env.block.time) {
        return Err(ContractError::AlreadyExpired(expires));
    }
    let consent_contract = CONFIG.load(deps.storage)?.consent;
    assert_consent_not_paused(deps.as_ref(), &consent_contract)?;
    let record = load_consent(deps.as_ref(), &consent_contract, &s.consent_token_id)?;

    let custodian = designated_custodian(deps.as_ref(), &consent_contract, &record)?;
    let anchor = ANCHORS
        .may_load(deps.storage, (&s.commitment, custodian.as_str()))?
        .ok_or_else(|| ContractError::NotAnchored {
            commitment: s.commitment.to_hex(),
            custodian: custodian.to_string(),
        })?;
    assert_attester_in_standing(deps.as_ref(), &env.block.chain_id, &anchor.attester)?;
    if anchor.attribute != s.attribute
        || anchor.dataset != record.dataset
        || anchor.patient != record.patient
    {
        return Err(ContractError::AnchorMismatch(
            "the anchor's attribute, dataset or patient differs from the submission's consent"
                .into(),
        ));
    }
    if info.sender != record.grantee && info.sender != anchor.attester {
        return Err(ContractError::NotSubmitter {
            token_id: s.consent_token_id,
            sender: info.sender.to_string(),
        });
    }
    assert_access(deps.as_ref(), &consent_contract, &s, &record)?;
    let expires_at = bounded_expiry(s.expires_at, &record.expires)?;

    let context = ProofContext {
        chain_id: env.block.chain_id.clone(),
        consent_contract: consent_contract.to_string(),
        consent_id: s.consent_token_id.clone(),
        grantee: record.grantee.to_string(),
    };
    let digest = statement_digest(&s.attribute, &s.predicate, &s.commitment, &context);
    if let Some(existing) = STATEMENTS.may_load(deps.storage, &digest)? {
        return Err(ContractError::DuplicateStatement(existing));
    }
    let statement = verify::statement(&s.attribute, &s.predicate, &s.commitment, &context)?;
    policy::admit(
        deps.storage,
        &s.commitment,
        &s.attribute,
        &statement.predicate,
    )?;
    verify::verify(deps.as_ref(), &s.circuit_id, &s.proof, &statement)?;

    let id = next_attestation_id(deps.storage)?;
    STATEMENTS.save(deps.storage, &digest, &id)?;
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
        recorded_at: env.block.time,
        height: env.block.height,
        expires_at,
        status: AttestationStatus::Valid,
    };
    attestations().save(deps.storage, id, &attestation)?;
    Ok(Response::new()
        .add_attribute("action", "submit_attestation")
        .add_event(attestation_event(
            events::ATTESTATION_RECORDED,
            &attestation,
        )))
}

/// M-5: while the consent contract is paused nothing is attested under its consents
/// (a pause there may be hiding a consent bug); revocation itself is never paused.
pub fn assert_consent_not_paused(deps: Deps, consent_contract: &Addr) -> Result<(), ContractError> {
    let status: PauseStatusResponse = deps
        .querier
        .query_wasm_smart(consent_contract, &ConsentQuery::PauseStatus {})?;
    match status.paused {
        Some(pause) => Err(ContractError::ConsentPaused(pause.reason)),
        None => Ok(()),
    }
}

pub fn load_consent(
    deps: Deps,
    consent_contract: &Addr,
    token_id: &str,
) -> Result<ConsentRecord, ContractError> {
    let consent: ConsentResponse = deps.querier.query_wasm_smart(
        consent_contract,
        &ConsentQuery::Consent {
            token_id: token_id.into(),
        },
    )?;
    Ok(consent.record)
}

fn designated_custodian(
    deps: Deps,
    consent_contract: &Addr,
    record: &ConsentRecord,
) -> Result<Addr, ContractError> {
    let res: CustodianResponse = deps.querier.query_wasm_smart(
        consent_contract,
        &ConsentQuery::Custodian {
            patient: record.patient.to_string(),
            dataset: record.dataset.clone(),
        },
    )?;
    res.custodian
        .ok_or_else(|| ContractError::NoCustodian(record.dataset.to_hex()))
}

fn assert_access(
    deps: Deps,
    consent_contract: &Addr,
    s: &Submission,
    record: &ConsentRecord,
) -> Result<(), ContractError> {
    let access: CheckAccessResponse = deps.querier.query_wasm_smart(
        consent_contract,
        &ConsentQuery::CheckAccess {
            grantee: record.grantee.to_string(),
            dataset: record.dataset.clone(),
            purpose: record.purpose.clone(),
            attribute: s.attribute.clone(),
            token_id: Some(s.consent_token_id.clone()),
            patient: Some(record.patient.to_string()),
        },
    )?;
    if access.allowed {
        return Ok(());
    }
    Err(ContractError::ConsentDenied {
        token_id: s.consent_token_id.clone(),
        reason: format!("{:?}", access.reason.unwrap_or(DenialReason::Unknown)),
    })
}

/// M-2: an attestation never outlives its consent. A time-limited consent caps (and by
/// default sets) the expiry; a height-limited one is checked live on this chain, and such
/// attestations cannot be exported (see `send`).
fn bounded_expiry(
    requested: Option<Timestamp>,
    consent_expires: &Expiration,
) -> Result<Option<Timestamp>, ContractError> {
    match (consent_expires, requested) {
        (Expiration::AtTime(limit), Some(t)) if t > *limit => {
            Err(ContractError::ExpiryAfterConsent {
                requested: t,
                consent: *limit,
            })
        }
        (Expiration::AtTime(limit), None) => Ok(Some(*limit)),
        _ => Ok(requested),
    }
}

/// M-2: an attestation under a height-limited consent cannot travel: other chains cannot tell
/// when the source chain passes that height.
pub fn assert_exportable(expires: &Expiration) -> Result<(), ContractError> {
    match expires {
        Expiration::AtHeight(h) => Err(ContractError::HeightBoundConsent(*h)),
        _ => Ok(()),
    }
}

/// SHA-256 over the statement's fields, length-prefixed: one record per statement (which
/// includes its consent), so a public proof cannot be replayed into many records.
fn statement_digest(
    attribute: &str,
    predicate: &Predicate,
    commitment: &HexBinary,
    context: &ProofContext,
) -> Vec<u8> {
    let values: Vec<u8> = predicate
        .values
        .iter()
        .flat_map(|v| v.to_be_bytes())
        .collect();
    let mut hasher = Sha256::new();
    for part in [
        attribute.as_bytes(),
        predicate.op.name().as_bytes(),
        &values,
        commitment.as_slice(),
        context.chain_id.as_bytes(),
        context.consent_contract.as_bytes(),
        context.consent_id.as_bytes(),
        context.grantee.as_bytes(),
    ] {
        hasher.update((part.len() as u32).to_be_bytes());
        hasher.update(part);
    }
    hasher.finalize().to_vec()
}
