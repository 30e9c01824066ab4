//! Whether a recorded attestation holds: read at use time from tombstones and, for local
//! records, from the consent itself, so revocation and slashing are complete without
//! touching a single record (no loop an attacker can pad).

use std::collections::BTreeMap;

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

/// Effective statuses, reading each local consent once however many records share it.
pub struct Validity<'a> {
    deps: Deps<'a>,
    block: &'a BlockInfo,
    consents: BTreeMap<String, AttestationStatus>,
}

impl<'a> Validity<'a> {
    pub fn new(deps: Deps<'a>, block: &'a BlockInfo) -> Self {
        Validity {
            deps,
            block,
            consents: BTreeMap::new(),
        }
    }

    /// The status of `a` now: `Revoked` (with when and why) once its consent is revoked or
    /// expired, or its attester slashed.
    pub fn status(&mut self, a: &Attestation) -> Result<AttestationStatus, ContractError> {
        let (storage, ctx) = (self.deps.storage, &a.context);
        if let Some(at) = REVOKED_CONSENTS.may_load(storage, (&ctx.chain_id, &ctx.consent_id))? {
            return Ok(revoked(at, "consent revoked"));
        }
        if let Some(at) = SLASHED_ATTESTERS.may_load(storage, (&ctx.chain_id, &a.attester))? {
            return Ok(revoked(at, "attester slashed"));
        }
        if !matches!(a.origin, Origin::Local { .. }) {
            return Ok(AttestationStatus::Valid);
        }
        if let Some(known) = self.consents.get(&ctx.consent_id) {
            return Ok(known.clone());
        }
        let consent = CONFIG.load(storage)?.consent;
        let record = load_consent(self.deps, &consent, &ctx.consent_id)?;
        let status = consent_status(&record, self.block);
        self.consents.insert(ctx.consent_id.clone(), status.clone());
        Ok(status)
    }
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
