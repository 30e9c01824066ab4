//! zk enrollment: a patient points to attestations this chain holds — received over IBC or
//! submitted here — under one consent they granted to this contract for `trial:<id>`, which
//! together cover every eligibility criterion. The contract reads each from the attestation
//! contract (its effective status covers revocation, expiry and slashing), recognises the
//! patient by the consent's patient tag, and records who enrolled under which consent — no
//! value. Revoking the consent makes the participant inactive at once (`participant` query),
//! and a milestone is paid only to an active participant.

use cosmwasm_std::{Addr, Deps, DepsMut, Env, Event, MessageInfo, Order, Response, StdResult};
use cw_storage_plus::Bound;
use healthmesh_controllers::identity::patient_tag;
use healthmesh_controllers::pagination::clamp_limit;
use healthmesh_types::attestation::{Attestation, AttestationStatus, QueryMsg as AttestationQuery};
use healthmesh_types::events::{self, attr};
use healthmesh_types::trials::{
    Enrollment, EnrollmentStatus, ParticipantResponse, ParticipantsResponse, Trial, TrialStatus,
    MAX_ENROLL_ATTESTATIONS,
};

use crate::contract::load;
use crate::eligibility::implies;
use crate::state::{ATTESTATION, CONSENTS_ENROLLED, ENROLLED_COUNT, ENROLLMENTS, PAUSE};
use crate::ContractError;

fn refused(reason: impl Into<String>) -> ContractError {
    ContractError::NotEligible(reason.into())
}

pub fn enroll(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    trial_id: u64,
    attestation_ids: Vec<u64>,
) -> Result<Response, ContractError> {
    PAUSE.assert_not_paused(deps.storage, &env.block)?;
    let trial = load(deps.as_ref(), trial_id)?;
    assert_open(&trial, &env)?;
    let count = ENROLLED_COUNT
        .may_load(deps.storage, trial_id)?
        .unwrap_or_default();
    if count >= trial.capacity {
        return Err(ContractError::TrialFull(trial_id));
    }
    if ENROLLMENTS.has(deps.storage, (trial_id, &info.sender)) {
        return Err(ContractError::AlreadyEnrolled {
            trial_id,
            participant: info.sender.to_string(),
        });
    }
    let (chain, consent) =
        check_attestations(deps.as_ref(), &env, &trial, &info.sender, &attestation_ids)?;
    if let Some(other) = CONSENTS_ENROLLED.may_load(deps.storage, (trial_id, &chain, &consent))? {
        return Err(refused(format!(
            "consent {consent} of {chain} already enrolled {other}"
        )));
    }

    let enrollment = Enrollment {
        trial_id,
        participant: info.sender.clone(),
        source_chain: chain.clone(),
        consent_id: consent.clone(),
        attestation_ids,
        enrolled_at: env.block.time,
        status: EnrollmentStatus::Enrolled,
    };
    ENROLLMENTS.save(deps.storage, (trial_id, &info.sender), &enrollment)?;
    CONSENTS_ENROLLED.save(deps.storage, (trial_id, &chain, &consent), &info.sender)?;
    ENROLLED_COUNT.save(deps.storage, trial_id, &(count + 1))?;
    let event = Event::new(events::PARTICIPANT_ENROLLED)
        .add_attribute(attr::TRIAL_ID, trial_id.to_string())
        .add_attribute("participant", &info.sender)
        .add_attribute(attr::SOURCE_CHAIN, chain)
        .add_attribute(attr::CONSENT_ID, consent)
        .add_attribute("enrolled", (count + 1).to_string());
    Ok(Response::new()
        .add_attribute("action", "enroll")
        .add_event(event))
}

/// Not suspended by governance.
pub(crate) fn assert_not_suspended(trial: &Trial) -> Result<(), ContractError> {
    if let TrialStatus::Suspended { reason, .. } = &trial.status {
        return Err(ContractError::TrialSuspended {
            trial_id: trial.id,
            reason: reason.clone(),
        });
    }
    Ok(())
}

fn assert_open(trial: &Trial, env: &Env) -> Result<(), ContractError> {
    assert_not_suspended(trial)?;
    let now = env.block.time;
    if now < trial.enrollment_opens || now >= trial.enrollment_closes {
        return Err(ContractError::EnrollmentClosed(trial.id));
    }
    Ok(())
}

pub(crate) fn attestation(deps: Deps, id: u64) -> Result<Attestation, ContractError> {
    let contract = ATTESTATION.load(deps.storage)?;
    deps.querier
        .query_wasm_smart(contract, &AttestationQuery::Attestation { id })
        .map_err(|_| refused(format!("attestation {id} not found on this chain")))
}

/// The (source chain, consent id) every attestation is under, once each is shown valid,
/// granted to this contract for this trial by `patient`, and the criteria covered.
fn check_attestations(
    deps: Deps,
    env: &Env,
    trial: &Trial,
    patient: &Addr,
    ids: &[u64],
) -> Result<(String, String), ContractError> {
    if ids.is_empty() || ids.len() > MAX_ENROLL_ATTESTATIONS {
        return Err(refused(format!(
            "name 1 to {MAX_ENROLL_ATTESTATIONS} attestations"
        )));
    }
    let patient_bytes = deps.api.addr_canonicalize(patient.as_str())?;
    let purpose = trial.purpose();
    let mut under: Option<(String, String)> = None;
    let mut proven = Vec::with_capacity(ids.len());
    for (i, id) in ids.iter().enumerate() {
        if ids[..i].contains(id) {
            return Err(refused(format!("attestation {id} is named twice")));
        }
        let a = attestation(deps, *id)?;
        if let AttestationStatus::Revoked { reason, .. } = &a.status {
            return Err(refused(format!(
                "attestation {id} is no longer valid: {reason}"
            )));
        }
        let ctx = &a.context;
        let consent = (ctx.chain_id.clone(), ctx.consent_id.clone());
        match &under {
            None => under = Some(consent),
            Some(first) if *first != consent => {
                return Err(refused("the attestations are under different consents"));
            }
            Some(_) => {}
        }
        if ctx.grantee != env.contract.address.as_str() || a.consent_purpose != purpose {
            return Err(refused(format!(
                "attestation {id} is not under a consent granted to this contract for {purpose}"
            )));
        }
        let tag = patient_tag(&patient_bytes, &ctx.chain_id, &ctx.consent_id);
        if a.patient_tag.as_ref() != Some(&tag) {
            return Err(refused(format!(
                "attestation {id} is under another patient's consent"
            )));
        }
        proven.push(a);
    }
    for criterion in &trial.criteria {
        let covered = proven.iter().any(|a| {
            a.attribute == criterion.attribute && implies(&a.predicate, &criterion.predicate)
        });
        if !covered {
            return Err(refused(format!(
                "no attestation shows {} {} {:?}",
                criterion.attribute,
                criterion.predicate.op.name(),
                criterion.predicate.values
            )));
        }
    }
    Ok(under.expect("at least one attestation"))
}

/// Never paused: a participant can always leave.
pub fn withdraw(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    trial_id: u64,
) -> Result<Response, ContractError> {
    let key = (trial_id, &info.sender);
    let mut enrollment =
        ENROLLMENTS
            .may_load(deps.storage, key)?
            .ok_or_else(|| ContractError::NotEnrolled {
                trial_id,
                participant: info.sender.to_string(),
            })?;
    if let EnrollmentStatus::Withdrawn { .. } = enrollment.status {
        return Err(ContractError::NotEnrolled {
            trial_id,
            participant: info.sender.to_string(),
        });
    }
    enrollment.status = EnrollmentStatus::Withdrawn { at: env.block.time };
    ENROLLMENTS.save(deps.storage, key, &enrollment)?;
    ENROLLED_COUNT.update(deps.storage, trial_id, |n| -> StdResult<u32> {
        Ok(n.unwrap_or_default().saturating_sub(1))
    })?;
    Ok(Response::new()
        .add_attribute("action", "withdraw")
        .add_event(
            Event::new(events::PARTICIPANT_WITHDRAWN)
                .add_attribute(attr::TRIAL_ID, trial_id.to_string())
                .add_attribute("participant", &info.sender),
        ))
}

/// The enrollment and whether it holds now.
pub fn participant(
    deps: Deps,
    trial_id: u64,
    participant: &Addr,
) -> Result<ParticipantResponse, ContractError> {
    let enrollment = ENROLLMENTS
        .may_load(deps.storage, (trial_id, participant))?
        .ok_or_else(|| ContractError::NotEnrolled {
            trial_id,
            participant: participant.to_string(),
        })?;
    let reason = match enrollment.status {
        EnrollmentStatus::Withdrawn { .. } => Some("withdrew".to_string()),
        EnrollmentStatus::Enrolled => lapsed(deps, &enrollment)?,
    };
    Ok(ParticipantResponse {
        active: reason.is_none(),
        reason,
        enrollment,
    })
}

/// Why an enrollment no longer holds (its consent revoked, an attestation expired or its
/// attester slashed), if it does not.
fn lapsed(deps: Deps, enrollment: &Enrollment) -> Result<Option<String>, ContractError> {
    for id in &enrollment.attestation_ids {
        if let AttestationStatus::Revoked { reason, .. } = attestation(deps, *id)?.status {
            return Ok(Some(format!("attestation {id}: {reason}")));
        }
    }
    Ok(None)
}

pub fn participants(
    deps: Deps,
    trial_id: u64,
    start_after: Option<String>,
    limit: Option<u32>,
) -> Result<ParticipantsResponse, ContractError> {
    let start = start_after
        .map(|a| deps.api.addr_validate(&a))
        .transpose()?;
    let participants = ENROLLMENTS
        .prefix(trial_id)
        .range(
            deps.storage,
            start.as_ref().map(Bound::exclusive),
            None,
            Order::Ascending,
        )
        .take(clamp_limit(limit))
        .map(|item| item.map(|(_, e)| e))
        .collect::<StdResult<Vec<_>>>()?;
    Ok(ParticipantsResponse {
        participants,
        enrolled: ENROLLED_COUNT
            .may_load(deps.storage, trial_id)?
            .unwrap_or_default(),
    })
}
