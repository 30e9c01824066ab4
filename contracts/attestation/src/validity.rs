//! Whether a recorded attestation holds: read at use time from tombstones and, for local
//! records, from the consent itself, so revocation and slashing are complete without
//! touching a single record (no loop an attacker can pad).

use cosmwasm_std::{BlockInfo, Deps, Timestamp};
use cw_utils::Expiration;
use healthmesh_types::attestation::{Attestation, AttestationStatus, Origin};
use healthmesh_types::consent::{ConsentRecord, ConsentStatus};

use crate::state::{CONFIG, REVOKED_CONSENTS, SLASHED_ATTESTERS};
use crate::submit::load_consent;
use crate::ContractError;

fn revoked(at: Timestamp, reason: &str) -> AttestationStatus {
    AttestationStatus::Revoked {
        at,
        reason: reason.into(),
    }
}

/// The status of `a` now: `Revoked` (with when and why) once its consent is revoked or
/// expired, or its attester slashed.
pub fn status(
    deps: Deps,
    block: &BlockInfo,
    a: &Attestation,
) -> Result<AttestationStatus, ContractError> {
    let ctx = &a.context;
    if let Some(at) = REVOKED_CONSENTS.may_load(deps.storage, (&ctx.chain_id, &ctx.consent_id))? {
        return Ok(revoked(at, "consent revoked"));
    }
    if let Some(at) = SLASHED_ATTESTERS.may_load(deps.storage, (&ctx.chain_id, &a.attester))? {
        return Ok(revoked(at, "attester slashed"));
    }
    if matches!(a.origin, Origin::Local { .. }) {
        let consent = CONFIG.load(deps.storage)?.consent;
        let record = load_consent(deps, &consent, &ctx.consent_id)?;
        return Ok(consent_status(&record, block));
    }
    Ok(AttestationStatus::Valid)
}

/// What the consent itself says about the attestations made under it.
pub fn consent_status(record: &ConsentRecord, block: &BlockInfo) -> AttestationStatus {
    match &record.status {
        ConsentStatus::Revoked { at, .. } => revoked(*at, "consent revoked"),
        ConsentStatus::Active if record.expires.is_expired(block) => {
            let at = match record.expires {
                Expiration::AtTime(t) => t,
                _ => block.time,
            };
            revoked(at, "consent expired")
        }
        ConsentStatus::Active => AttestationStatus::Valid,
    }
}

/// Was `a` (with effective `status`) valid at time `at`?
pub fn valid_at(a: &Attestation, status: &AttestationStatus, at: Timestamp) -> bool {
    let not_revoked = match status {
        AttestationStatus::Valid => true,
        AttestationStatus::Revoked { at: revoked, .. } => at < *revoked,
    };
    not_revoked && a.recorded_at <= at && a.expires_at.is_none_or(|t| at < t)
}
