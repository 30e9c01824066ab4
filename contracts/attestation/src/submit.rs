//! Local attestations: the proof is verified on chain; the commitment must be anchored by the
//! custodian the patient designated for the consent's dataset, an active attester never
//! slashed; the consent must allow the attribute; the proof's context must be this chain, this
//! consent contract, this consent and its grantee; one record per statement.

use cosmwasm_std::Timestamp;
use cosmwasm_std::{Addr, Binary, Deps, DepsMut, Env, HexBinary, MessageInfo, Response};
use cw_utils::Expiration;
use healthmesh_controllers::identity::patient_tag;
use healthmesh_controllers::validate;
use healthmesh_proofs::statement::Statement;
use healthmesh_types::attestation::{
    Attestation, AttestationStatus, Origin, Predicate, ProofContext,
};
use healthmesh_types::attestation::{AttestationSubmission, MAX_BATCH};
use healthmesh_types::consent::{
    CheckAccessResponse, ConsentRecord, ConsentResponse, CustodianResponse, DenialReason,
    QueryMsg as ConsentQuery, MAX_ATTRIBUTE_LEN,
};
use healthmesh_types::events;
use healthmesh_types::pause::PauseStatusResponse;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};

use crate::anchor::assert_attester_in_standing;
use crate::event::attestation_event;
use crate::state::{attestations, next_attestation_ids, ANCHORS, CONFIG, PAUSE, STATEMENTS};
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

/// A submission that passed every check but its proof.
struct Checked {
    submission: Submission,
    statement: Statement,
    digest: Vec<u8>,
    context: ProofContext,
    attester: Addr,
    expires_at: Option<Timestamp>,
    consent_purpose: String,
    patient_tag: HexBinary,
}

/// What one batch reads from other contracts, read once per consent and per attester.
#[derive(Default)]
struct Lookups {
    consents: BTreeMap<String, (ConsentRecord, Addr)>,
    attesters_in_standing: BTreeSet<Addr>,
    /// (consent, attribute) pairs the consent contract allowed.
    access: BTreeSet<(String, String)>,
    digests: BTreeSet<Vec<u8>>,
}

pub fn submit(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    s: Submission,
) -> Result<Response, ContractError> {
    let circuit_id = s.circuit_id.clone();
    Ok(record_batch(deps, env, info, &circuit_id, vec![s])?
        .add_attribute("action", "submit_attestation"))
}

/// `submit_attestations`: up to `MAX_BATCH` submissions of one circuit, verified with one
/// batched pairing check and recorded all or none.
pub fn submit_batch(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    circuit_id: String,
    batch: Vec<AttestationSubmission>,
) -> Result<Response, ContractError> {
    assert_batch_size(batch.len())?;
    let submissions = batch
        .into_iter()
        .map(|a| Submission {
            circuit_id: circuit_id.clone(),
            attribute: a.attribute,
            predicate: a.predicate,
            commitment: a.commitment,
            consent_token_id: a.consent_token_id,
            proof: a.proof,
            expires_at: a.expires_at,
        })
        .collect();
    Ok(record_batch(deps, env, info, &circuit_id, submissions)?
        .add_attribute("action", "submit_attestations"))
}

pub fn assert_batch_size(len: usize) -> Result<(), ContractError> {
    if len == 0 || len > MAX_BATCH {
        return Err(ContractError::BatchSize {
            max: MAX_BATCH,
            got: len,
        });
    }
    Ok(())
}

fn record_batch(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    circuit_id: &str,
    submissions: Vec<Submission>,
) -> Result<Response, ContractError> {
    PAUSE.assert_not_paused(deps.storage, &env.block)?;
    let consent_contract = CONFIG.load(deps.storage)?.consent;
    assert_consent_not_paused(deps.as_ref(), &consent_contract)?;
    let mut lookups = Lookups::default();
    let mut batch = Vec::with_capacity(submissions.len());
    for s in submissions {
        batch.push(check(
            deps.as_ref(),
            &env,
            &info,
            &consent_contract,
            s,
            &mut lookups,
        )?);
    }
    let claims: Vec<policy::Claim> = batch
        .iter()
        .map(|c| {
            (
                c.submission.commitment.as_slice(),
                c.submission.attribute.as_str(),
                &c.statement.predicate,
            )
        })
        .collect();
    policy::admit_all(deps.storage, &claims)?;
    let items: Vec<(&[u8], &Statement)> = batch
        .iter()
        .map(|c| (c.submission.proof.as_slice(), &c.statement))
        .collect();
    verify::verify_batch(deps.as_ref(), circuit_id, &items)?;

    let first = next_attestation_ids(deps.storage, batch.len() as u64)?;
    let mut response = Response::new();
    for (c, id) in batch.into_iter().zip(first..) {
        STATEMENTS.save(deps.storage, &c.digest, &id)?;
        let s = c.submission;
        let attestation = Attestation {
            id,
            origin: Origin::Local {
                submitter: info.sender.clone(),
            },
            circuit_id: s.circuit_id,
            attribute: s.attribute,
            predicate: s.predicate,
            commitment: s.commitment,
            proof: s.proof,
            context: c.context,
            attester: c.attester.to_string(),
            recorded_at: env.block.time,
            height: env.block.height,
            expires_at: c.expires_at,
            status: AttestationStatus::Valid,
            consent_purpose: c.consent_purpose,
            patient_tag: Some(c.patient_tag),
        };
        attestations().save(deps.storage, id, &attestation)?;
        response = response.add_event(attestation_event(
            events::ATTESTATION_RECORDED,
            &attestation,
        ));
    }
    Ok(response)
}

/// Every rule of a local attestation but the proof itself.
fn check(
    deps: Deps,
    env: &Env,
    info: &MessageInfo,
    consent_contract: &Addr,
    s: Submission,
    lookups: &mut Lookups,
) -> Result<Checked, ContractError> {
    validate::commitment("commitment", &s.commitment)?;
    validate::identifier("attribute", &s.attribute, MAX_ATTRIBUTE_LEN)?;
    if let Some(expires) = s.expires_at.filter(|t| *t <= env.block.time) {
        return Err(ContractError::AlreadyExpired(expires));
    }
    let (record, custodian) = match lookups.consents.get(&s.consent_token_id) {
        Some(known) => known.clone(),
        None => {
            let record = load_consent(deps, consent_contract, &s.consent_token_id)?;
            let custodian = designated_custodian(deps, consent_contract, &record)?;
            lookups.consents.insert(
                s.consent_token_id.clone(),
                (record.clone(), custodian.clone()),
            );
            (record, custodian)
        }
    };
    let anchor = ANCHORS
        .may_load(deps.storage, (&s.commitment, custodian.as_str()))?
        .ok_or_else(|| ContractError::NotAnchored {
            commitment: s.commitment.to_hex(),
            custodian: custodian.to_string(),
        })?;
    if !lookups.attesters_in_standing.contains(&anchor.attester) {
        assert_attester_in_standing(deps, &env.block.chain_id, &anchor.attester)?;
        lookups
            .attesters_in_standing
            .insert(anchor.attester.clone());
    }
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
    let access_key = (s.consent_token_id.clone(), s.attribute.clone());
    if !lookups.access.contains(&access_key) {
        assert_access(deps, consent_contract, &s, &record)?;
        lookups.access.insert(access_key);
    }
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
    if !lookups.digests.insert(digest.clone()) {
        return Err(ContractError::DuplicateInBatch);
    }
    let statement = verify::statement(&s.attribute, &s.predicate, &s.commitment, &context)?;
    let patient = deps.api.addr_canonicalize(record.patient.as_str())?;
    let patient_tag = patient_tag(&patient, &context.chain_id, &context.consent_id);
    Ok(Checked {
        consent_purpose: record.purpose.clone(),
        patient_tag,
        submission: s,
        statement,
        digest,
        context,
        attester: anchor.attester,
        expires_at,
    })
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
