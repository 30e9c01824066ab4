//! Regression tests for the security review of 0a38996 (issue 12): each test is named after
//! the finding it closes and fails on that commit. Chains are multi-test apps joined by the
//! relay harness; every proof is a real Groth16 proof.

use std::sync::OnceLock;

use cosmwasm_std::{coins, Addr, Binary, HexBinary, IbcChannelCloseMsg, Timestamp};
use cw_multi_test::{AppResponse, Executor};
use cw_utils::Expiration;
use healthmesh_attestation::ibc as entry;
use healthmesh_attestation::ContractError;
use healthmesh_proofs::keys::{setup_from_seed, ProvingKey};
use healthmesh_proofs::prover::{prove, Opening};
use healthmesh_proofs::statement::{
    commit, subject_key, AttributeCode, Context, Operator, Predicate, Statement,
};
use healthmesh_testing::consent::token_id_of_generic;
use healthmesh_testing::contract_error;
use healthmesh_testing::dao::DENOM;
use healthmesh_testing::ibc_harness::{connect, relay, Chain, Link, Relayed};
use healthmesh_types::attestation::{
    self as att, Attestation, AttestationStatus, AttestationsResponse, DeliveryStatus,
    IsAttestedResponse, NoticeDelivery, NoticeKind, PredicatePolicy,
};
use healthmesh_types::consent::{self, CheckAccessResponse};
use healthmesh_types::pause::PauseMsg;
use healthmesh_types::staking;

fn keys() -> &'static ProvingKey {
    static KEYS: OnceLock<ProvingKey> = OnceLock::new();
    KEYS.get_or_init(|| setup_from_seed(b"security-review").unwrap())
}

fn circuit_id() -> String {
    hex::encode(keys().verifying_key().id())
}

fn dataset() -> HexBinary {
    HexBinary::from([0x22u8; 32])
}

/// genomics-1 linked to trials-1 (channel-0 on both sides).
fn world() -> (Chain, Chain, Link) {
    let vk = keys().verifying_key().to_bytes();
    let mut genomics = Chain::new("genomics-1", &vk);
    let mut trials = Chain::new("trials-1", &vk);
    let link = connect(&mut genomics, &mut trials, "channel-0", "channel-0");
    genomics.designate_custodian(&dataset());
    (genomics, trials, link)
}

/// A record value of the chain's patient, committed with a salt.
struct Record {
    value: u64,
    salt: bls12_381::Scalar,
    commitment: [u8; 32],
}

fn record(chain: &Chain, value: u64, salt: u64) -> Record {
    let salt = bls12_381::Scalar::from(salt);
    let subject = subject_key(chain.patient.as_str());
    let commitment = commit(
        &AttributeCode::new("hba1c").unwrap(),
        value,
        &salt,
        &subject,
    );
    Record {
        value,
        salt,
        commitment,
    }
}

/// The designated custodian anchors a record of value `value`; the patient grants the
/// researcher consent on its dataset. Returns the record and the consent token.
fn anchored_consent(chain: &mut Chain, value: u64, salt: u64) -> (Record, String) {
    let r = record(chain, value, salt);
    let custodian = chain.custodian.clone();
    anchor(chain, &custodian, &r).unwrap();
    let token = grant(chain, Expiration::Never {});
    (r, token)
}

/// Governance slashes `attester` by 10 %.
fn slash(chain: &mut Chain, attester: &Addr) {
    let (admin, staking) = (chain.admin.clone(), chain.staking.clone());
    let msg = staking::ExecuteMsg::Slash {
        attester: attester.to_string(),
        ratio: cosmwasm_std::Decimal::percent(10),
        reason: "anchored fabricated records".into(),
    };
    chain
        .app
        .execute_contract(admin, staking, &msg, &[])
        .unwrap();
}

fn anchor(chain: &mut Chain, sender: &Addr, r: &Record) -> anyhow::Result<AppResponse> {
    let msg = att::ExecuteMsg::Anchor {
        commitment: HexBinary::from(r.commitment),
        attribute: "hba1c".into(),
        dataset: dataset(),
        patient: chain.patient.to_string(),
    };
    chain.execute(sender, &msg)
}

fn grant(chain: &mut Chain, expires: Expiration) -> String {
    let msg = consent::ExecuteMsg::GrantConsent {
        grantee: chain.researcher.to_string(),
        dataset: dataset(),
        purpose: "trial-eligibility".into(),
        scope: vec!["hba1c".into()],
        expires,
    };
    let (patient, consent) = (chain.patient.clone(), chain.consent.clone());
    let res = chain
        .app
        .execute_contract(patient, consent, &msg, &[])
        .unwrap();
    token_id_of_generic(&res.events)
}

/// A proof that `r` satisfies `op values` under consent `token` of `consent_contract`.
fn proof(
    chain: &Chain,
    consent_contract: &str,
    token: &str,
    r: &Record,
    op: Operator,
    values: &[u64],
) -> Vec<u8> {
    let statement = Statement {
        attribute: AttributeCode::new("hba1c").unwrap(),
        predicate: Predicate::new(op, values.to_vec()).unwrap(),
        commitment: r.commitment,
        context: Context {
            chain_id: chain.chain_id.clone(),
            consent_contract: consent_contract.into(),
            consent_id: token.into(),
            grantee: chain.researcher.to_string(),
        },
    };
    let opening = Opening {
        value: r.value,
        salt: r.salt,
        subject: subject_key(chain.patient.as_str()),
    };
    prove(keys(), &statement, &opening, &mut rand::rng())
        .unwrap()
        .to_vec()
}

fn submit_msg(
    token: &str,
    r: &Record,
    op: Operator,
    values: &[u64],
    proof: &[u8],
) -> att::ExecuteMsg {
    att::ExecuteMsg::SubmitAttestation {
        circuit_id: circuit_id(),
        attribute: "hba1c".into(),
        predicate: Predicate {
            op,
            values: values.to_vec(),
        },
        commitment: HexBinary::from(r.commitment),
        consent_token_id: token.into(),
        proof: Binary::from(proof),
        expires_at: None,
    }
}

/// Prove and submit as the researcher; returns the attestation id.
fn attest(
    chain: &mut Chain,
    token: &str,
    r: &Record,
    op: Operator,
    values: &[u64],
) -> anyhow::Result<u64> {
    let consent = chain.consent.to_string();
    let p = proof(chain, &consent, token, r, op, values);
    let researcher = chain.researcher.clone();
    let res = chain.execute(&researcher, &submit_msg(token, r, op, values, &p))?;
    Ok(attr(&res, "wasm-attestation_recorded", "attestation_id")
        .parse()
        .unwrap())
}

fn attr(res: &AppResponse, ty: &str, key: &str) -> String {
    res.events
        .iter()
        .filter(|e| e.ty == ty)
        .flat_map(|e| &e.attributes)
        .find(|a| a.key == key)
        .map(|a| a.value.clone())
        .unwrap_or_else(|| panic!("no {ty}.{key}"))
}

fn is_attested(chain: &Chain, r: &Record, op: Operator, values: &[u64]) -> bool {
    let res: IsAttestedResponse = chain.query(&att::QueryMsg::IsAttested {
        commitment: HexBinary::from(r.commitment),
        attribute: "hba1c".into(),
        predicate: Predicate {
            op,
            values: values.to_vec(),
        },
        at: None,
        start_before: None,
    });
    res.attested
}

fn status(chain: &Chain, id: u64) -> AttestationStatus {
    let a: Attestation = chain.query(&att::QueryMsg::Attestation { id });
    a.status
}

fn send(chain: &mut Chain, id: u64) -> anyhow::Result<AppResponse> {
    let anyone = chain.researcher.clone();
    chain.execute(
        &anyone,
        &att::ExecuteMsg::SendAttestation {
            attestation_id: id,
            channel_id: "channel-0".into(),
            timeout_seconds: None,
        },
    )
}

fn revoke(chain: &mut Chain, token: &str) -> anyhow::Result<AppResponse> {
    let msg = consent::ExecuteMsg::RevokeConsent {
        token_id: token.into(),
        reason: None,
    };
    let (patient, consent) = (chain.patient.clone(), chain.consent.clone());
    chain.app.execute_contract(patient, consent, &msg, &[])
}

fn propagate(chain: &mut Chain, token: &str) -> anyhow::Result<AppResponse> {
    let anyone = chain.researcher.clone();
    let msg = att::ExecuteMsg::PropagateRevocation {
        consent_token_id: token.into(),
    };
    chain.execute(&anyone, &msg)
}

/// A second bonded attester (a sybil with its own stake).
fn bonded_stranger(chain: &mut Chain, name: &str) -> Addr {
    let who = chain.app.api().addr_make(name);
    let funded = who.clone();
    chain.app.init_modules(|router, _, storage| {
        router
            .bank
            .init_balance(storage, &funded, coins(5_000, DENOM))
            .unwrap()
    });
    let staking = chain.staking.clone();
    chain
        .app
        .execute_contract(
            who.clone(),
            staking,
            &staking::ExecuteMsg::Bond {},
            &coins(1_000, DENOM),
        )
        .unwrap();
    who
}

fn att_error(err: anyhow::Error) -> ContractError {
    contract_error::<ContractError>(err)
}

#[test]
fn h1_local_revocation_is_complete_and_is_attested_scans_the_claim() {
    let (mut g, _t, _) = world();
    let (r, token) = anchored_consent(&mut g, 64, 11);
    // 52 distinct claims on one commitment under one consent: past the old revocation batch
    // (50) and the old `is_attested` window (30 newest of the commitment).
    let ids: Vec<u64> = (70..122)
        .map(|bound| attest(&mut g, &token, &r, Operator::Lt, &[bound]).unwrap())
        .collect();
    assert!(
        is_attested(&g, &r, Operator::Lt, &[70]),
        "m3: the oldest claim is found"
    );

    revoke(&mut g, &token).unwrap();
    // Invalid at once, before anyone propagates: validity reads the consent.
    for (i, id) in ids.iter().enumerate() {
        assert!(
            matches!(status(&g, *id), AttestationStatus::Revoked { ref reason, .. } if reason == "consent revoked"),
            "attestation #{i} still valid"
        );
    }
    assert!(!is_attested(&g, &r, Operator::Lt, &[121]));
    assert!(!is_attested(&g, &r, Operator::Lt, &[70]));
    let err = send(&mut g, ids[51]).unwrap_err();
    assert_eq!(att_error(err), ContractError::AttestationNotValid(ids[51]));
}

#[test]
fn h1_a_replayed_statement_is_refused() {
    let (mut g, _t, _) = world();
    let (r, token) = anchored_consent(&mut g, 64, 12);
    let id = attest(&mut g, &token, &r, Operator::Lt, &[70]).unwrap();
    let consent = g.consent.to_string();
    let again = proof(&g, &consent, &token, &r, Operator::Lt, &[70]);
    let researcher = g.researcher.clone();
    let err = g
        .execute(
            &researcher,
            &submit_msg(&token, &r, Operator::Lt, &[70], &again),
        )
        .unwrap_err();
    assert_eq!(att_error(err), ContractError::DuplicateStatement(id));
}

#[test]
fn h2_revocation_stands_when_the_counterparty_closed_the_channel() {
    let (mut g, mut t, link) = world();
    let (r, token) = anchored_consent(&mut g, 64, 13);
    let id = attest(&mut g, &token, &r, Operator::Lt, &[70]).unwrap();
    send(&mut g, id).unwrap();
    relay(&mut g, &mut t, &link.a_channel, &link.b_channel);

    close_from_counterparty(&mut g);

    revoke(&mut g, &token).unwrap();
    // Propagation succeeds locally although no channel can carry the news.
    let res = propagate(&mut g, &token).unwrap();
    assert!(res.events.iter().any(|e| e.ty == "wasm-notice_deferred"));
    assert!(g.recorder.sent.borrow().is_empty());
    assert!(!is_attested(&g, &r, Operator::Lt, &[70]));
    let tombstone: Option<Timestamp> = g.query(&att::QueryMsg::ConsentRevocation {
        source_chain: "genomics-1".into(),
        consent_id: token.clone(),
    });
    assert!(tombstone.is_some());
    let notices: Vec<NoticeDelivery> = g.query(&att::QueryMsg::Notices {
        kind: NoticeKind::Revocation,
        subject: token,
    });
    assert!(
        matches!(notices[0].status, DeliveryStatus::Failed { .. }),
        "{notices:?}"
    );
}

#[test]
fn h3_a_bonded_stranger_cannot_anchor_or_attest_about_the_patient() {
    let (mut g, _t, _) = world();
    let sybil = bonded_stranger(&mut g, "sybil");
    // The sybil's own commitment of a value it chose, for this patient and dataset.
    let forged = record(&g, 10, 14);
    let err = anchor(&mut g, &sybil, &forged).unwrap_err();
    assert_eq!(
        att_error(err),
        ContractError::NotDesignatedCustodian {
            sender: sybil.to_string(),
            dataset: dataset().to_hex(),
        }
    );
    // The patient withdraws the designation: the genuine custodian cannot anchor either.
    let (patient, consent_addr) = (g.patient.clone(), g.consent.clone());
    let undesignate = consent::ExecuteMsg::DesignateCustodian {
        dataset: dataset(),
        custodian: None,
    };
    g.app
        .execute_contract(patient, consent_addr, &undesignate, &[])
        .unwrap();
    let custodian = g.custodian.clone();
    let fresh = record(&g, 64, 15);
    let err = anchor(&mut g, &custodian, &fresh).unwrap_err();
    assert!(matches!(
        att_error(err),
        ContractError::NotDesignatedCustodian { .. }
    ));
}

#[test]
fn h3_a_slashed_attester_is_invalidated_here_and_on_every_chain() {
    let (mut g, mut t, link) = world();
    let custodian = g.custodian.clone();
    let (r, token) = anchored_consent(&mut g, 64, 16);
    let id = attest(&mut g, &token, &r, Operator::Lt, &[70]).unwrap();
    send(&mut g, id).unwrap();
    relay(&mut g, &mut t, &link.a_channel, &link.b_channel);
    assert!(is_attested(&t, &r, Operator::Lt, &[70]));

    // Not slashed yet: nothing to invalidate.
    let anyone = g.researcher.clone();
    let invalidate = att::ExecuteMsg::InvalidateAttester {
        attester: custodian.to_string(),
    };
    let err = g.execute(&anyone, &invalidate).unwrap_err();
    assert_eq!(
        att_error(err),
        ContractError::NotSlashed(custodian.to_string())
    );

    // Governance slashes 10 %: whatever bond is left, the slash tombstones the attester.
    slash(&mut g, &custodian);
    g.execute(&anyone, &invalidate).unwrap();
    assert!(matches!(
        status(&g, id),
        AttestationStatus::Revoked { ref reason, .. } if reason == "attester slashed"
    ));
    let fresh = record(&g, 65, 17);
    let err = anchor(&mut g, &custodian, &fresh).unwrap_err();
    assert_eq!(
        att_error(err),
        ContractError::AttesterSlashed(custodian.to_string())
    );

    let relayed = relay(&mut g, &mut t, &link.a_channel, &link.b_channel);
    assert_eq!(relayed.len(), 1);
    assert!(!is_attested(&t, &r, Operator::Lt, &[70]));
}

#[test]
fn h4_no_patient_address_next_to_a_predicate() {
    let (mut g, mut t, link) = world();
    let (r, token) = anchored_consent(&mut g, 64, 18);
    let consent = g.consent.to_string();
    let p = proof(&g, &consent, &token, &r, Operator::Lt, &[70]);
    let researcher = g.researcher.clone();
    let res = g
        .execute(
            &researcher,
            &submit_msg(&token, &r, Operator::Lt, &[70], &p),
        )
        .unwrap();
    let id: u64 = attr(&res, "wasm-attestation_recorded", "attestation_id")
        .parse()
        .unwrap();
    let patient = g.patient.to_string();
    let events = format!("{:?}", res.events);
    assert!(
        !events.contains(&patient),
        "patient in the attestation events"
    );
    let stored: Attestation = g.query(&att::QueryMsg::Attestation { id });
    let json = String::from_utf8(cosmwasm_std::to_json_vec(&stored).unwrap()).unwrap();
    assert!(
        !json.contains(&patient),
        "patient in the attestation record"
    );

    send(&mut g, id).unwrap();
    let packet = g.recorder.sent.borrow()[0].data.clone();
    let bytes = packet.as_slice();
    assert!(
        !bytes
            .windows(patient.len())
            .any(|w| w == patient.as_bytes()),
        "patient in the packet"
    );
    relay(&mut g, &mut t, &link.a_channel, &link.b_channel);
    let received: AttestationsResponse = t.query(&att::QueryMsg::AttestationsByCommitment {
        commitment: HexBinary::from(r.commitment),
        start_after: None,
        limit: None,
    });
    let json = String::from_utf8(cosmwasm_std::to_json_vec(&received).unwrap()).unwrap();
    assert_eq!(received.attestations.len(), 1);
    assert!(!json.contains(&patient), "patient in the received record");
}

#[test]
fn h4_predicate_policy_refuses_disclosing_operators_and_pinning_bounds() {
    let (mut g, _t, _) = world();
    let admin = g.admin.clone();
    let policy = att::ExecuteMsg::SetPredicatePolicy {
        attribute: "hba1c".into(),
        policy: Some(PredicatePolicy {
            allowed_ops: ["lt", "lte", "gt", "gte", "between"]
                .map(String::from)
                .to_vec(),
            min_range: 5,
        }),
    };
    g.execute(&admin, &policy).unwrap();
    let (r, token) = anchored_consent(&mut g, 69, 19);

    let err = attest(&mut g, &token, &r, Operator::Eq, &[69]).unwrap_err();
    assert_eq!(
        att_error(err),
        ContractError::OperatorNotAllowed {
            attribute: "hba1c".into(),
            op: "eq".into()
        }
    );
    let err = attest(&mut g, &token, &r, Operator::Between, &[69, 69]).unwrap_err();
    assert!(matches!(
        att_error(err),
        ContractError::RangeTooNarrow { width: 1, .. }
    ));
    attest(&mut g, &token, &r, Operator::Lt, &[70]).unwrap();
    // `gte 69` next to `lt 70` would pin the value to 69.
    let err = attest(&mut g, &token, &r, Operator::Gte, &[69]).unwrap_err();
    assert!(matches!(
        att_error(err),
        ContractError::RangeTooNarrow {
            width: 1,
            min: 5,
            ..
        }
    ));
    // A bound that leaves 5 values is fine.
    attest(&mut g, &token, &r, Operator::Gte, &[65]).unwrap();
}

#[test]
fn m2_attestation_expiry_is_capped_by_the_consent_and_send_rechecks_it() {
    let (mut g, _t, _) = world();
    let custodian = g.custodian.clone();
    let r = record(&g, 64, 20);
    anchor(&mut g, &custodian, &r).unwrap();
    let now = g.app.block_info().time;
    let until = now.plus_seconds(3_600);
    let token = grant(&mut g, Expiration::AtTime(until));

    // Asking for longer than the consent is refused; no expiry means the consent's.
    let consent = g.consent.to_string();
    let p = proof(&g, &consent, &token, &r, Operator::Lt, &[70]);
    let mut msg = submit_msg(&token, &r, Operator::Lt, &[70], &p);
    if let att::ExecuteMsg::SubmitAttestation { expires_at, .. } = &mut msg {
        *expires_at = Some(until.plus_seconds(1));
    }
    let researcher = g.researcher.clone();
    let err = g.execute(&researcher, &msg).unwrap_err();
    assert_eq!(
        att_error(err),
        ContractError::ExpiryAfterConsent {
            requested: until.plus_seconds(1),
            consent: until
        }
    );
    let id = attest(&mut g, &token, &r, Operator::Lt, &[70]).unwrap();
    let a: Attestation = g.query(&att::QueryMsg::Attestation { id });
    assert_eq!(a.expires_at, Some(until));
    assert_eq!(a.status, AttestationStatus::Valid);
    let capped = id;

    // A height-limited consent: its attestations stay home.
    let height = g.app.block_info().height;
    let token = grant(&mut g, Expiration::AtHeight(height + 1_000));
    let id = attest(&mut g, &token, &r, Operator::Lt, &[71]).unwrap();
    let err = send(&mut g, id).unwrap_err();
    assert!(matches!(
        att_error(err),
        ContractError::HeightBoundConsent(_)
    ));

    // Past the consent's time limit the capped attestation reads as no longer valid.
    g.advance(3_601);
    assert!(matches!(
        status(&g, capped),
        AttestationStatus::Revoked { at, .. } if at == until
    ));
}

#[test]
fn m3_only_the_grantee_or_the_custodian_may_submit() {
    let (mut g, _t, _) = world();
    let custodian = g.custodian.clone();
    let (r, token) = anchored_consent(&mut g, 64, 21);
    let consent = g.consent.to_string();
    let p = proof(&g, &consent, &token, &r, Operator::Lt, &[70]);
    let stranger = g.app.api().addr_make("stranger");
    let err = g
        .execute(&stranger, &submit_msg(&token, &r, Operator::Lt, &[70], &p))
        .unwrap_err();
    assert_eq!(
        att_error(err),
        ContractError::NotSubmitter {
            token_id: token.clone(),
            sender: stranger.to_string()
        }
    );
    g.execute(&custodian, &submit_msg(&token, &r, Operator::Lt, &[70], &p))
        .unwrap();
}

#[test]
fn m5_revoking_consent_works_while_paused_and_attesting_does_not() {
    let (mut g, _t, _) = world();
    let (r, token) = anchored_consent(&mut g, 64, 22);
    let (admin, consent_addr) = (g.admin.clone(), g.consent.clone());
    let pause = consent::ExecuteMsg::Pausable(PauseMsg::Pause {
        reason: "incident".into(),
    });
    g.app
        .execute_contract(admin, consent_addr, &pause, &[])
        .unwrap();
    let err = attest(&mut g, &token, &r, Operator::Lt, &[70]).unwrap_err();
    assert_eq!(
        att_error(err),
        ContractError::ConsentPaused("incident".into())
    );
    revoke(&mut g, &token).unwrap();
    // Propagation is never paused either (attestation contract paused too).
    let admin = g.admin.clone();
    g.execute(
        &admin,
        &att::ExecuteMsg::Pausable(PauseMsg::Pause {
            reason: "incident".into(),
        }),
    )
    .unwrap();
    propagate(&mut g, &token).unwrap();
}

#[test]
fn m6_one_revocation_packet_per_chain_however_many_attestations() {
    let (mut g, mut t, link) = world();
    let (r, token) = anchored_consent(&mut g, 64, 23);
    for bound in [70, 71, 72] {
        let id = attest(&mut g, &token, &r, Operator::Lt, &[bound]).unwrap();
        send(&mut g, id).unwrap();
    }
    relay(&mut g, &mut t, &link.a_channel, &link.b_channel);
    revoke(&mut g, &token).unwrap();
    propagate(&mut g, &token).unwrap();
    assert_eq!(g.recorder.sent.borrow().len(), 1);
    let relayed = relay(&mut g, &mut t, &link.a_channel, &link.b_channel);
    assert!(matches!(relayed[0], Relayed::Acknowledged(_)));
    for bound in [70, 71, 72] {
        assert!(!is_attested(&t, &r, Operator::Lt, &[bound]));
    }
    // Acknowledged: a second run sends nothing.
    propagate(&mut g, &token).unwrap();
    assert!(g.recorder.sent.borrow().is_empty());
}

#[test]
fn l2_check_access_naming_the_patient_is_not_crowded_out() {
    let (mut g, _t, _) = world();
    let token = grant(&mut g, Expiration::Never {});
    // 60 other patients grant the same researcher on the same dataset afterwards.
    for i in 0..60 {
        let other = g.app.api().addr_make(&format!("patient-{i}"));
        let msg = consent::ExecuteMsg::GrantConsent {
            grantee: g.researcher.to_string(),
            dataset: dataset(),
            purpose: "another-purpose".into(),
            scope: vec!["hba1c".into()],
            expires: Expiration::Never {},
        };
        let consent_addr = g.consent.clone();
        g.app
            .execute_contract(other, consent_addr, &msg, &[])
            .unwrap();
    }
    let res: CheckAccessResponse = g
        .app
        .wrap()
        .query_wasm_smart(
            &g.consent,
            &consent::QueryMsg::CheckAccess {
                grantee: g.researcher.to_string(),
                dataset: dataset(),
                purpose: "trial-eligibility".into(),
                attribute: "hba1c".into(),
                token_id: None,
                patient: Some(g.patient.to_string()),
            },
        )
        .unwrap();
    assert!(res.allowed, "{res:?}");
    assert_eq!(res.token_id, Some(token));
}

#[test]
fn l3_an_anchor_squatted_first_does_not_block_the_designated_custodian() {
    let (mut g, _t, _) = world();
    // A sybil designated by its own sybil patient anchors the genuine commitment first.
    let sybil = bonded_stranger(&mut g, "sybil");
    let sybil_patient = g.app.api().addr_make("sybil-patient");
    let consent_addr = g.consent.clone();
    g.app
        .execute_contract(
            sybil_patient.clone(),
            consent_addr,
            &consent::ExecuteMsg::DesignateCustodian {
                dataset: dataset(),
                custodian: Some(sybil.to_string()),
            },
            &[],
        )
        .unwrap();
    let r = record(&g, 64, 24);
    let squat = att::ExecuteMsg::Anchor {
        commitment: HexBinary::from(r.commitment),
        attribute: "hba1c".into(),
        dataset: dataset(),
        patient: sybil_patient.to_string(),
    };
    g.execute(&sybil, &squat).unwrap();
    // The designated custodian anchors the same commitment; the conflict is evidence.
    let custodian = g.custodian.clone();
    let res = anchor(&mut g, &custodian, &r).unwrap();
    assert!(res.events.iter().any(|e| e.ty == "wasm-anchor_conflict"));
    let token = grant(&mut g, Expiration::Never {});
    attest(&mut g, &token, &r, Operator::Lt, &[70]).unwrap();
    // Governance removes the squatter's anchor.
    let admin = g.admin.clone();
    g.execute(
        &admin,
        &att::ExecuteMsg::RemoveAnchor {
            commitment: HexBinary::from(r.commitment),
            custodian: sybil.to_string(),
        },
    )
    .unwrap();
    let anchors: Vec<att::Anchor> = g.query(&att::QueryMsg::Anchors {
        commitment: HexBinary::from(r.commitment),
        start_after: None,
        limit: None,
    });
    assert_eq!(anchors.len(), 1);
    assert_eq!(anchors[0].attester, custodian);
}

#[test]
fn ctx_a_proof_for_another_consent_deployment_is_refused() {
    let (mut g, _t, _) = world();
    let (r, token) = anchored_consent(&mut g, 64, 25);
    // Same chain, same token id and grantee — but the consent contract of another deployment.
    let other = g
        .app
        .api()
        .addr_make("second-consent-deployment")
        .to_string();
    let p = proof(&g, &other, &token, &r, Operator::Lt, &[70]);
    let researcher = g.researcher.clone();
    let err = g
        .execute(
            &researcher,
            &submit_msg(&token, &r, Operator::Lt, &[70], &p),
        )
        .unwrap_err();
    assert_eq!(
        att_error(err),
        ContractError::Proof(healthmesh_proofs::Error::InvalidProof)
    );
}

#[test]
fn l9_unknown_fields_are_refused_naming_the_field_and_the_message() {
    let (mut g, _t, _) = world();
    let (attestation, consent) = (g.attestation.clone(), g.consent.clone());
    let cases = [
        // An extra field the schema does not allow.
        (
            &attestation,
            r#"{"send_attestation":{"attestation_id":1,"channel_id":"channel-0","timeout_seconds":60,"admin":true}}"#,
            "admin",
        ),
        // A typo that used to be ignored (the default timeout applied silently).
        (
            &attestation,
            r#"{"send_attestation":{"attestation_id":1,"channel_id":"channel-0","timeout_secs":60}}"#,
            "timeout_secs",
        ),
        (
            &consent,
            r#"{"grant_consent":{"grantee":"x","dataset":"00","purpose":"p","scope":[],"expires":{"never":{}},"custodian":"y"}}"#,
            "custodian",
        ),
    ];
    let sender = g.patient.clone();
    for (contract, raw, field) in cases {
        let wasm = cosmwasm_std::WasmMsg::Execute {
            contract_addr: contract.to_string(),
            msg: Binary::from(raw.as_bytes()),
            funds: vec![],
        };
        let err = g.app.execute(sender.clone(), wasm.into()).unwrap_err();
        let text = format!("{err:#}");
        assert!(
            text.contains(&format!("unknown field `{field}`")) && text.contains("ExecuteMsg"),
            "{text}"
        );
    }
}

/// trials-1 closed genomics' channel-0 (CloseInit there, CloseConfirm here).
fn close_from_counterparty(g: &mut Chain) {
    let channels: att::ChannelsResponse = g.query(&att::QueryMsg::Channels {
        start_after: None,
        limit: None,
    });
    let channel = channels.channels[0].clone();
    let ibc_channel = cosmwasm_std::IbcChannel::new(
        cosmwasm_std::IbcEndpoint {
            port_id: g.port(),
            channel_id: channel.channel_id.clone(),
        },
        cosmwasm_std::IbcEndpoint {
            port_id: channel.counterparty_port.clone(),
            channel_id: channel.counterparty_channel.clone(),
        },
        cosmwasm_std::IbcOrder::Unordered,
        att::CHANNEL_VERSION,
        channel.connection_id.clone(),
    );
    g.ibc(|deps, env| {
        entry::ibc_channel_close(
            deps,
            env,
            IbcChannelCloseMsg::CloseConfirm {
                channel: ibc_channel,
            },
        )
    })
    .unwrap();
}

fn set_policy(g: &mut Chain, ops: &[&str], min_range: u64) {
    let admin = g.admin.clone();
    let policy = att::ExecuteMsg::SetPredicatePolicy {
        attribute: "hba1c".into(),
        policy: Some(PredicatePolicy {
            allowed_ops: ops.iter().map(|o| o.to_string()).collect(),
            min_range,
        }),
    };
    g.execute(&admin, &policy).unwrap();
}

#[test]
fn review_a_set_counts_as_its_members_not_its_span() {
    let (mut g, _t, _) = world();
    set_policy(&mut g, &[], 5);
    let (r, token) = anchored_consent(&mut g, 69, 30);
    // `in [69, 1000]` spans 932 values but leaves two possible.
    let err = attest(&mut g, &token, &r, Operator::In, &[69, 1000]).unwrap_err();
    assert!(matches!(
        att_error(err),
        ContractError::RangeTooNarrow { width: 2, .. }
    ));
    attest(&mut g, &token, &r, Operator::In, &[65, 66, 67, 68, 69]).unwrap();
}

#[test]
fn review_ranges_proven_before_a_policy_count_under_it() {
    let (mut g, _t, _) = world();
    let (r, token) = anchored_consent(&mut g, 69, 31);
    attest(&mut g, &token, &r, Operator::Gte, &[69]).unwrap();
    set_policy(&mut g, &[], 5);
    let err = attest(&mut g, &token, &r, Operator::Lt, &[70]).unwrap_err();
    assert!(matches!(
        att_error(err),
        ContractError::RangeTooNarrow { width: 1, .. }
    ));
}

#[test]
fn review_slash_news_for_a_chain_without_channel_is_recorded_for_retry() {
    let (mut g, _t, _) = world();
    close_from_counterparty(&mut g);
    let custodian = g.custodian.clone();
    slash(&mut g, &custodian);
    let anyone = g.researcher.clone();
    g.execute(
        &anyone,
        &att::ExecuteMsg::InvalidateAttester {
            attester: custodian.to_string(),
        },
    )
    .unwrap();
    let notices: Vec<NoticeDelivery> = g.query(&att::QueryMsg::Notices {
        kind: NoticeKind::Slash,
        subject: custodian.to_string(),
    });
    assert_eq!(notices.len(), 1, "{notices:?}");
    assert_eq!(notices[0].chain_id, "trials-1");
    assert!(matches!(notices[0].status, DeliveryStatus::Failed { .. }));
}

#[test]
fn review_a_counterparty_cannot_be_bound_under_this_chains_id() {
    let (mut g, _t, _) = world();
    let admin = g.admin.clone();
    let err = g
        .execute(
            &admin,
            &att::ExecuteMsg::AllowConnection {
                connection_id: "connection-9".into(),
                chain_id: "genomics-1".into(),
                counterparty_port: "wasm.somewhere".into(),
            },
        )
        .unwrap_err();
    assert_eq!(att_error(err), ContractError::OwnChain("genomics-1".into()));
}

#[test]
fn review_nothing_is_exported_while_the_consent_contract_is_paused() {
    let (mut g, _t, _) = world();
    let (r, token) = anchored_consent(&mut g, 64, 32);
    let id = attest(&mut g, &token, &r, Operator::Lt, &[70]).unwrap();
    let (admin, consent_addr) = (g.admin.clone(), g.consent.clone());
    let pause = consent::ExecuteMsg::Pausable(PauseMsg::Pause {
        reason: "incident".into(),
    });
    g.app
        .execute_contract(admin, consent_addr, &pause, &[])
        .unwrap();
    let err = send(&mut g, id).unwrap_err();
    assert_eq!(
        att_error(err),
        ContractError::ConsentPaused("incident".into())
    );
}

#[test]
fn review_the_earliest_reason_dates_an_invalid_attestation() {
    let (mut g, _t, _) = world();
    let custodian = g.custodian.clone();
    let (r, token) = anchored_consent(&mut g, 64, 33);
    let id = attest(&mut g, &token, &r, Operator::Lt, &[70]).unwrap();
    g.advance(100);
    let slashed_at = g.app.block_info().time;
    slash(&mut g, &custodian);
    let anyone = g.researcher.clone();
    let invalidate = att::ExecuteMsg::InvalidateAttester {
        attester: custodian.to_string(),
    };
    g.execute(&anyone, &invalidate).unwrap();
    g.advance(100);
    revoke(&mut g, &token).unwrap();
    propagate(&mut g, &token).unwrap();
    // Slashed first, revoked later: the attestation stopped holding at the slash.
    assert_eq!(
        status(&g, id),
        AttestationStatus::Revoked {
            at: slashed_at,
            reason: "attester slashed".into()
        }
    );
}

#[test]
fn review_news_in_flight_on_a_closed_channel_is_sent_again_on_the_new_one() {
    let (mut g, mut t, link) = world();
    let (r, token) = anchored_consent(&mut g, 64, 34);
    let id = attest(&mut g, &token, &r, Operator::Lt, &[70]).unwrap();
    send(&mut g, id).unwrap();
    relay(&mut g, &mut t, &link.a_channel, &link.b_channel);
    revoke(&mut g, &token).unwrap();
    propagate(&mut g, &token).unwrap(); // pending on channel-0, never relayed
    close_from_counterparty(&mut g);
    close_from_counterparty(&mut t);
    let fresh = connect(&mut g, &mut t, "channel-5", "channel-5");
    propagate(&mut g, &token).unwrap();
    let relayed = relay(&mut g, &mut t, &fresh.a_channel, &fresh.b_channel);
    assert_eq!(
        relayed.len(),
        1,
        "the news went out again on the new channel"
    );
    assert!(!is_attested(&t, &r, Operator::Lt, &[70]));
}
