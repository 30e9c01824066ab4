//! zk enrollment across chains: a custodian on genomics-1 proves a patient's HbA1c and age
//! under a consent the patient granted to trials-1's trials contract for `trial:<id>`, the
//! attestations travel to trials-1, and the patient enrolls there with them — no value
//! recorded; revoking the consent deactivates the participant.

use std::sync::OnceLock;

use cosmwasm_std::{Addr, HexBinary};
use cw_multi_test::{ContractWrapper, Executor};
use cw_utils::Expiration;
use healthmesh_proofs::keys::{setup_from_seed, ProvingKey};
use healthmesh_proofs::prover::{prove, Opening};
use healthmesh_proofs::statement::{commit, subject_key, AttributeCode, Context, Statement};
use healthmesh_testing::contract_error;
use healthmesh_testing::ibc_harness::{account, connect, relay, Chain, Link};
use healthmesh_trials::ContractError;
use healthmesh_types::attestation::{self as att, AttestationsResponse};
use healthmesh_types::consent;
use healthmesh_types::trials::{
    self, Criterion, Enrollment, Operator, ParticipantResponse, Predicate, TrialTerms,
};

fn keys() -> &'static ProvingKey {
    static KEYS: OnceLock<ProvingKey> = OnceLock::new();
    KEYS.get_or_init(|| setup_from_seed(b"trials-tests").unwrap())
}

struct World {
    genomics: Chain,
    trials: Chain,
    link: Link,
    contract: Addr,
    trial_id: u64,
}

fn criterion(attribute: &str, op: Operator, values: Vec<u64>) -> Criterion {
    Criterion {
        attribute: attribute.into(),
        predicate: Predicate { op, values },
    }
}

fn world(capacity: u32) -> World {
    let vk = keys().verifying_key().to_bytes();
    let mut genomics = Chain::new("genomics-1", &vk);
    let mut trials = Chain::new("trials-1", &vk);
    let link = connect(&mut genomics, &mut trials, "channel-0", "channel-0");
    let code = trials.app.store_code(Box::new(ContractWrapper::new(
        healthmesh_trials::contract::execute,
        healthmesh_trials::contract::instantiate,
        healthmesh_trials::contract::query,
    )));
    let admin = trials.admin.clone();
    let msg = trials::InstantiateMsg {
        admin: admin.to_string(),
        attestation: trials.attestation.to_string(),
        sites: vec![],
        pausers: vec![],
        max_pause_seconds: None,
    };
    let contract = trials
        .app
        .instantiate_contract(code, admin.clone(), &msg, &[], "trials", None)
        .unwrap();
    let site = trials.custodian.clone();
    let approve = trials::ExecuteMsg::ApproveSite {
        site: site.to_string(),
    };
    trials
        .app
        .execute_contract(admin, contract.clone(), &approve, &[])
        .unwrap();
    let now = trials.app.block_info().time;
    let terms = TrialTerms {
        protocol_hash: HexBinary::from([9u8; 32]),
        criteria: vec![
            criterion("hba1c", Operator::Lt, vec![70]),
            criterion("age", Operator::Gte, vec![18]),
        ],
        enrollment_opens: now,
        enrollment_closes: now.plus_days(30),
        ends_at: now.plus_days(365),
        capacity,
        sites: vec![site.to_string()],
        milestones: vec![],
    };
    let sponsor = trials.researcher.clone();
    let res = trials
        .app
        .execute_contract(
            sponsor,
            contract.clone(),
            &trials::ExecuteMsg::RegisterTrial(terms),
            &[],
        )
        .unwrap();
    let trial_id = cosmwasm_std::from_json(res.data.unwrap()).unwrap();
    World {
        genomics,
        trials,
        link,
        contract,
        trial_id,
    }
}

/// A patient's records: (attribute, value, proven predicate).
type Records<'a> = &'a [(&'a str, u64, Operator, u64)];

/// On genomics-1, `patient` designates the custodian of a dataset and grants consent to the
/// trials contract for `purpose`; the custodian anchors and proves each record and sends the
/// attestations to trials-1. Returns their ids there.
fn attest_for_trial(w: &mut World, patient: &Addr, purpose: &str, records: Records) -> Vec<u64> {
    let g = &mut w.genomics;
    let dataset = HexBinary::from(patient.as_bytes()[..32].to_vec());
    let (consent, custodian) = (g.consent.clone(), g.custodian.clone());
    let designate = consent::ExecuteMsg::DesignateCustodian {
        dataset: dataset.clone(),
        custodian: Some(custodian.to_string()),
    };
    g.app
        .execute_contract(patient.clone(), consent.clone(), &designate, &[])
        .unwrap();
    let grant = consent::ExecuteMsg::GrantConsent {
        grantee: w.contract.to_string(),
        dataset: dataset.clone(),
        purpose: purpose.into(),
        scope: records.iter().map(|r| r.0.to_string()).collect(),
        expires: Expiration::Never {},
    };
    let res = g
        .app
        .execute_contract(patient.clone(), consent, &grant, &[])
        .unwrap();
    let token_id = healthmesh_testing::consent::token_id_of_generic(&res.events);
    let mut local_ids = vec![];
    for (i, (attribute, value, op, bound)) in records.iter().enumerate() {
        let code = AttributeCode::new(attribute).unwrap();
        let opening = Opening {
            value: *value,
            salt: bls12_381::Scalar::from(1_000 + i as u64),
            subject: subject_key(patient.as_str()),
        };
        let commitment = commit(&code, *value, &opening.salt, &opening.subject);
        let anchor = att::ExecuteMsg::Anchor {
            commitment: HexBinary::from(commitment),
            attribute: attribute.to_string(),
            dataset: dataset.clone(),
            patient: patient.to_string(),
        };
        g.execute(&custodian, &anchor).unwrap();
        let predicate = Predicate::new(*op, vec![*bound]).unwrap();
        let statement = Statement {
            attribute: code,
            predicate: predicate.clone(),
            commitment,
            context: Context {
                chain_id: g.chain_id.clone(),
                consent_contract: g.consent.to_string(),
                consent_id: token_id.clone(),
                grantee: w.contract.to_string(),
            },
        };
        let proof = prove(keys(), &statement, &opening, &mut rand::rng()).unwrap();
        let submit = att::ExecuteMsg::SubmitAttestation {
            circuit_id: hex::encode(keys().verifying_key().id()),
            attribute: attribute.to_string(),
            predicate,
            commitment: HexBinary::from(commitment),
            consent_token_id: token_id.clone(),
            proof: cosmwasm_std::Binary::from(proof.to_vec()),
            expires_at: None,
        };
        let res = g.execute(&custodian, &submit).unwrap();
        let id: u64 = healthmesh_testing::consent::event_attr(
            &res,
            "wasm-attestation_recorded",
            "attestation_id",
        )
        .unwrap()
        .parse()
        .unwrap();
        local_ids.push(id);
    }
    let send = att::ExecuteMsg::SendAttestations {
        attestation_ids: local_ids,
        channel_id: w.link.a_channel.clone(),
        timeout_seconds: None,
    };
    let researcher = g.researcher.clone();
    g.execute(&researcher, &send).unwrap();
    relay(
        &mut w.genomics,
        &mut w.trials,
        &w.link.a_channel,
        &w.link.b_channel,
    );
    let received: AttestationsResponse = w.trials.query(&att::QueryMsg::AttestationsByConsent {
        source_chain: "genomics-1".into(),
        consent_id: token_id,
        start_after: None,
        limit: None,
    });
    received.attestations.iter().map(|a| a.id).collect()
}

const ELIGIBLE: Records = &[
    ("hba1c", 64, Operator::Lt, 70),
    ("age", 42, Operator::Gte, 18),
];

fn enroll(w: &mut World, who: &Addr, ids: Vec<u64>) -> Result<(), ContractError> {
    let msg = trials::ExecuteMsg::Enroll {
        trial_id: w.trial_id,
        attestation_ids: ids,
    };
    w.trials
        .app
        .execute_contract(who.clone(), w.contract.clone(), &msg, &[])
        .map(|_| ())
        .map_err(contract_error::<ContractError>)
}

fn participant(w: &World, who: &Addr) -> ParticipantResponse {
    w.trials
        .app
        .wrap()
        .query_wasm_smart(
            &w.contract,
            &trials::QueryMsg::Participant {
                trial_id: w.trial_id,
                participant: who.to_string(),
            },
        )
        .unwrap()
}

#[test]
fn an_eligible_patient_enrolls_with_attestations_from_genomics_and_no_value_is_recorded() {
    let mut w = world(10);
    let patient = w.trials.patient.clone();
    let purpose = format!("trial:{}", w.trial_id);
    let ids = attest_for_trial(&mut w, &patient, &purpose, ELIGIBLE);
    assert_eq!(ids.len(), 2);
    let before = w.trials.app.dump_wasm_raw(&w.contract);
    // One attestation alone covers only one criterion.
    let err = enroll(&mut w, &patient, ids[..1].to_vec()).unwrap_err();
    assert!(
        err.to_string().contains("no attestation shows age gte"),
        "{err}"
    );
    // Someone else cannot enroll with the patient's attestations.
    let stranger = w.trials.researcher.clone();
    let err = enroll(&mut w, &stranger, ids.clone()).unwrap_err();
    assert!(
        err.to_string().contains("another patient's consent"),
        "{err}"
    );
    assert_eq!(w.trials.app.dump_wasm_raw(&w.contract), before);

    enroll(&mut w, &patient, ids.clone()).unwrap();
    let p = participant(&w, &patient);
    assert!(p.active, "{p:?}");
    let Enrollment {
        source_chain,
        attestation_ids,
        ..
    } = p.enrollment.clone();
    assert_eq!(
        (source_chain.as_str(), attestation_ids),
        ("genomics-1", ids.clone())
    );
    // No value in anything the contract stored.
    let stored = format!("{:?}", w.trials.app.dump_wasm_raw(&w.contract));
    for secret in ["64", "42"] {
        assert!(
            !String::from_utf8_lossy(stored.as_bytes()).contains(&format!("\"{secret}\"")),
            "a record value is stored"
        );
    }
    assert_eq!(
        enroll(&mut w, &patient, ids).unwrap_err(),
        ContractError::AlreadyEnrolled {
            trial_id: w.trial_id,
            participant: patient.to_string()
        }
    );
}

#[test]
fn revoking_the_consent_deactivates_the_participant_and_refuses_new_enrollments() {
    let mut w = world(10);
    let patient = w.trials.patient.clone();
    let purpose = format!("trial:{}", w.trial_id);
    let ids = attest_for_trial(&mut w, &patient, &purpose, ELIGIBLE);
    enroll(&mut w, &patient, ids.clone()).unwrap();
    // The patient revokes on genomics-1; the revocation travels to trials-1.
    let consent_id = participant(&w, &patient).enrollment.consent_id;
    let revoke = consent::ExecuteMsg::RevokeConsent {
        token_id: consent_id.clone(),
        reason: None,
    };
    let consent_addr = w.genomics.consent.clone();
    w.genomics
        .app
        .execute_contract(patient.clone(), consent_addr, &revoke, &[])
        .unwrap();
    let anyone = w.genomics.researcher.clone();
    let propagate = att::ExecuteMsg::PropagateRevocation {
        consent_token_id: consent_id,
    };
    w.genomics.execute(&anyone, &propagate).unwrap();
    relay(
        &mut w.genomics,
        &mut w.trials,
        &w.link.a_channel,
        &w.link.b_channel,
    );
    let p = participant(&w, &patient);
    assert!(!p.active);
    assert!(p.reason.unwrap().contains("consent revoked"));

    // A second patient whose consent was revoked before enrolling is refused.
    let other = account(w.trials.app.api(), "patient-2");
    let ids = attest_for_trial(&mut w, &other, &purpose, ELIGIBLE);
    let consent_id = w
        .trials
        .query::<att::Attestation>(&att::QueryMsg::Attestation { id: ids[0] })
        .context
        .consent_id;
    let revoke = consent::ExecuteMsg::RevokeConsent {
        token_id: consent_id.clone(),
        reason: None,
    };
    let consent_addr = w.genomics.consent.clone();
    w.genomics
        .app
        .execute_contract(other.clone(), consent_addr, &revoke, &[])
        .unwrap();
    w.genomics
        .execute(
            &anyone,
            &att::ExecuteMsg::PropagateRevocation {
                consent_token_id: consent_id,
            },
        )
        .unwrap();
    relay(
        &mut w.genomics,
        &mut w.trials,
        &w.link.a_channel,
        &w.link.b_channel,
    );
    let err = enroll(&mut w, &other, ids).unwrap_err();
    assert!(err.to_string().contains("no longer valid"), "{err}");
}

#[test]
fn ineligible_values_other_purposes_capacity_and_withdrawal() {
    let mut w = world(1);
    let purpose = format!("trial:{}", w.trial_id);
    // HbA1c 7.5 %: no proof of "< 7.0" exists; the custodian can only attest "< 8.0".
    let high = account(w.trials.app.api(), "patient-high");
    let ids = attest_for_trial(
        &mut w,
        &high,
        &purpose,
        &[
            ("hba1c", 75, Operator::Lt, 80),
            ("age", 42, Operator::Gte, 18),
        ],
    );
    let err = enroll(&mut w, &high, ids).unwrap_err();
    assert!(
        err.to_string().contains("no attestation shows hba1c lt"),
        "{err}"
    );

    // A consent granted for another trial does not enroll in this one.
    let elsewhere = account(w.trials.app.api(), "patient-elsewhere");
    let ids = attest_for_trial(&mut w, &elsewhere, "trial:99", ELIGIBLE);
    let err = enroll(&mut w, &elsewhere, ids).unwrap_err();
    assert!(err.to_string().contains("for trial:"), "{err}");

    // Capacity 1: the first eligible patient fills it; after a withdrawal a place is free.
    let patient = w.trials.patient.clone();
    let ids = attest_for_trial(&mut w, &patient, &purpose, ELIGIBLE);
    enroll(&mut w, &patient, ids).unwrap();
    let second = account(w.trials.app.api(), "patient-2");
    let ids = attest_for_trial(&mut w, &second, &purpose, ELIGIBLE);
    assert_eq!(
        enroll(&mut w, &second, ids.clone()).unwrap_err(),
        ContractError::TrialFull(w.trial_id)
    );
    let withdraw = trials::ExecuteMsg::Withdraw {
        trial_id: w.trial_id,
    };
    w.trials
        .app
        .execute_contract(patient.clone(), w.contract.clone(), &withdraw, &[])
        .unwrap();
    assert_eq!(
        participant(&w, &patient).reason.as_deref(),
        Some("withdrew")
    );
    enroll(&mut w, &second, ids).unwrap();
}
