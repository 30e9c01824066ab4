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
    /// Of every reason that applies, the earliest is reported, so a historical `at` is
    /// judged by when the attestation first stopped holding.
    pub fn status(&mut self, a: &Attestation) -> Result<AttestationStatus, ContractError> {
        let (storage, ctx) = (self.deps.storage, &a.context);
        let mut reasons = vec![];
        if let Some(at) = REVOKED_CONSENTS.may_load(storage, (&ctx.chain_id, &ctx.consent_id))? {
            reasons.push(revoked(at, "consent revoked"));
        }
        if let Some(at) = SLASHED_ATTESTERS.may_load(storage, (&ctx.chain_id, &a.attester))? {
            reasons.push(revoked(at, "attester slashed"));
        }
        if let Some(at) = a.expires_at.filter(|t| *t <= self.block.time) {
            reasons.push(revoked(at, "expired"));
        }
        if matches!(a.origin, Origin::Local { .. }) {
            reasons.push(self.local_consent(&ctx.consent_id)?);
        }
        Ok(reasons
            .into_iter()
            .filter_map(|r| match &r {
                AttestationStatus::Revoked { at, .. } => Some((*at, r)),
                AttestationStatus::Valid => None,
            })
            .min_by_key(|(at, _)| *at)
            .map_or(AttestationStatus::Valid, |(_, r)| r))
    }

    fn local_consent(&mut self, consent_id: &str) -> Result<AttestationStatus, ContractError> {
        if let Some(known) = self.consents.get(consent_id) {
            return Ok(known.clone());
        }
        let consent = CONFIG.load(self.deps.storage)?.consent;
        let record = load_consent(self.deps, &consent, consent_id)?;
        let status = consent_status(&record, self.block);
        self.consents.insert(consent_id.into(), status.clone());
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
