//! The consent life cycle on a multi-test chain: grant, use, expiry, revocation, pagination,
//! pause and migration.

use cosmwasm_std::{Addr, Binary, Empty, Response, StdResult};
use cw2::ContractVersion;
use cw_multi_test::{ContractWrapper, Executor};
use healthmesh_consent::ContractError;
use healthmesh_controllers::pagination::{DEFAULT_LIMIT, MAX_LIMIT};
use healthmesh_controllers::pause::PauseError;
use healthmesh_testing::consent::{dataset, event_attr, ConsentSuite};
use healthmesh_testing::{contract_error, storage_snapshot};
use healthmesh_types::consent::{
    CheckAccessResponse, ConsentResponse, ConsentStatus, ConsentsResponse, DenialReason,
    EffectiveStatus, ExecuteMsg, MigrateMsg, QueryMsg, MAX_ACCESS_SCAN,
};
use healthmesh_types::pause::{PauseMsg, PauseStatusResponse};

fn denial(res: &CheckAccessResponse) -> Option<DenialReason> {
    assert_eq!(
        res.allowed,
        res.reason.is_none(),
        "allowed iff no reason: {res:?}"
    );
    res.reason.clone()
}

fn consent(suite: &ConsentSuite, token_id: &str) -> ConsentResponse {
    suite
        .query(&QueryMsg::Consent {
            token_id: token_id.into(),
        })
        .unwrap()
}

fn record_access(token_id: &str, attribute: &str) -> ExecuteMsg {
    ExecuteMsg::RecordAccess {
        token_id: token_id.into(),
        attribute: attribute.into(),
        reference: Some("query-42".into()),
    }
}

#[test]
fn grant_emits_event_and_check_access_explains_each_denial() {
    let mut suite = ConsentSuite::new();
    let patient = suite.patient.clone();
    let res = suite.execute(&patient, &suite.grant_msg()).unwrap();
    let ev = |k| event_attr(&res, "wasm-consent_granted", k);
    assert_eq!(ev("token_id").as_deref(), Some("1"));
    assert_eq!(ev("patient"), Some(suite.patient.to_string()));
    assert_eq!(ev("grantee"), Some(suite.grantee.to_string()));
    assert_eq!(ev("dataset"), Some(dataset(1).to_hex()));
    assert_eq!(ev("purpose").as_deref(), Some("trial-eligibility"));
    assert_eq!(ev("scope").as_deref(), Some("hba1c,age"));

    let ok: CheckAccessResponse = suite
        .query(&suite.check_access("trial-eligibility", "hba1c"))
        .unwrap();
    assert!(ok.allowed);
    assert_eq!(ok.token_id.as_deref(), Some("1"));
    assert_eq!(ok.patient, Some(suite.patient.clone()));

    let wrong_purpose: CheckAccessResponse = suite
        .query(&suite.check_access("genomics-research", "hba1c"))
        .unwrap();
    assert_eq!(denial(&wrong_purpose), Some(DenialReason::WrongPurpose));
    let out_of_scope: CheckAccessResponse = suite
        .query(&suite.check_access("trial-eligibility", "genotype:brca1"))
        .unwrap();
    assert_eq!(denial(&out_of_scope), Some(DenialReason::OutOfScope));

    let unknown: CheckAccessResponse = suite
        .query(&QueryMsg::CheckAccess {
            grantee: suite.stranger.to_string(),
            dataset: dataset(1),
            purpose: "trial-eligibility".into(),
            attribute: "hba1c".into(),
            token_id: None,
            patient: None,
        })
        .unwrap();
    assert_eq!(denial(&unknown), Some(DenialReason::Unknown));
    assert_eq!(unknown.token_id, None);

    // Naming the token checks exactly that grant; a token of another grantee is unknown.
    let mut by_token = suite.check_access("trial-eligibility", "age");
    if let QueryMsg::CheckAccess { token_id, .. } = &mut by_token {
        *token_id = Some("1".into());
    }
    assert!(
        suite
            .query::<CheckAccessResponse>(&by_token)
            .unwrap()
            .allowed
    );
    if let QueryMsg::CheckAccess { grantee, .. } = &mut by_token {
        *grantee = suite.stranger.to_string();
    }
    let foreign: CheckAccessResponse = suite.query(&by_token).unwrap();
    assert_eq!(denial(&foreign), Some(DenialReason::Unknown));
}

#[test]
fn grantee_records_use_until_expiry() {
    let mut suite = ConsentSuite::new();
    let token_id = suite.grant();
    let grantee = suite.grantee.clone();

    let res = suite
        .execute(&grantee, &record_access(&token_id, "age"))
        .unwrap();
    let ev = |k| event_attr(&res, "wasm-consent_used", k);
    assert_eq!(ev("attribute").as_deref(), Some("age"));
    assert_eq!(ev("reference").as_deref(), Some("query-42"));
    assert_eq!(ev("use_count").as_deref(), Some("1"));
    suite
        .execute(&grantee, &record_access(&token_id, "hba1c"))
        .unwrap();
    let record = consent(&suite, &token_id).record;
    assert_eq!(record.uses, 2);
    assert_eq!(record.last_used_at, Some(suite.app.block_info().time));

    // Only the grantee, only in scope.
    let stranger = suite.stranger.clone();
    let err = suite
        .execute(&stranger, &record_access(&token_id, "age"))
        .unwrap_err();
    assert!(matches!(
        contract_error::<ContractError>(err),
        ContractError::NotGrantee { sender, .. } if sender == stranger
    ));
    let err = suite
        .execute(&grantee, &record_access(&token_id, "genotype:brca1"))
        .unwrap_err();
    assert!(matches!(
        contract_error::<ContractError>(err),
        ContractError::AccessDenied { reason, .. } if reason == "OutOfScope"
    ));

    // 31 days later the 30-day grant has lapsed: still on record, no longer usable.
    suite.advance_days(31);
    let after = consent(&suite, &token_id);
    assert_eq!(after.effective_status, EffectiveStatus::Expired);
    assert_eq!(after.record.status, ConsentStatus::Active);
    let expired: CheckAccessResponse = suite
        .query(&suite.check_access("trial-eligibility", "hba1c"))
        .unwrap();
    assert_eq!(denial(&expired), Some(DenialReason::Expired));
    let err = suite
        .execute(&grantee, &record_access(&token_id, "age"))
        .unwrap_err();
    assert!(matches!(
        contract_error::<ContractError>(err),
        ContractError::AccessDenied { reason, .. } if reason == "Expired"
    ));
}

#[test]
fn revocation_keeps_the_record_and_only_issuer_or_admin_may_revoke() {
    let mut suite = ConsentSuite::new();
    let token_id = suite.grant();
    let revoke = |reason: Option<&str>| ExecuteMsg::RevokeConsent {
        token_id: token_id.clone(),
        reason: reason.map(String::from),
    };

    for outsider in [suite.grantee.clone(), suite.stranger.clone()] {
        let before = storage_snapshot(&suite.app, &suite.contract);
        let err = suite.execute(&outsider, &revoke(None)).unwrap_err();
        assert!(matches!(
            contract_error::<ContractError>(err),
            ContractError::NotIssuer { sender, .. } if sender == outsider
        ));
        assert_eq!(storage_snapshot(&suite.app, &suite.contract), before);
    }

    let patient = suite.patient.clone();
    let res = suite
        .execute(&patient, &revoke(Some("changed my mind")))
        .unwrap();
    assert_eq!(
        event_attr(&res, "wasm-consent_revoked", "revoked_by"),
        Some(patient.to_string())
    );
    let revoked = consent(&suite, &token_id);
    assert_eq!(revoked.effective_status, EffectiveStatus::Revoked);
    assert_eq!(
        revoked.record.status,
        ConsentStatus::Revoked {
            at: suite.app.block_info().time,
            height: suite.app.block_info().height,
            by: patient.clone(),
            reason: Some("changed my mind".into()),
        }
    );
    let check: CheckAccessResponse = suite
        .query(&suite.check_access("trial-eligibility", "hba1c"))
        .unwrap();
    assert_eq!(denial(&check), Some(DenialReason::Revoked));
    let err = suite.execute(&patient, &revoke(None)).unwrap_err();
    assert_eq!(
        contract_error::<ContractError>(err),
        ContractError::AlreadyRevoked(token_id.clone())
    );
    let grantee = suite.grantee.clone();
    let err = suite
        .execute(&grantee, &record_access(&token_id, "age"))
        .unwrap_err();
    assert!(matches!(
        contract_error::<ContractError>(err),
        ContractError::AccessDenied { reason, .. } if reason == "Revoked"
    ));

    // A newer grant of the same dataset allows access again; governance can revoke it.
    let second = suite.grant();
    assert!(
        suite
            .query::<CheckAccessResponse>(&suite.check_access("trial-eligibility", "hba1c"))
            .unwrap()
            .allowed
    );
    let admin = suite.admin.clone();
    suite
        .execute(
            &admin,
            &ExecuteMsg::RevokeConsent {
                token_id: second.clone(),
                reason: Some("governance decision 7".into()),
            },
        )
        .unwrap();
    assert_eq!(
        consent(&suite, &second).effective_status,
        EffectiveStatus::Revoked
    );
}

#[test]
fn list_queries_paginate_with_a_maximum() {
    let mut suite = ConsentSuite::new();
    let total = MAX_LIMIT as usize + 7;
    let ids: Vec<String> = (0..total).map(|_| suite.grant()).collect();
    // Another patient's grant on another dataset must not show up in the patient's lists.
    let other_patient = suite.app.api().addr_make("patient-carol");
    let mut other = suite.grant_msg();
    if let ExecuteMsg::GrantConsent { dataset: d, .. } = &mut other {
        *d = dataset(2);
    }
    suite.execute(&other_patient, &other).unwrap();

    let page = |suite: &ConsentSuite, start_after: Option<String>, limit| {
        suite
            .query::<ConsentsResponse>(&QueryMsg::GrantsByPatient {
                patient: suite.patient.to_string(),
                start_after,
                limit,
            })
            .unwrap()
            .consents
            .into_iter()
            .map(|c| c.token_id)
            .collect::<Vec<_>>()
    };
    assert_eq!(page(&suite, None, None).len(), DEFAULT_LIMIT as usize);
    assert_eq!(page(&suite, None, Some(1000)).len(), MAX_LIMIT as usize);

    let mut seen = vec![];
    let mut start_after = None;
    loop {
        let chunk = page(&suite, start_after.clone(), Some(8));
        if chunk.is_empty() {
            break;
        }
        start_after = chunk.last().cloned();
        seen.extend(chunk);
    }
    assert_eq!(seen, ids, "pages cover every grant once, in token order");

    let by_dataset: ConsentsResponse = suite
        .query(&QueryMsg::GrantsByDataset {
            dataset: dataset(2),
            start_after: None,
            limit: None,
        })
        .unwrap();
    assert_eq!(by_dataset.consents.len(), 1);
    assert_eq!(by_dataset.consents[0].record.patient, other_patient);

    let by_grantee: ConsentsResponse = suite
        .query(&QueryMsg::GrantsByGrantee {
            grantee: suite.grantee.to_string(),
            start_after: Some(ids[total - 2].clone()),
            limit: None,
        })
        .unwrap();
    let tail: Vec<_> = by_grantee.consents.iter().map(|c| &c.token_id).collect();
    assert_eq!(tail, vec![&ids[total - 1], &(total + 1).to_string()]);

    let err = suite
        .query::<ConsentsResponse>(&QueryMsg::GrantsByPatient {
            patient: suite.patient.to_string(),
            start_after: Some("x1".into()),
            limit: None,
        })
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("token id must be a decimal number"),
        "{err}"
    );
}

#[test]
fn check_access_scans_a_bounded_number_of_recent_grants() {
    let mut suite = ConsentSuite::new();
    let allowed = suite.grant();
    // Newer grants of the same dataset for another purpose push the allowing one out of
    // the bounded scan; naming its token still finds it.
    let mut other_purpose = suite.grant_msg();
    if let ExecuteMsg::GrantConsent { purpose, .. } = &mut other_purpose {
        *purpose = "genomics-research".into();
    }
    let patient = suite.patient.clone();
    for _ in 0..MAX_ACCESS_SCAN {
        suite.execute(&patient, &other_purpose).unwrap();
    }
    let scan: CheckAccessResponse = suite
        .query(&suite.check_access("trial-eligibility", "hba1c"))
        .unwrap();
    assert_eq!(denial(&scan), Some(DenialReason::WrongPurpose));
    let mut exact = suite.check_access("trial-eligibility", "hba1c");
    if let QueryMsg::CheckAccess { token_id, .. } = &mut exact {
        *token_id = Some(allowed.clone());
    }
    let exact: CheckAccessResponse = suite.query(&exact).unwrap();
    assert!(exact.allowed);
    assert_eq!(exact.token_id, Some(allowed));
}

#[test]
fn pause_blocks_state_changes_until_unpaused() {
    let mut suite = ConsentSuite::new();
    let token_id = suite.grant();
    let (council, admin, stranger) = (
        suite.council.clone(),
        suite.admin.clone(),
        suite.stranger.clone(),
    );
    let pause = ExecuteMsg::Pausable(PauseMsg::Pause {
        reason: "incident 12".into(),
    });

    let err = suite.execute(&stranger, &pause).unwrap_err();
    assert_eq!(
        contract_error::<ContractError>(err),
        ContractError::Pause(PauseError::NotPauser(stranger.clone()))
    );
    suite.execute(&council, &pause).unwrap();
    let status: PauseStatusResponse = suite.query(&QueryMsg::PauseStatus {}).unwrap();
    let info = status.paused.expect("paused");
    assert_eq!(
        (info.paused_by, info.reason.as_str()),
        (council.clone(), "incident 12")
    );

    let before = storage_snapshot(&suite.app, &suite.contract);
    let (patient, grantee) = (suite.patient.clone(), suite.grantee.clone());
    let blocked = [
        (patient.clone(), suite.grant_msg()),
        (grantee.clone(), record_access(&token_id, "age")),
    ];
    // (Revoking consent is never paused: see security_review::m5_*.)
    for (sender, msg) in &blocked {
        let err = suite.execute(sender, msg).unwrap_err();
        assert!(
            matches!(
                contract_error::<ContractError>(err),
                ContractError::Pause(PauseError::Paused { ref reason, .. }) if reason == "incident 12"
            ),
            "{msg:?} must be refused while paused"
        );
    }
    assert_eq!(storage_snapshot(&suite.app, &suite.contract), before);
    // Reads keep working while paused.
    assert!(
        suite
            .query::<CheckAccessResponse>(&suite.check_access("trial-eligibility", "age"))
            .unwrap()
            .allowed
    );

    // Pauser list is the admin's to change; the admin can always unpause.
    let err = suite
        .execute(
            &council,
            &ExecuteMsg::Pausable(PauseMsg::UpdatePausers {
                add: vec![stranger.to_string()],
                remove: vec![],
            }),
        )
        .unwrap_err();
    assert_eq!(
        contract_error::<ContractError>(err),
        ContractError::Pause(PauseError::NotAdmin)
    );
    suite
        .execute(&admin, &ExecuteMsg::Pausable(PauseMsg::Unpause {}))
        .unwrap();
    for (sender, msg) in &blocked {
        suite.execute(sender, msg).unwrap();
    }
}

#[test]
fn a_pause_nobody_lifts_lapses_after_max_pause() {
    let mut suite = ConsentSuite::new();
    let council = suite.council.clone();
    let pause = ExecuteMsg::Pausable(PauseMsg::Pause {
        reason: "council lost quorum".into(),
    });
    suite.execute(&council, &pause).unwrap();
    let status: PauseStatusResponse = suite.query(&QueryMsg::PauseStatus {}).unwrap();
    let max = status.max_pause_seconds;
    assert_eq!(
        max,
        healthmesh_controllers::pause::DEFAULT_MAX_PAUSE_SECONDS
    );
    let patient = suite.patient.clone();
    assert!(suite.execute(&patient, &suite.grant_msg()).is_err());
    suite
        .app
        .update_block(|b| b.time = b.time.plus_seconds(max));
    let status: PauseStatusResponse = suite.query(&QueryMsg::PauseStatus {}).unwrap();
    assert_eq!(status.paused, None);
    suite.grant();
}

#[test]
fn admin_role_moves_in_two_steps() {
    let mut suite = ConsentSuite::new();
    let (admin, new_admin) = (
        suite.admin.clone(),
        suite.app.api().addr_make("governance-v2"),
    );
    suite
        .execute(
            &admin,
            &ExecuteMsg::UpdateCreatorOwnership(cw_ownable::Action::TransferOwnership {
                new_owner: new_admin.to_string(),
                expiry: None,
            }),
        )
        .unwrap();
    let token_id = suite.grant();
    // Until accepted, the old admin is still the admin.
    let pending: cw_ownable::Ownership<Addr> =
        suite.query(&QueryMsg::GetCreatorOwnership {}).unwrap();
    assert_eq!(pending.owner, Some(admin.clone()));
    assert_eq!(pending.pending_owner, Some(new_admin.clone()));
    suite
        .execute(
            &new_admin,
            &ExecuteMsg::UpdateCreatorOwnership(cw_ownable::Action::AcceptOwnership),
        )
        .unwrap();
    let err = suite
        .execute(
            &admin,
            &ExecuteMsg::RevokeConsent {
                token_id: token_id.clone(),
                reason: None,
            },
        )
        .unwrap_err();
    assert!(matches!(
        contract_error::<ContractError>(err),
        ContractError::NotIssuer { .. }
    ));
    suite
        .execute(
            &new_admin,
            &ExecuteMsg::RevokeConsent {
                token_id,
                reason: None,
            },
        )
        .unwrap();
}

/// A stand-in for another contract's code, to migrate *from*: its instantiate only records
/// the cw2 version it is given.
fn versioned_code() -> Box<dyn cw_multi_test::Contract<Empty>> {
    Box::new(ContractWrapper::new(
        |_, _, _, _: Empty| -> StdResult<Response> { unreachable!("never executed") },
        |deps, _, _, v: ContractVersion| -> StdResult<Response> {
            cw2::set_contract_version(deps.storage, v.contract, v.version)?;
            Ok(Response::new())
        },
        |_, _, _: Empty| -> StdResult<Binary> { unreachable!("never queried") },
    ))
}

#[test]
fn migrate_keeps_records_and_refuses_foreign_or_newer_state() {
    let mut suite = ConsentSuite::new();
    let token_id = suite.grant();
    let admin = suite.admin.clone();
    let code_id = suite.code_id;
    let contract = suite.contract.clone();
    let res = suite
        .app
        .migrate_contract(admin.clone(), contract.clone(), &MigrateMsg {}, code_id)
        .unwrap();
    assert_eq!(
        event_attr(&res, "wasm", "to_version").as_deref(),
        Some(env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(consent(&suite, &token_id).record.patient, suite.patient);
    let version = cw2::query_contract_info(&suite.app.wrap(), contract.to_string()).unwrap();
    assert_eq!(version.contract, "crates.io:healthmesh-consent");

    for (name, version, expected) in [
        (
            "crates.io:cw20-base",
            "1.0.0",
            "cannot migrate from contract crates.io:cw20-base",
        ),
        (
            "crates.io:healthmesh-consent",
            "99.0.0",
            "cannot migrate from version 99.0.0 to older version",
        ),
        // State from before the security review (no recorded layout): a new deployment.
        (
            "crates.io:healthmesh-consent",
            "0.0.1",
            "cannot be migrated in place",
        ),
    ] {
        let other_code = suite.app.store_code(versioned_code());
        let stored = ContractVersion {
            contract: name.into(),
            version: version.into(),
        };
        let other = suite
            .app
            .instantiate_contract(
                other_code,
                admin.clone(),
                &stored,
                &[],
                "other",
                Some(admin.to_string()),
            )
            .unwrap();
        let err = suite
            .app
            .migrate_contract(admin.clone(), other, &MigrateMsg {}, code_id)
            .unwrap_err();
        let err = contract_error::<ContractError>(err);
        assert!(err.to_string().contains(expected), "{err}");
    }
}
