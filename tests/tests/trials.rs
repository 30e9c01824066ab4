//! zk enrollment across chains: a custodian on genomics-1 proves a patient's HbA1c and age
//! under a consent the patient granted to trials-1's trials contract for `trial:<id>`, the
//! attestations travel to trials-1, and the patient enrolls there with them — no value
//! recorded; revoking the consent deactivates the participant.

use std::sync::OnceLock;

use cosmwasm_std::{
    coin, coins, from_json, to_json_binary, Api, Binary, IbcAcknowledgement, IbcEndpoint,
    IbcPacket, IbcPacketAckMsg, IbcPacketReceiveMsg, IbcTimeout, StdAck,
};
use cosmwasm_std::{Addr, HexBinary};
use cw_multi_test::Executor;
use cw_utils::Expiration;
use healthmesh_billing::ContractError as BillingError;
use healthmesh_proofs::keys::{setup_from_seed, ProvingKey};
use healthmesh_proofs::prover::{prove, Opening};
use healthmesh_proofs::statement::{commit, subject_key, AttributeCode, Context, Statement};
use healthmesh_testing::contract_error;
use healthmesh_testing::dao::DENOM;
use healthmesh_testing::ibc_harness::{account, connect, relay, Chain, Link, Relayed};
use healthmesh_testing::settle::deploy_billing;
use healthmesh_testing::trial_pay::{connect_milestones, deploy_trials, relay_milestones};
use healthmesh_trials::ContractError;
use healthmesh_types::attestation::{self as att, AttestationsResponse};
use healthmesh_types::billing::{self, TrialBudget, TrialBudgetStatus};
use healthmesh_types::consent;
use healthmesh_types::pause::PauseMsg;
use healthmesh_types::trial_pay::{BudgetTerms, MilestonePayout, TrialPacket};
use healthmesh_types::trials::{
    self, BudgetLinkStatus, ClaimStatus, Criterion, Enrollment, Milestone, MilestoneClaim,
    Operator, ParticipantResponse, Predicate, TrialTerms,
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
    /// billing-1 with its billing contract, and the milestone channel to it.
    billing: Chain,
    pay: Link,
}

const PARTICIPANT_PAYOUT: u128 = 500;
const SITE_PAYOUT: u128 = 200;

fn visit_milestone() -> Milestone {
    Milestone {
        name: "visit-3".into(),
        evidence: criterion("visits_completed", Operator::Gte, vec![3]),
        participant_payout: coin(PARTICIPANT_PAYOUT, DENOM),
        site_payout: coin(SITE_PAYOUT, DENOM),
    }
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
    let mut billing = Chain::new("billing-1", &vk);
    deploy_billing(&mut billing);
    let link = connect(&mut genomics, &mut trials, "channel-0", "channel-0");
    let contract = deploy_trials(&mut trials, &[]);
    let pay = connect_milestones(
        &mut billing,
        &mut trials,
        &contract,
        ("channel-3", "channel-4"),
    );
    let admin = trials.admin.clone();
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
        milestones: vec![visit_milestone()],
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
    let mut w = World {
        genomics,
        trials,
        link,
        contract,
        trial_id,
        billing,
        pay,
    };
    // Registration announced the budget terms; billing-1 opens the budget.
    let answers = w.relay_milestones();
    assert!(
        matches!(&answers[..], [Relayed::Acknowledged(_)]),
        "{answers:?}"
    );
    w
}

impl World {
    fn relay_milestones(&mut self) -> Vec<Relayed> {
        relay_milestones(
            &mut self.billing,
            &mut self.trials,
            &self.contract,
            &self.pay,
        )
        .unwrap()
    }
}

/// A patient's records: (attribute, value, proven predicate).
type Records<'a> = &'a [(&'a str, u64, Operator, u64)];

/// On genomics-1, `patient` designates the custodian of a dataset and grants consent to the
/// trials contract for `purpose` (scope: the records' attributes and `visits_completed`, the
/// milestone's evidence); the custodian anchors and proves each record and sends the
/// attestations to trials-1. Returns their ids there.
fn attest_for_trial(w: &mut World, patient: &Addr, purpose: &str, records: Records) -> Vec<u64> {
    let consent = grant_to_trial(w, patient, purpose, records);
    attest_under(w, patient, &consent, records)
}

/// A patient's consent to the trials contract: its dataset and token id on genomics-1.
struct TrialConsent {
    dataset: HexBinary,
    token_id: String,
}

fn grant_to_trial(w: &mut World, patient: &Addr, purpose: &str, records: Records) -> TrialConsent {
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
    let mut scope: Vec<String> = records.iter().map(|r| r.0.to_string()).collect();
    scope.push("visits_completed".into());
    let grant = consent::ExecuteMsg::GrantConsent {
        grantee: w.contract.to_string(),
        dataset: dataset.clone(),
        purpose: purpose.into(),
        scope,
        expires: Expiration::Never {},
    };
    let res = g
        .app
        .execute_contract(patient.clone(), consent, &grant, &[])
        .unwrap();
    let token_id = healthmesh_testing::consent::token_id_of_generic(&res.events);
    TrialConsent { dataset, token_id }
}

/// The custodian anchors, proves and submits `records` of `patient` under `consent` on
/// genomics-1 and sends them to trials-1; returns the new attestations' ids there.
fn attest_under(
    w: &mut World,
    patient: &Addr,
    consent: &TrialConsent,
    records: Records,
) -> Vec<u64> {
    attest_until(w, patient, consent, records, None)
}

/// As [`attest_under`], the attestations expiring at `expires_at` if given.
fn attest_until(
    w: &mut World,
    patient: &Addr,
    consent: &TrialConsent,
    records: Records,
    expires_at: Option<cosmwasm_std::Timestamp>,
) -> Vec<u64> {
    let g = &mut w.genomics;
    let custodian = g.custodian.clone();
    let mut local_ids = vec![];
    for (attribute, value, op, bound) in records.iter() {
        let code = AttributeCode::new(attribute).unwrap();
        let opening = Opening {
            value: *value,
            salt: bls12_381::Scalar::from(rand::random::<u64>()),
            subject: subject_key(patient.as_str()),
        };
        let commitment = commit(&code, *value, &opening.salt, &opening.subject);
        let anchor = att::ExecuteMsg::Anchor {
            commitment: HexBinary::from(commitment),
            attribute: attribute.to_string(),
            dataset: consent.dataset.clone(),
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
                consent_id: consent.token_id.clone(),
                grantee: w.contract.to_string(),
            },
        };
        let proof = prove(keys(), &statement, &opening, &mut rand::rng()).unwrap();
        let submit = att::ExecuteMsg::SubmitAttestation {
            circuit_id: hex::encode(keys().verifying_key().id()),
            attribute: attribute.to_string(),
            predicate,
            commitment: HexBinary::from(commitment),
            consent_token_id: consent.token_id.clone(),
            proof: cosmwasm_std::Binary::from(proof.to_vec()),
            expires_at,
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
        attestation_ids: local_ids.clone(),
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
        consent_id: consent.token_id.clone(),
        start_after: None,
        limit: None,
    });
    let n = received.attestations.len();
    received.attestations[n - local_ids.len()..]
        .iter()
        .map(|a| a.id)
        .collect()
}

/// `patient` revokes `consent_id` on genomics-1; anyone propagates it and it is relayed to
/// trials-1.
fn revoke_on_genomics(w: &mut World, patient: &Addr, consent_id: String) {
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

/// An attestation that expires makes an enrolled participant inactive (no payout) and cannot
/// enroll anyone after its expiry.
#[test]
fn expired_attestations_neither_enroll_nor_pay() {
    let mut w = world(10);
    w.fund(1_000).unwrap();
    let purpose = format!("trial:{}", w.trial_id);
    let in_an_hour = w.genomics.app.block_info().time.plus_seconds(3_600);
    let patient = w.trials.patient.clone();
    let consent = grant_to_trial(&mut w, &patient, &purpose, ELIGIBLE);
    let ids = attest_until(&mut w, &patient, &consent, ELIGIBLE, Some(in_an_hour));
    enroll(&mut w, &patient, ids).unwrap();
    let evidence = attest_under(
        &mut w,
        &patient,
        &consent,
        &[("visits_completed", 3, Operator::Gte, 3)],
    )[0];
    let late = account(w.trials.app.api(), "patient-late");
    let late_consent = grant_to_trial(&mut w, &late, &purpose, ELIGIBLE);
    let late_ids = attest_until(&mut w, &late, &late_consent, ELIGIBLE, Some(in_an_hour));
    assert!(participant(&w, &patient).active);

    w.trials.advance(2 * 3_600);
    let p = participant(&w, &patient);
    assert!(!p.active);
    assert!(
        p.reason.unwrap().contains("expired"),
        "inactive for another reason"
    );
    let err = enroll(&mut w, &late, late_ids).unwrap_err();
    assert!(err.to_string().contains("no longer valid"), "{err}");
    let site = w.trials.custodian.clone();
    let err = w.claim(&site, &patient, evidence).unwrap_err();
    assert!(
        matches!(err, ContractError::ParticipantInactive { .. }),
        "{err}"
    );
    assert!(w.relay_milestones().is_empty());
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
    revoke_on_genomics(&mut w, &patient, consent_id);
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
    revoke_on_genomics(&mut w, &other, consent_id);
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

// ---- Milestone payouts on billing-1 ----

const TRIALS_CHAIN: &str = "trials-1";

impl World {
    fn billing_contract(&self) -> Addr {
        healthmesh_testing::settle::billing_of(&self.billing)
    }

    fn billing_query<T: serde::de::DeserializeOwned>(&self, msg: &billing::QueryMsg) -> T {
        healthmesh_testing::settle::billing_query(&self.billing, msg)
    }

    fn budget(&self) -> TrialBudget {
        self.billing_query(&billing::QueryMsg::TrialBudget {
            chain_id: TRIALS_CHAIN.into(),
            trial_id: self.trial_id,
        })
    }

    fn billing_exec(
        &mut self,
        sender: &Addr,
        msg: &billing::ExecuteMsg,
        funds: u128,
    ) -> Result<(), BillingError> {
        let billing = self.billing_contract();
        let funds = if funds == 0 {
            vec![]
        } else {
            coins(funds, DENOM)
        };
        self.billing
            .app
            .execute_contract(sender.clone(), billing, msg, &funds)
            .map(|_| ())
            .map_err(contract_error::<BillingError>)
    }

    fn fund(&mut self, amount: u128) -> Result<(), BillingError> {
        let sponsor = self.billing.researcher.clone();
        let msg = billing::ExecuteMsg::FundTrial {
            chain_id: TRIALS_CHAIN.into(),
            trial_id: self.trial_id,
        };
        self.billing_exec(&sponsor, &msg, amount)
    }

    fn credited(&self, address: &Addr) -> u128 {
        healthmesh_testing::settle::credited(&self.billing, address)
    }

    fn assert_books(&self) {
        healthmesh_testing::settle::assert_books(&self.billing);
    }

    fn claim(&mut self, site: &Addr, who: &Addr, attestation_id: u64) -> Result<(), ContractError> {
        self.claim_milestone(site, who, "visit-3", attestation_id)
    }

    fn claim_milestone(
        &mut self,
        site: &Addr,
        who: &Addr,
        milestone: &str,
        attestation_id: u64,
    ) -> Result<(), ContractError> {
        let msg = trials::ExecuteMsg::ClaimMilestone {
            trial_id: self.trial_id,
            milestone: milestone.into(),
            participant: who.to_string(),
            attestation_id,
        };
        self.trials
            .app
            .execute_contract(site.clone(), self.contract.clone(), &msg, &[])
            .map(|_| ())
            .map_err(contract_error::<ContractError>)
    }

    fn claim_status(&self, who: &Addr) -> ClaimStatus {
        let claim: MilestoneClaim = self
            .trials
            .app
            .wrap()
            .query_wasm_smart(
                &self.contract,
                &trials::QueryMsg::MilestoneClaim {
                    trial_id: self.trial_id,
                    milestone: "visit-3".into(),
                    participant: who.to_string(),
                },
            )
            .unwrap();
        claim.status
    }

    /// `who` is enrolled with eligible attestations; returns the id on trials-1 of the site's
    /// attestation of `visits` completed visits (proven `gte 3`, or `gte 2` when fewer).
    fn enrolled_with_visits(&mut self, who: &Addr, visits: u64) -> u64 {
        let purpose = format!("trial:{}", self.trial_id);
        let consent = grant_to_trial(self, who, &purpose, ELIGIBLE);
        let ids = attest_under(self, who, &consent, ELIGIBLE);
        enroll(self, who, ids).unwrap();
        let bound = visits.min(3);
        attest_under(
            self,
            who,
            &consent,
            &[("visits_completed", visits, Operator::Gte, bound)],
        )[0]
    }

    fn ack_of(relayed: &[Relayed]) -> StdAck {
        match relayed {
            [Relayed::Acknowledged(ack)] => from_json(ack).unwrap(),
            other => panic!("expected one acknowledgement, got {other:?}"),
        }
    }
}

#[test]
fn a_site_attested_milestone_pays_the_participant_and_the_site_once_from_the_trial_budget() {
    let mut w = world(10);
    let budget = w.budget();
    assert_eq!(budget.sponsor, w.billing.researcher);
    assert_eq!(budget.status, TrialBudgetStatus::Open);
    assert!(budget.funds.is_empty());
    w.fund(1_000).unwrap();
    w.assert_books();

    let patient = w.trials.patient.clone();
    let site = w.trials.custodian.clone();
    let evidence = w.enrolled_with_visits(&patient, 4);
    w.claim(&site, &patient, evidence).unwrap();
    assert!(matches!(
        w.claim_status(&patient),
        ClaimStatus::InFlight { .. }
    ));
    let ack = World::ack_of(&w.relay_milestones());
    assert!(matches!(ack, StdAck::Success(_)), "{ack:?}");

    // Same keys on billing-1: the participant and the site are credited there.
    assert_eq!(w.credited(&patient), PARTICIPANT_PAYOUT);
    assert_eq!(w.credited(&site), SITE_PAYOUT);
    let budget = w.budget();
    assert_eq!(budget.funds, coins(300, DENOM));
    assert_eq!(budget.paid_out, coins(700, DENOM));
    assert_eq!(budget.payouts, 1);
    assert!(matches!(w.claim_status(&patient), ClaimStatus::Paid { .. }));
    let paid: Option<billing::MilestonePaid> = w.billing_query(&billing::QueryMsg::MilestonePaid {
        chain_id: TRIALS_CHAIN.into(),
        trial_id: w.trial_id,
        milestone: "visit-3".into(),
        participant: patient.to_string(),
    });
    assert_eq!(paid.unwrap().attestation_id, evidence);
    w.assert_books();

    // Claimed again on trials-1: refused there, nothing sent.
    let before = w.trials.app.dump_wasm_raw(&w.contract);
    let err = w.claim(&site, &patient, evidence).unwrap_err();
    assert!(matches!(err, ContractError::AlreadyClaimed { .. }), "{err}");
    assert_eq!(w.trials.app.dump_wasm_raw(&w.contract), before);
    assert!(w.relay_milestones().is_empty());

    // The same payout delivered twice to billing-1 (a replayed packet): refused, nothing paid.
    let packet = milestone_packet(&w, &patient, &site, w.trial_id, 20);
    let billing_before = w.billing.app.dump_wasm_raw(&w.billing_contract());
    let ack = deliver(&mut w, packet, None);
    let StdAck::Error(reason) = ack else {
        panic!("a replayed milestone was paid: {ack:?}")
    };
    assert!(reason.contains("already paid"), "{reason}");
    assert_eq!(
        w.billing.app.dump_wasm_raw(&w.billing_contract()),
        billing_before
    );

    // The participant withdraws the payout on billing-1.
    let bank_before = w.billing.balance(&patient);
    w.billing_exec(&patient, &billing::ExecuteMsg::Withdraw {}, 0)
        .unwrap();
    assert_eq!(
        w.billing.balance(&patient),
        bank_before + PARTICIPANT_PAYOUT
    );
    w.assert_books();
}

#[test]
fn an_exhausted_budget_or_a_paused_billing_contract_pays_nothing_and_the_site_claims_again() {
    let mut w = world(10);
    w.fund(600).unwrap();
    let patient = w.trials.patient.clone();
    let site = w.trials.custodian.clone();
    let evidence = w.enrolled_with_visits(&patient, 5);
    w.claim(&site, &patient, evidence).unwrap();
    let billing_before = w.billing.app.dump_wasm_raw(&w.billing_contract());
    let StdAck::Error(reason) = World::ack_of(&w.relay_milestones()) else {
        panic!("paid from a budget of 600 a milestone of 700")
    };
    assert!(reason.contains("exhausted"), "{reason}");
    assert_eq!(
        w.billing.app.dump_wasm_raw(&w.billing_contract()),
        billing_before
    );
    let ClaimStatus::Unpaid { reason, .. } = w.claim_status(&patient) else {
        panic!("the claim is not unpaid")
    };
    assert!(reason.contains("exhausted"), "{reason}");
    assert_eq!(w.credited(&patient), 0);

    // billing-1's council pauses: the next claim is refused there too, nothing paid.
    w.fund(100).unwrap();
    let admin = w.billing.admin.clone();
    let pause = billing::ExecuteMsg::Pausable(PauseMsg::Pause {
        reason: "incident".into(),
    });
    w.billing_exec(&admin, &pause, 0).unwrap();
    w.claim(&site, &patient, evidence).unwrap();
    let StdAck::Error(reason) = World::ack_of(&w.relay_milestones()) else {
        panic!("a paused billing contract paid")
    };
    assert!(reason.contains("paused"), "{reason}");
    let unpause = billing::ExecuteMsg::Pausable(PauseMsg::Unpause {});
    w.billing_exec(&admin, &unpause, 0).unwrap();

    // Funded and running: the site's new claim is paid, exactly the budget.
    w.claim(&site, &patient, evidence).unwrap();
    assert!(matches!(
        World::ack_of(&w.relay_milestones()),
        StdAck::Success(_)
    ));
    assert_eq!(w.credited(&patient), PARTICIPANT_PAYOUT);
    assert_eq!(w.credited(&site), SITE_PAYOUT);
    assert!(w.budget().funds.is_empty());
    w.assert_books();
}

#[test]
fn the_sponsor_alone_funds_and_reclaims_what_is_left_only_after_the_trial_ends() {
    let mut w = world(10);
    let stranger = w.billing.custodian.clone();
    let fund = billing::ExecuteMsg::FundTrial {
        chain_id: TRIALS_CHAIN.into(),
        trial_id: w.trial_id,
    };
    let err = w.billing_exec(&stranger, &fund, 100).unwrap_err();
    assert!(matches!(err, BillingError::NotSponsor { .. }), "{err}");
    let unknown = billing::ExecuteMsg::FundTrial {
        chain_id: TRIALS_CHAIN.into(),
        trial_id: 99,
    };
    let sponsor = w.billing.researcher.clone();
    let err = w.billing_exec(&sponsor, &unknown, 100).unwrap_err();
    assert!(matches!(err, BillingError::NoBudget { .. }), "{err}");
    // Only the market's accepted denoms go into a budget.
    let billing = w.billing_contract();
    let other_denom = w.billing.app.init_modules(|router, _, storage| {
        router.bank.init_balance(
            storage,
            &sponsor,
            vec![coin(10_000, DENOM), coin(500, "uother")],
        )
    });
    other_denom.unwrap();
    let err = w
        .billing
        .app
        .execute_contract(sponsor.clone(), billing, &fund, &coins(500, "uother"))
        .map_err(contract_error::<BillingError>)
        .unwrap_err();
    assert!(
        matches!(err, BillingError::DenomNotAccepted { .. }),
        "{err}"
    );
    w.fund(1_000).unwrap();

    let reclaim = billing::ExecuteMsg::ReclaimTrialBudget {
        chain_id: TRIALS_CHAIN.into(),
        trial_id: w.trial_id,
    };
    let err = w.billing_exec(&sponsor, &reclaim, 0).unwrap_err();
    assert!(matches!(err, BillingError::TrialNotEnded { .. }), "{err}");

    // A claim made a minute before the end is still in flight when the trial ends: the
    // sponsor cannot reclaim until a week after the end, and the claim is paid.
    let patient = w.trials.patient.clone();
    let site = w.trials.custodian.clone();
    let evidence = w.enrolled_with_visits(&patient, 3);
    let until_end = 365 * 86_400 - 60;
    w.trials.advance(until_end);
    w.billing.advance(until_end);
    w.claim(&site, &patient, evidence).unwrap();
    w.trials.advance(120);
    w.billing.advance(120);
    let err = w.billing_exec(&sponsor, &reclaim, 0).unwrap_err();
    assert!(matches!(err, BillingError::TrialNotEnded { .. }), "{err}");
    assert!(matches!(
        World::ack_of(&w.relay_milestones()),
        StdAck::Success(_)
    ));
    assert_eq!(w.credited(&patient), PARTICIPANT_PAYOUT);

    // After the end: no claim, no funding; a week later the sponsor alone reclaims the rest.
    let err = w.claim(&site, &patient, evidence).unwrap_err();
    assert_eq!(err, ContractError::TrialEnded(w.trial_id));
    let err = w.fund(10).unwrap_err();
    assert_eq!(err, BillingError::TrialEnded(w.trial_id));
    let week = 7 * 86_400;
    w.trials.advance(week);
    w.billing.advance(week);
    let err = w.billing_exec(&stranger, &reclaim, 0).unwrap_err();
    assert!(matches!(err, BillingError::NotSponsor { .. }), "{err}");

    let bank_before = w.billing.balance(&sponsor);
    w.billing_exec(&sponsor, &reclaim, 0).unwrap();
    let left = 1_000 - PARTICIPANT_PAYOUT - SITE_PAYOUT;
    assert_eq!(w.billing.balance(&sponsor), bank_before + left);
    let budget = w.budget();
    assert!(matches!(budget.status, TrialBudgetStatus::Reclaimed { .. }));
    assert!(budget.funds.is_empty());
    w.assert_books();
    let err = w.billing_exec(&sponsor, &reclaim, 0).unwrap_err();
    assert_eq!(err, BillingError::BudgetClosed(w.trial_id));

    // A payout that arrives after the reclaim is refused: the budget is closed.
    let packet = milestone_packet(&w, &patient, &site, w.trial_id, 32);
    let StdAck::Error(reason) = deliver(&mut w, packet, None) else {
        panic!("paid from a reclaimed budget")
    };
    assert!(reason.contains("reclaimed"), "{reason}");
}

#[test]
fn claims_by_non_sites_on_wrong_evidence_or_for_inactive_participants_are_refused() {
    let mut w = world(10);
    w.fund(5_000).unwrap();
    let site = w.trials.custodian.clone();
    let patient = w.trials.patient.clone();
    let evidence = w.enrolled_with_visits(&patient, 4);
    let second = account(w.trials.app.api(), "patient-2");
    let second_evidence = w.enrolled_with_visits(&second, 6);
    let two_visits = {
        let third = account(w.trials.app.api(), "patient-3");
        (third.clone(), w.enrolled_with_visits(&third, 2))
    };
    let enrollment_attestation = participant(&w, &patient).enrollment.attestation_ids[0];
    // Evidence recorded before enrolling is not a milestone reached in the trial.
    let early = account(w.trials.app.api(), "patient-early");
    let purpose = format!("trial:{}", w.trial_id);
    let early_consent = grant_to_trial(&mut w, &early, &purpose, ELIGIBLE);
    let early_ids = attest_under(&mut w, &early, &early_consent, ELIGIBLE);
    let early_visits = &[("visits_completed", 5, Operator::Gte, 3)];
    let early_evidence = attest_under(&mut w, &early, &early_consent, early_visits)[0];
    w.trials.advance(10);
    enroll(&mut w, &early, early_ids).unwrap();
    let before = w.trials.app.dump_wasm_raw(&w.contract);
    let err = w.claim(&site, &early, early_evidence).unwrap_err();
    assert!(
        err.to_string().contains("before the participant enrolled"),
        "{err}"
    );

    let stranger = w.trials.researcher.clone();
    let err = w.claim(&stranger, &patient, evidence).unwrap_err();
    assert!(matches!(err, ContractError::NotASite { .. }), "{err}");
    let err = w.claim(&site, &patient, second_evidence).unwrap_err();
    assert!(err.to_string().contains("not under the consent"), "{err}");
    let err = w
        .claim(&site, &patient, enrollment_attestation)
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("does not show visits_completed gte"),
        "{err}"
    );
    let err = w.claim(&site, &two_visits.0, two_visits.1).unwrap_err();
    assert!(err.to_string().contains("does not show"), "{err}");
    let err = w
        .claim_milestone(&site, &patient, "visit-9", evidence)
        .unwrap_err();
    assert!(
        matches!(err, ContractError::UnknownMilestone { .. }),
        "{err}"
    );
    let outsider = account(w.trials.app.api(), "never-enrolled");
    let err = w.claim(&site, &outsider, evidence).unwrap_err();
    assert!(matches!(err, ContractError::NotEnrolled { .. }), "{err}");
    assert_eq!(w.trials.app.dump_wasm_raw(&w.contract), before);
    // Governance revokes the site: it may no longer claim.
    let admin = w.trials.admin.clone();
    let revoke_site = trials::ExecuteMsg::RevokeSite {
        site: site.to_string(),
    };
    w.trials
        .app
        .execute_contract(admin.clone(), w.contract.clone(), &revoke_site, &[])
        .unwrap();
    let err = w.claim(&site, &patient, evidence).unwrap_err();
    assert!(matches!(err, ContractError::NotASite { .. }), "{err}");
    let approve = trials::ExecuteMsg::ApproveSite {
        site: site.to_string(),
    };
    w.trials
        .app
        .execute_contract(admin, w.contract.clone(), &approve, &[])
        .unwrap();

    // The patient revokes the consent on genomics-1: no payout any more.
    let consent_id = participant(&w, &patient).enrollment.consent_id;
    revoke_on_genomics(&mut w, &patient, consent_id);
    let after_revocation = w.trials.app.dump_wasm_raw(&w.contract);
    let err = w.claim(&site, &patient, evidence).unwrap_err();
    assert!(
        matches!(err, ContractError::ParticipantInactive { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("consent revoked"), "{err}");
    assert_eq!(w.trials.app.dump_wasm_raw(&w.contract), after_revocation);
    assert!(
        w.relay_milestones().is_empty(),
        "a refused claim sent a packet"
    );
    assert_eq!(w.budget().payouts, 0);
}

/// A milestone packet as the trials contract would send it, `participant_len` bytes long.
fn milestone_packet(w: &World, who: &Addr, site: &Addr, trial_id: u64, len: usize) -> Binary {
    let api = w.trials.app.api();
    let mut participant = api.addr_canonicalize(who.as_str()).unwrap().to_vec();
    participant.resize(len, 7);
    let site = api.addr_canonicalize(site.as_str()).unwrap();
    to_json_binary(&TrialPacket::Milestone(MilestonePayout {
        trial_id,
        milestone: "visit-3".into(),
        participant: participant.into(),
        site: site.into(),
        participant_payout: coin(PARTICIPANT_PAYOUT, DENOM),
        site_payout: coin(SITE_PAYOUT, DENOM),
        attestation_id: 1,
    }))
    .unwrap()
}

/// Deliver `data` to the billing contract on the milestone channel (or `channel`), from the
/// trials contract's port unless `port` says otherwise.
fn deliver(w: &mut World, data: Binary, from: Option<(&str, &str)>) -> StdAck {
    let trials_port = format!("wasm.{}", w.contract);
    let (port, channel) = from.unwrap_or((&trials_port, &w.pay.a_channel));
    let timeout = IbcTimeout::with_timestamp(w.billing.app.block_info().time.plus_seconds(60));
    let packet = IbcPacket::new(
        data,
        IbcEndpoint {
            port_id: port.into(),
            channel_id: w.pay.b_channel.clone(),
        },
        IbcEndpoint {
            port_id: format!("wasm.{}", w.billing_contract()),
            channel_id: channel.into(),
        },
        900,
        timeout,
    );
    let relayer = w.billing.app.api().addr_make("relayer");
    let msg = IbcPacketReceiveMsg::new(packet, relayer);
    let billing = w.billing_contract();
    let response = w
        .billing
        .ibc_on(&billing, |deps, env| {
            healthmesh_billing::ibc::ibc_packet_receive(deps, env, msg)
        })
        .unwrap();
    from_json(response.acknowledgement.unwrap()).unwrap()
}

#[test]
fn hostile_milestone_packets_and_forged_acks_are_refused_without_state_change() {
    let mut w = world(10);
    w.fund(5_000).unwrap();
    let patient = w.trials.patient.clone();
    let site = w.trials.custodian.clone();
    let billing = w.billing_contract();
    let snapshot = w.billing.app.dump_wasm_raw(&billing);
    let genuine = milestone_packet(&w, &patient, &site, w.trial_id, 20);
    let other_terms = to_json_binary(&TrialPacket::OpenBudget(BudgetTerms {
        trial_id: w.trial_id,
        sponsor: w
            .trials
            .app
            .api()
            .addr_canonicalize(site.as_str())
            .unwrap()
            .into(),
        ends_at: w.trials.app.block_info().time.plus_days(3_000),
    }))
    .unwrap();
    type Case<'a> = (&'a str, Binary, Option<(&'a str, &'a str)>, &'a str);
    let cases: Vec<Case> = vec![
        (
            "unbound channel",
            genuine.clone(),
            Some(("wasm.x", "channel-99")),
            "not open",
        ),
        (
            "impostor port",
            genuine.clone(),
            Some(("wasm.impostor", "channel-3")),
            "untrusted counterparty port",
        ),
        (
            "garbage",
            Binary::from(b"{\"pay\":1}".to_vec()),
            None,
            "not a packet",
        ),
        (
            "unknown trial",
            milestone_packet(&w, &patient, &site, 42, 20),
            None,
            "has no budget",
        ),
        (
            "contract participant",
            milestone_packet(&w, &patient, &site, w.trial_id, 32),
            None,
            "not a key account",
        ),
        ("other budget terms", other_terms, None, "other terms"),
    ];
    for (name, data, from, expected) in cases {
        let ack = deliver(&mut w, data, from);
        let StdAck::Error(reason) = ack else {
            panic!("{name}: accepted")
        };
        assert!(reason.contains(expected), "{name}: {reason}");
        assert_eq!(w.billing.app.dump_wasm_raw(&billing), snapshot, "{name}");
    }

    // On trials-1: no packet is accepted; an ack for a claim never sent is refused.
    let trials_snapshot = w.trials.app.dump_wasm_raw(&w.contract);
    let contract = w.contract.clone();
    let relayer = w.trials.app.api().addr_make("relayer");
    let packet = IbcPacket::new(
        genuine,
        IbcEndpoint {
            port_id: format!("wasm.{contract}"),
            channel_id: w.pay.b_channel.clone(),
        },
        IbcEndpoint {
            port_id: format!("wasm.{billing}"),
            channel_id: w.pay.a_channel.clone(),
        },
        5,
        IbcTimeout::with_timestamp(w.trials.app.block_info().time.plus_seconds(60)),
    );
    let ack = IbcPacketAckMsg::new(
        IbcAcknowledgement::new(StdAck::success(b"{}")),
        packet.clone(),
        relayer.clone(),
    );
    let err = w
        .trials
        .ibc_on(&contract, |deps, env| {
            healthmesh_trials::ibc::ibc_packet_ack(deps, env, ack)
        })
        .unwrap_err();
    assert_eq!(err, ContractError::NotInFlight);
    let received = w.trials.ibc_on(&contract, |deps, env| {
        healthmesh_trials::ibc::ibc_packet_receive(
            deps,
            env,
            IbcPacketReceiveMsg::new(packet, relayer),
        )
    });
    let ack: StdAck = from_json(received.unwrap().acknowledgement.unwrap()).unwrap();
    assert!(matches!(ack, StdAck::Error(_)));
    assert_eq!(w.trials.app.dump_wasm_raw(&w.contract), trials_snapshot);
}

#[test]
fn a_trial_registered_without_a_billing_link_announces_its_budget_later() {
    let mut w = world(10);
    let admin = w.trials.admin.clone();
    let disallow = trials::ExecuteMsg::DisallowBilling {
        connection_id: w.pay.connection.clone(),
    };
    w.trials
        .app
        .execute_contract(admin.clone(), w.contract.clone(), &disallow, &[])
        .unwrap();
    let trial: trials::Trial = w
        .trials
        .app
        .wrap()
        .query_wasm_smart(
            &w.contract,
            &trials::QueryMsg::Trial {
                trial_id: w.trial_id,
            },
        )
        .unwrap();
    let terms = TrialTerms {
        protocol_hash: trial.protocol_hash,
        criteria: trial.criteria,
        enrollment_opens: trial.enrollment_opens,
        enrollment_closes: trial.enrollment_closes,
        ends_at: trial.ends_at,
        capacity: 5,
        sites: trial.sites.iter().map(|s| s.to_string()).collect(),
        milestones: trial.milestones,
    };
    let sponsor = w.trials.researcher.clone();
    let res = w
        .trials
        .app
        .execute_contract(
            sponsor.clone(),
            w.contract.clone(),
            &trials::ExecuteMsg::RegisterTrial(terms),
            &[],
        )
        .unwrap();
    let second: u64 = from_json(res.data.unwrap()).unwrap();
    assert!(w.relay_milestones().is_empty());
    let link = |w: &World| -> BudgetLinkStatus {
        let l: trials::BudgetLink = w
            .trials
            .app
            .wrap()
            .query_wasm_smart(
                &w.contract,
                &trials::QueryMsg::BudgetLink { trial_id: second },
            )
            .unwrap();
        l.status
    };
    assert_eq!(link(&w), BudgetLinkStatus::NotAnnounced);
    let announce = trials::ExecuteMsg::AnnounceBudget { trial_id: second };
    let err = w
        .trials
        .app
        .execute_contract(sponsor.clone(), w.contract.clone(), &announce, &[])
        .map_err(contract_error::<ContractError>)
        .unwrap_err();
    assert_eq!(err, ContractError::NoBillingChannel);

    let allow = trials::ExecuteMsg::AllowBilling(healthmesh_types::ibc::AllowedConnection {
        connection_id: w.pay.connection.clone(),
        chain_id: "billing-1".into(),
        counterparty_port: format!("wasm.{}", w.billing_contract()),
    });
    w.trials
        .app
        .execute_contract(admin, w.contract.clone(), &allow, &[])
        .unwrap();
    let stranger = w.trials.custodian.clone();
    let err = w
        .trials
        .app
        .execute_contract(stranger, w.contract.clone(), &announce, &[])
        .map_err(contract_error::<ContractError>)
        .unwrap_err();
    assert_eq!(err, ContractError::NotSponsor(second));
    w.trials
        .app
        .execute_contract(sponsor.clone(), w.contract.clone(), &announce, &[])
        .unwrap();
    assert!(matches!(
        World::ack_of(&w.relay_milestones()),
        StdAck::Success(_)
    ));
    assert!(matches!(link(&w), BudgetLinkStatus::Open { .. }));
    let err = w
        .trials
        .app
        .execute_contract(sponsor, w.contract.clone(), &announce, &[])
        .map_err(contract_error::<ContractError>)
        .unwrap_err();
    assert_eq!(err, ContractError::BudgetOpen(second));
    let budget: TrialBudget = w.billing_query(&billing::QueryMsg::TrialBudget {
        chain_id: TRIALS_CHAIN.into(),
        trial_id: second,
    });
    assert_eq!(budget.sponsor, w.billing.researcher);
}
