//! Every malformed or unauthorized message gets its typed error and changes no state.

use cosmwasm_std::{coins, Binary, CosmosMsg, HexBinary, WasmMsg};
use cw_multi_test::Executor;
use cw_utils::Expiration;
use healthmesh_consent::ContractError;
use healthmesh_controllers::validate::ValidationError;
use healthmesh_testing::consent::{dataset, ConsentSuite};
use healthmesh_testing::{contract_error, storage_snapshot};
use healthmesh_types::consent::{
    CheckAccessResponse, ConsentResponse, ExecuteMsg, QueryMsg, MAX_NOTE_LEN, MAX_SCOPE,
};

/// Runs `msg` from `sender`, expects it to fail, and checks the contract's storage is unchanged.
fn refused(
    suite: &mut ConsentSuite,
    sender: &cosmwasm_std::Addr,
    msg: &ExecuteMsg,
) -> ContractError {
    let before = storage_snapshot(&suite.app, &suite.contract);
    let err = suite.execute(sender, msg).unwrap_err();
    assert_eq!(
        storage_snapshot(&suite.app, &suite.contract),
        before,
        "{msg:?} changed state"
    );
    contract_error(err)
}

fn grant_with(suite: &ConsentSuite, edit: impl FnOnce(&mut ExecuteMsg)) -> ExecuteMsg {
    let mut msg = suite.grant_msg();
    edit(&mut msg);
    msg
}

macro_rules! set {
    ($suite:expr, $field:ident = $value:expr) => {
        grant_with(&$suite, |m| {
            if let ExecuteMsg::GrantConsent { $field, .. } = m {
                *$field = $value;
            }
        })
    };
}

#[test]
fn malformed_grants_are_refused_with_typed_errors() {
    let mut suite = ConsentSuite::new();
    suite.grant();
    let patient = suite.patient.clone();
    let now = suite.app.block_info();

    let cases: Vec<(ExecuteMsg, ContractError)> = vec![
        (
            set!(suite, dataset = HexBinary::from(vec![1u8; 31])),
            ValidationError::CommitmentLength {
                field: "dataset",
                len: 31,
            }
            .into(),
        ),
        (
            set!(suite, dataset = HexBinary::from(vec![0u8; 32])),
            ValidationError::ZeroCommitment { field: "dataset" }.into(),
        ),
        (
            set!(suite, purpose = "Trial Eligibility".into()),
            ValidationError::Charset {
                field: "purpose",
                value: "Trial Eligibility".into(),
            }
            .into(),
        ),
        (
            set!(suite, scope = vec![]),
            ValidationError::ListLength {
                field: "scope",
                max: MAX_SCOPE,
                len: 0,
            }
            .into(),
        ),
        (
            set!(suite, scope = vec!["age".into(), "age".into()]),
            ValidationError::Duplicate {
                field: "scope",
                value: "age".into(),
            }
            .into(),
        ),
        (
            set!(
                suite,
                scope = (0..=MAX_SCOPE).map(|i| format!("a{i}")).collect()
            ),
            ValidationError::ListLength {
                field: "scope",
                max: MAX_SCOPE,
                len: MAX_SCOPE + 1,
            }
            .into(),
        ),
        (
            set!(suite, expires = Expiration::AtTime(now.time)),
            ContractError::AlreadyExpired(Expiration::AtTime(now.time).to_string()),
        ),
        (
            set!(suite, expires = Expiration::AtHeight(now.height)),
            ContractError::AlreadyExpired(Expiration::AtHeight(now.height).to_string()),
        ),
        (
            set!(suite, grantee = patient.to_string()),
            ContractError::SelfGrant,
        ),
    ];
    for (msg, expected) in cases {
        assert_eq!(refused(&mut suite, &patient, &msg), expected, "{msg:?}");
    }

    let bad_address = set!(suite, grantee = "not-an-address".into());
    assert!(matches!(
        refused(&mut suite, &patient, &bad_address),
        ContractError::Std(_)
    ));
}

#[test]
fn unknown_or_malformed_token_ids_are_refused() {
    let mut suite = ConsentSuite::new();
    suite.grant();
    let patient = suite.patient.clone();
    for (token_id, expected) in [
        ("999", ContractError::ConsentNotFound("999".into())),
        ("01", ContractError::InvalidTokenId("01".into())),
        ("+1", ContractError::InvalidTokenId("+1".into())),
        ("", ContractError::InvalidTokenId("".into())),
        (
            "consent-1",
            ContractError::InvalidTokenId("consent-1".into()),
        ),
    ] {
        let msg = ExecuteMsg::RevokeConsent {
            token_id: token_id.into(),
            reason: None,
        };
        assert_eq!(refused(&mut suite, &patient, &msg), expected);
        let err = suite
            .query::<ConsentResponse>(&QueryMsg::Consent {
                token_id: token_id.into(),
            })
            .unwrap_err();
        assert!(err.to_string().contains(&expected.to_string()), "{err}");
    }
}

#[test]
fn oversized_notes_and_bad_attributes_are_refused() {
    let mut suite = ConsentSuite::new();
    let token_id = suite.grant();
    let (patient, grantee) = (suite.patient.clone(), suite.grantee.clone());
    let long = "x".repeat(MAX_NOTE_LEN + 1);

    let revoke = ExecuteMsg::RevokeConsent {
        token_id: token_id.clone(),
        reason: Some(long.clone()),
    };
    assert_eq!(
        refused(&mut suite, &patient, &revoke),
        ValidationError::Length {
            field: "reason",
            min: 0,
            max: MAX_NOTE_LEN,
            len: MAX_NOTE_LEN + 1
        }
        .into()
    );
    let use_long_ref = ExecuteMsg::RecordAccess {
        token_id: token_id.clone(),
        attribute: "age".into(),
        reference: Some(long),
    };
    assert!(matches!(
        refused(&mut suite, &grantee, &use_long_ref),
        ContractError::Validation(ValidationError::Length {
            field: "reference",
            ..
        })
    ));
    let use_bad_attribute = ExecuteMsg::RecordAccess {
        token_id,
        attribute: "HbA1c %".into(),
        reference: None,
    };
    assert!(matches!(
        refused(&mut suite, &grantee, &use_bad_attribute),
        ContractError::Validation(ValidationError::Charset {
            field: "attribute",
            ..
        })
    ));
}

#[test]
fn funds_are_refused() {
    let mut suite = ConsentSuite::new();
    let patient = suite.patient.clone();
    suite.app.init_modules(|router, _, storage| {
        router
            .bank
            .init_balance(storage, &patient, coins(1_000, "uhealth"))
            .unwrap();
    });
    let before = storage_snapshot(&suite.app, &suite.contract);
    let err = suite
        .app
        .execute_contract(
            patient.clone(),
            suite.contract.clone(),
            &suite.grant_msg(),
            &coins(10, "uhealth"),
        )
        .unwrap_err();
    assert_eq!(
        contract_error::<ContractError>(err),
        ContractError::FundsNotAccepted
    );
    assert_eq!(storage_snapshot(&suite.app, &suite.contract), before);
    let balance = suite.app.wrap().query_balance(&patient, "uhealth").unwrap();
    assert_eq!(
        balance.amount.u128(),
        1_000,
        "the refused funds stay with the sender"
    );
}

#[test]
fn undecodable_json_is_refused_before_the_contract_runs() {
    let mut suite = ConsentSuite::new();
    suite.grant();
    let patient = suite.patient.clone();
    let before = storage_snapshot(&suite.app, &suite.contract);
    for raw in [
        r#"{"grant_consent":{}}"#,
        r#"{"grant_consent":{"grantee":"x","dataset":"zz","purpose":"p","scope":[],"expires":{"never":{}}}}"#,
        r#"{"transfer_all":{}}"#,
        r#"[1,2,3]"#,
        r#"not json"#,
    ] {
        let msg = CosmosMsg::Wasm(WasmMsg::Execute {
            contract_addr: suite.contract.to_string(),
            msg: Binary::from(raw.as_bytes()),
            funds: vec![],
        });
        let err = suite.app.execute(patient.clone(), msg).unwrap_err();
        let text = format!("{err:?}");
        assert!(
            text.contains("Error parsing")
                || text.contains("unknown variant")
                || text.contains("Invalid"),
            "{raw}: {text}"
        );
    }
    assert_eq!(storage_snapshot(&suite.app, &suite.contract), before);
}

#[test]
fn malformed_queries_get_errors_not_answers() {
    let suite = ConsentSuite::new();
    let bad_dataset = QueryMsg::CheckAccess {
        grantee: suite.grantee.to_string(),
        dataset: HexBinary::from(vec![9u8; 8]),
        purpose: "trial-eligibility".into(),
        attribute: "age".into(),
        token_id: None,
        patient: None,
    };
    let err = suite
        .query::<CheckAccessResponse>(&bad_dataset)
        .unwrap_err();
    assert!(err.to_string().contains("must be 32 bytes"), "{err}");
    let bad_grantee = QueryMsg::CheckAccess {
        grantee: "nobody".into(),
        dataset: dataset(1),
        purpose: "trial-eligibility".into(),
        attribute: "age".into(),
        token_id: None,
        patient: None,
    };
    assert!(suite.query::<CheckAccessResponse>(&bad_grantee).is_err());
}
