//! The one rule deciding whether a consent record allows a use; `check_access` and
//! `record_access` both go through it.

use cosmwasm_std::{Addr, BlockInfo, Deps, HexBinary, Order};
use healthmesh_types::consent::{
    CheckAccessResponse, ConsentRecord, ConsentStatus, DenialReason, EffectiveStatus,
    MAX_ACCESS_SCAN,
};

use crate::state::{consents, load_consent};
use crate::ContractError;

pub fn effective_status(record: &ConsentRecord, block: &BlockInfo) -> EffectiveStatus {
    match record.status {
        ConsentStatus::Revoked { .. } => EffectiveStatus::Revoked,
        ConsentStatus::Active if record.expires.is_expired(block) => EffectiveStatus::Expired,
        ConsentStatus::Active => EffectiveStatus::Active,
    }
}

/// `Ok` if `record` allows `attribute` for `purpose` now; otherwise the first check it fails,
/// in the order purpose, scope, revocation, expiry.
pub fn evaluate(
    record: &ConsentRecord,
    block: &BlockInfo,
    purpose: &str,
    attribute: &str,
) -> Result<(), DenialReason> {
    if record.purpose != purpose {
        return Err(DenialReason::WrongPurpose);
    }
    if !record.scope.iter().any(|a| a == attribute) {
        return Err(DenialReason::OutOfScope);
    }
    match effective_status(record, block) {
        EffectiveStatus::Active => Ok(()),
        EffectiveStatus::Revoked => Err(DenialReason::Revoked),
        EffectiveStatus::Expired => Err(DenialReason::Expired),
    }
}

/// How many checks a denied grant passed: the caller is told about the closest grant.
fn closeness(reason: &DenialReason) -> u8 {
    match reason {
        DenialReason::Unknown => 0,
        DenialReason::WrongPurpose => 1,
        DenialReason::OutOfScope => 2,
        DenialReason::Revoked => 3,
        DenialReason::Expired => 4,
    }
}

pub struct AccessQuery<'a> {
    pub grantee: &'a Addr,
    pub dataset: &'a HexBinary,
    pub purpose: &'a str,
    pub attribute: &'a str,
    pub patient: Option<&'a Addr>,
}

impl AccessQuery<'_> {
    fn covers(&self, record: &ConsentRecord) -> bool {
        record.grantee == *self.grantee
            && record.dataset == *self.dataset
            && self.patient.is_none_or(|p| record.patient == *p)
    }

    fn answer(&self, token_id: u64, record: &ConsentRecord, block: &BlockInfo) -> Verdict {
        let result = if self.covers(record) {
            evaluate(record, block, self.purpose, self.attribute)
        } else {
            Err(DenialReason::Unknown)
        };
        Verdict {
            token_id,
            patient: record.patient.clone(),
            result,
        }
    }
}

struct Verdict {
    token_id: u64,
    patient: Addr,
    result: Result<(), DenialReason>,
}

/// The response for the deciding grant, or for no grant at all.
fn respond(verdict: Option<Verdict>) -> CheckAccessResponse {
    match verdict {
        None => CheckAccessResponse {
            allowed: false,
            token_id: None,
            patient: None,
            reason: Some(DenialReason::Unknown),
        },
        Some(v) => CheckAccessResponse {
            allowed: v.result.is_ok(),
            token_id: Some(v.token_id.to_string()),
            patient: Some(v.patient),
            reason: v.result.err(),
        },
    }
}

/// Check one named grant.
pub fn check_token(
    deps: Deps,
    block: &BlockInfo,
    query: &AccessQuery,
    token_id: &str,
) -> Result<CheckAccessResponse, ContractError> {
    let verdict = match load_consent(deps.storage, token_id) {
        Ok((id, record)) => Some(query.answer(id, &record, block)),
        Err(ContractError::ConsentNotFound(_)) => None,
        Err(err) => return Err(err),
    };
    Ok(respond(verdict))
}

/// Check the grantee's most recent grants on the dataset; the first that allows wins,
/// otherwise the closest denial is reported.
pub fn check_recent_grants(
    deps: Deps,
    block: &BlockInfo,
    query: &AccessQuery,
) -> Result<CheckAccessResponse, ContractError> {
    let idx = consents().idx;
    let grants: Box<dyn Iterator<Item = _>> = match query.patient {
        Some(patient) => idx
            .grantee_dataset_patient
            .prefix((
                query.grantee.clone(),
                query.dataset.to_vec(),
                patient.clone(),
            ))
            .range(deps.storage, None, None, Order::Descending),
        None => idx
            .grantee_dataset
            .prefix((query.grantee.clone(), query.dataset.to_vec()))
            .range(deps.storage, None, None, Order::Descending),
    };
    let grants = grants.take(MAX_ACCESS_SCAN);
    let mut closest: Option<(u8, Verdict)> = None;
    for grant in grants {
        let (token_id, record) = grant?;
        if !query.covers(&record) {
            continue; // another patient's grant, when the caller named a patient
        }
        let verdict = query.answer(token_id, &record, block);
        let rank = match &verdict.result {
            Ok(()) => return Ok(respond(Some(verdict))),
            Err(reason) => closeness(reason),
        };
        if closest.as_ref().is_none_or(|(best, _)| rank > *best) {
            closest = Some((rank, verdict));
        }
    }
    Ok(respond(closest.map(|(_, verdict)| verdict)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use cosmwasm_std::testing::{mock_env, MockApi};
    use cw_utils::Expiration;

    fn record(status: ConsentStatus, expires: Expiration) -> ConsentRecord {
        let api = MockApi::default();
        ConsentRecord {
            patient: api.addr_make("patient"),
            grantee: api.addr_make("grantee"),
            dataset: HexBinary::from(vec![1u8; 32]),
            purpose: "trial-eligibility".into(),
            scope: vec!["hba1c".into()],
            issued_at: mock_env().block.time,
            issued_height: 1,
            expires,
            status,
            uses: 0,
            last_used_at: None,
        }
    }

    #[test]
    fn checks_run_in_order_purpose_scope_revocation_expiry() {
        let block = mock_env().block;
        let past = Expiration::AtHeight(block.height);
        let revoked = ConsentStatus::Revoked {
            at: block.time,
            height: block.height,
            by: MockApi::default().addr_make("patient"),
            reason: None,
        };
        let both = record(revoked, past);
        assert_eq!(
            evaluate(&both, &block, "genomics-research", "hba1c"),
            Err(DenialReason::WrongPurpose)
        );
        assert_eq!(
            evaluate(&both, &block, "trial-eligibility", "age"),
            Err(DenialReason::OutOfScope)
        );
        assert_eq!(
            evaluate(&both, &block, "trial-eligibility", "hba1c"),
            Err(DenialReason::Revoked)
        );
        let expired = record(ConsentStatus::Active, past);
        assert_eq!(
            evaluate(&expired, &block, "trial-eligibility", "hba1c"),
            Err(DenialReason::Expired)
        );
        let active = record(ConsentStatus::Active, Expiration::Never {});
        assert_eq!(
            evaluate(&active, &block, "trial-eligibility", "hba1c"),
            Ok(())
        );
        assert_eq!(effective_status(&active, &block), EffectiveStatus::Active);
    }

    #[test]
    fn closer_denials_rank_higher() {
        let ranked = [
            DenialReason::Unknown,
            DenialReason::WrongPurpose,
            DenialReason::OutOfScope,
            DenialReason::Revoked,
            DenialReason::Expired,
        ];
        assert!(ranked
            .windows(2)
            .all(|w| closeness(&w[0]) < closeness(&w[1])));
    }
}
