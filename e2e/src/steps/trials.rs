//! Step 8: a clinical trial on trials-1. The sponsor registers it with hmesh (HbA1c < 7.0,
//! age ≥ 18, the localnet's custodian as site); a patient (one key on genomics-1 and
//! trials-1) grants the trials contract consent for `trial:<id>`; the custodian proves HbA1c and
//! age on genomics-1 and sends the attestations to trials-1; the patient enrolls with
//! `hmesh trials enroll`. The sponsor funds the trial's budget on billing-1 (same key); the
//! site (the custodian: one key on every chain) proves the participant's visits on genomics-1
//! and claims the milestone on trials-1 with `hmesh trials milestone`; the participant and the
//! site are paid on billing-1, timed from the claim's commit. A patient whose HbA1c is above
//! the bound (only "< 8.0" can be proven) is refused; revoking the consent on genomics-1
//! deactivates the participant on trials-1 and refuses their next payout.

use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, ensure, Context, Result};
use cosmwasm_std::HexBinary;
use healthmesh_client::deployment::contract;
use healthmesh_proofs::prover::Opening;
use healthmesh_proofs::statement::{
    commit, salt_from_wide_bytes, subject_key, AttributeCode, Context as ProofContext, Operator,
    Predicate, Statement,
};
use healthmesh_types::attestation::{AttestationSubmission, Delivery, DeliveryStatus, ExecuteMsg};
use healthmesh_types::billing::{self, TrialBudget};
use healthmesh_types::events;
use healthmesh_types::trials::{
    trial_purpose, BudgetLink, BudgetLinkStatus, ClaimStatus, MilestoneClaim, ParticipantResponse,
};

use super::attest::{
    attestations_under, deliveries, designate_custodian, random_hex, recorded_ids, Prover,
    RELAYER_FEE,
};
use super::market::{check_books, BILLING};
use super::{REMOTE, SOURCE};
use crate::evidence::Evidence;
use crate::net::{wait_for, Net};

/// HbA1c in ten-thousandths of a percent, age in years; synthetic.
const ELIGIBLE: [(&str, u64, Operator, u64); 2] = [
    ("hba1c", 64_219, Operator::Lt, 70_000),
    ("age", 47, Operator::Gte, 18),
];
const INELIGIBLE: [(&str, u64, Operator, u64); 2] = [
    ("hba1c", 75_331, Operator::Lt, 80_000),
    ("age", 52, Operator::Gte, 18),
];

/// Milestone payouts, per participant: 500 to the participant, 200 to the site.
const PARTICIPANT_PAYOUT: u128 = 500;
const SITE_PAYOUT: u128 = 200;
/// Participants paid in the run (the payout time's p50 is over them); the budget holds
/// exactly their payouts, so one more participant's claim finds it exhausted.
const PAID: u32 = 3;
const BUDGET: u128 = PAID as u128 * (PARTICIPANT_PAYOUT + SITE_PAYOUT);
/// The site: the custodian, one key on every chain (attests on genomics-1, claims on
/// trials-1, is paid on billing-1).
const SITE: &str = "custodian";

/// What step 8 measured, in seconds.
pub struct TrialTimes {
    /// `hmesh trials enroll` → participant queryable as active, per participant (sorted).
    pub enroll: Vec<f64>,
    /// The site's milestone claim committed on trials-1 → payout visible on billing-1, per
    /// participant paid (sorted).
    pub payout: Vec<f64>,
}

/// A patient enrolled in the trial: their key name, consent and address.
struct Enrolled {
    key: String,
    consent: TrialConsent,
    address: String,
}

pub fn run(net: &mut Net, prover: &Prover, ev: &mut Evidence) -> Result<TrialTimes> {
    println!("== 8. a trial on {REMOTE}: zk enrollment with attestations from {SOURCE}, milestones paid on {BILLING}");
    // One key for the sponsor on trials-1 and billing-1: it registers, funds and reclaims.
    let sponsor = net.fresh_account_on(&[REMOTE, BILLING], "trial-sponsor")?;
    let trial_id = register(net, ev, &sponsor)?;
    let trial = trial_id.to_string();
    wait_budget_open(net, &trial)?;
    let fund = ["trials", "budget", &trial, "--fund", &BUDGET.to_string()];
    ev.see_tx(&net.hmesh_tx(BILLING, &sponsor, &fund)?);
    println!(
        "   trial {trial_id} registered by its sponsor; its budget opened on {BILLING} over the milestone channel and was funded with {BUDGET} by the same key"
    );

    let mut times = TrialTimes {
        enroll: vec![],
        payout: vec![],
    };
    let mut first = None;
    for paid_before in 0..PAID {
        let (patient, seconds) = enroll(net, prover, ev, trial_id)?;
        times.enroll.push(seconds);
        times
            .payout
            .push(milestone(net, prover, ev, &patient, trial_id, paid_before)?);
        first.get_or_insert(patient);
    }
    let first = first.context("no participant")?;
    println!(
        "   {PAID} participants enrolled with attestations received from {SOURCE} (HbA1c < 7.0, age ≥ 18; no value recorded); for each the site proved 4 visits (≥ 3) on {SOURCE} and claimed visit-3 with hmesh: {PARTICIPANT_PAYOUT} to the participant and {SITE_PAYOUT} to the site on {BILLING}; claimed again: refused; books balanced"
    );
    exhausted(net, prover, ev, trial_id)?;

    let high = net.fresh_account_on(&[SOURCE, REMOTE], "trial-ineligible")?;
    let high_consent = grant_for_trial(net, ev, &high, trial_id, &INELIGIBLE)?;
    let ids = attest_under(net, prover, ev, &high, &high_consent, &INELIGIBLE)?;
    let id_list = ids.iter().map(u64::to_string).collect::<Vec<_>>().join(",");
    match net.hmesh_tx(
        REMOTE,
        &high,
        &["trials", "enroll", &trial, "--attestations", &id_list],
    ) {
        Err(e) if e.to_string().contains("no attestation shows hba1c lt") => {}
        Err(e) => return Err(e),
        Ok(_) => bail!("a patient with HbA1c above the bound was enrolled"),
    }
    println!("   a patient whose HbA1c is above the bound (only \"< 8.0\" provable) was refused");

    revoke_and_deactivate(net, ev, &first.key, trial_id, &first.address)?;
    times.enroll.sort_by(f64::total_cmp);
    times.payout.sort_by(f64::total_cmp);
    Ok(times)
}

/// A fresh eligible patient grants consent on genomics-1, the custodian proves HbA1c and age
/// there and sends them, and the patient enrolls with `hmesh trials enroll`; returns the
/// patient and the seconds from the enroll command to the participant queryable as active.
fn enroll(
    net: &mut Net,
    prover: &Prover,
    ev: &mut Evidence,
    trial_id: u64,
) -> Result<(Enrolled, f64)> {
    let key = net.fresh_account_on(&[SOURCE, REMOTE], "trial-patient")?;
    let consent = grant_for_trial(net, ev, &key, trial_id, &ELIGIBLE)?;
    let ids = attest_under(net, prover, ev, &key, &consent, &ELIGIBLE)?;
    let id_list = ids.iter().map(u64::to_string).collect::<Vec<_>>().join(",");
    let trial = trial_id.to_string();
    let started = Instant::now();
    let tx = net.hmesh_tx(
        REMOTE,
        &key,
        &["trials", "enroll", &trial, "--attestations", &id_list],
    )?;
    ev.measure("enroll (hmesh, 2 attestations)", &tx);
    let address = net.account(REMOTE, &key)?;
    let active = participant(net, trial_id, &address)?;
    let seconds = started.elapsed().as_secs_f64();
    ensure!(active.active, "the participant is not active: {active:?}");
    Ok((
        Enrolled {
            key,
            consent,
            address,
        },
        seconds,
    ))
}

/// A fourth participant's claim finds the budget exhausted: billing-1 refuses it whole, the
/// claim is recorded unpaid with the reason, nothing is credited.
fn exhausted(net: &mut Net, prover: &Prover, ev: &mut Evidence, trial_id: u64) -> Result<()> {
    let (patient, _) = enroll(net, prover, ev, trial_id)?;
    let evidence = site_evidence(net, prover, ev, &patient)?;
    let trial = trial_id.to_string();
    let claim = claim_args(&trial, &patient.address, &evidence);
    ev.see_tx(&net.hmesh_tx(REMOTE, SITE, &claim)?);
    let show = [
        "trials",
        "milestone",
        &trial,
        "--milestone",
        "visit-3",
        "--participant",
        &patient.address,
        "--show",
    ];
    let reason = wait_for(
        "billing-1's answer to the claim",
        Duration::from_secs(60),
        || {
            let claim: MilestoneClaim = serde_json::from_value(net.hmesh(REMOTE, &show)?)?;
            Ok(match claim.status {
                ClaimStatus::InFlight { .. } => None,
                ClaimStatus::Paid { .. } => Some(Err(anyhow!("paid from an exhausted budget"))),
                ClaimStatus::Unpaid { reason, .. } => Some(Ok(reason)),
            })
        },
    )??;
    ensure!(
        reason.contains("exhausted"),
        "refused for another reason: {reason}"
    );
    ensure!(
        credited(net, &patient.address)? == 0,
        "credited from an exhausted budget"
    );
    check_books(net, &net.contract(BILLING, contract::BILLING)?)?;
    println!("   a fourth participant's claim found the budget exhausted: refused on {BILLING} with the reason, recorded unpaid on {REMOTE}, nothing credited");
    Ok(())
}

/// Registration announced the budget terms to billing-1; wait for its answer on trials-1.
fn wait_budget_open(net: &Net, trial: &str) -> Result<()> {
    let status = wait_for(
        "billing-1's answer to the trial's budget terms",
        Duration::from_secs(90),
        || {
            let link: BudgetLink =
                serde_json::from_value(net.hmesh(REMOTE, &["trials", "budget", trial])?)?;
            Ok(match link.status {
                BudgetLinkStatus::Announced { .. } => None,
                other => Some(other),
            })
        },
    )?;
    ensure!(
        matches!(status, BudgetLinkStatus::Open { .. }),
        "billing-1 did not open the budget: {status:?}"
    );
    Ok(())
}

/// What `address` may withdraw from the billing contract.
fn credited(net: &Net, address: &str) -> Result<u128> {
    let q = billing::QueryMsg::Balance {
        address: address.into(),
    };
    let balance: billing::BalanceResponse = net.query(BILLING, contract::BILLING, &q)?;
    Ok(balance.balance.iter().map(|c| c.amount.u128()).sum())
}

/// The site proves 4 completed visits (`≥ 3`) under the participant's consent on genomics-1
/// and sends it to trials-1; returns the attestation's id there.
fn site_evidence(net: &Net, prover: &Prover, ev: &mut Evidence, p: &Enrolled) -> Result<String> {
    let visits = [("visits_completed", 4, Operator::Gte, 3)];
    Ok(attest_under(net, prover, ev, &p.key, &p.consent, &visits)?[0].to_string())
}

fn claim_args<'a>(trial: &'a str, participant: &'a str, evidence: &'a str) -> [&'a str; 9] {
    [
        "trials",
        "milestone",
        trial,
        "--milestone",
        "visit-3",
        "--participant",
        participant,
        "--attestation",
        evidence,
    ]
}

/// The site claims `visit-3` for `p` with hmesh; the payout is timed from the claim's commit
/// to the participant's credit on billing-1 (same key, same address: one prefix). The budget
/// had paid `paid_before` milestones.
fn milestone(
    net: &Net,
    prover: &Prover,
    ev: &mut Evidence,
    p: &Enrolled,
    trial_id: u64,
    paid_before: u32,
) -> Result<f64> {
    let evidence = site_evidence(net, prover, ev, p)?;
    let site = net.account(BILLING, SITE)?;
    let site_before = credited(net, &site)?;
    let trial = trial_id.to_string();
    let claim = claim_args(&trial, &p.address, &evidence);
    let tx = net.hmesh_tx(REMOTE, SITE, &claim)?;
    let committed = Instant::now();
    ev.measure("claim_milestone (hmesh)", &tx);
    wait_for(
        "the milestone payout on billing-1",
        Duration::from_secs(60),
        || Ok((credited(net, &p.address)? > 0).then_some(())),
    )?;
    let seconds = committed.elapsed().as_secs_f64();
    ensure!(
        credited(net, &p.address)? == PARTICIPANT_PAYOUT
            && credited(net, &site)? == site_before + SITE_PAYOUT,
        "the payout is not exactly {PARTICIPANT_PAYOUT} to the participant and {SITE_PAYOUT} to the site"
    );
    let budget: TrialBudget =
        serde_json::from_value(net.hmesh(BILLING, &["trials", "budget", &trial])?)?;
    let paid = paid_before + 1;
    let left = BUDGET - u128::from(paid) * (PARTICIPANT_PAYOUT + SITE_PAYOUT);
    ensure!(
        budget.payouts == paid
            && budget.funds.iter().map(|c| c.amount.u128()).sum::<u128>() == left,
        "the budget does not show {paid} payouts and {left} left: {budget:?}"
    );
    check_books(net, &net.contract(BILLING, contract::BILLING)?)?;
    // Claimed again: refused on trials-1, nothing sent.
    match net.hmesh_tx(REMOTE, SITE, &claim) {
        Err(e) if e.to_string().contains("already paid or being paid") => {}
        Err(e) => return Err(e),
        Ok(_) => bail!("a paid milestone was claimed again"),
    }
    Ok(seconds)
}

/// The sponsor registers the trial with hmesh: HbA1c < 7.0, age ≥ 18, the custodian as site,
/// one milestone (3 visits: 500 to the participant, 200 to the site).
fn register(net: &Net, ev: &mut Evidence, sponsor: &str) -> Result<u64> {
    let protocol = random_hex();
    let milestone = format!("visit-3:visits_completed gte 3:{PARTICIPANT_PAYOUT}:{SITE_PAYOUT}");
    let args = [
        "trials",
        "register",
        "--protocol-hash",
        &protocol,
        "--criterion",
        "hba1c lt 70000",
        "--criterion",
        "age gte 18",
        "--enrollment-days",
        "30",
        "--duration-days",
        "365",
        "--capacity",
        "10",
        "--sites",
        SITE,
        "--milestone",
        &milestone,
    ];
    let tx = net.hmesh_tx(REMOTE, sponsor, &args)?;
    ev.measure("register_trial (hmesh)", &tx);
    tx.attr(events::tx::TRIAL_REGISTERED, events::attr::TRIAL_ID)
        .and_then(|id| id.parse().ok())
        .context("trial id")
}

/// A patient's consent to the trials contract on genomics-1.
struct TrialConsent {
    dataset: String,
    token: String,
}

/// On genomics-1: `patient` designates the custodian and grants the trials contract consent
/// for the trial, over the records' attributes and the milestone's evidence.
fn grant_for_trial(
    net: &Net,
    ev: &mut Evidence,
    patient: &str,
    trial_id: u64,
    records: &[(&str, u64, Operator, u64)],
) -> Result<TrialConsent> {
    // The site is the localnet's custodian.
    let (dataset, tx) = designate_custodian(net, patient)?;
    ev.see_tx(&tx);
    let trials_contract = net.contract(REMOTE, contract::TRIALS)?;
    let purpose = trial_purpose(trial_id);
    let mut scope: Vec<&str> = records.iter().map(|r| r.0).collect();
    scope.push("visits_completed");
    let scope = scope.join(",");
    let grant = [
        "consent",
        "grant",
        "--grantee",
        &trials_contract,
        "--dataset",
        &dataset,
        "--purpose",
        &purpose,
        "--scope",
        &scope,
    ];
    let tx = net.hmesh_tx(SOURCE, patient, &grant)?;
    ev.see_tx(&tx);
    let token = tx
        .attr(events::tx::CONSENT_GRANTED, events::attr::TOKEN_ID)
        .context("token id")?;
    Ok(TrialConsent { dataset, token })
}

/// The custodian anchors and proves each record of `patient` under `consent`, submits, and
/// sends the attestations to trials-1. Returns their ids on trials-1.
fn attest_under(
    net: &Net,
    prover: &Prover,
    ev: &mut Evidence,
    patient: &str,
    consent: &TrialConsent,
    records: &[(&str, u64, Operator, u64)],
) -> Result<Vec<u64>> {
    let trials_contract = net.contract(REMOTE, contract::TRIALS)?;
    let patient_address = net.account(SOURCE, patient)?;
    let token = &consent.token;
    let mut anchors = vec![];
    let mut submissions = vec![];
    for (attribute, value, op, bound) in records {
        let code = AttributeCode::new(attribute)?;
        let salt = salt_from_wide_bytes(&rand::random::<[u8; 64]>());
        // Distinctive values are searched for verbatim; an age of 47 would match unrelated
        // numbers, so its salt stands for it.
        if *value >= 10_000 {
            ev.secrets.push(value.to_string());
        }
        ev.secrets.push(hex::encode(salt.to_bytes()));
        let opening = Opening {
            value: *value,
            salt,
            subject: subject_key(&patient_address),
        };
        let commitment = commit(&code, *value, &opening.salt, &opening.subject);
        anchors.push(ExecuteMsg::Anchor {
            commitment: HexBinary::from(commitment),
            attribute: attribute.to_string(),
            dataset: HexBinary::from_hex(&consent.dataset)?,
            patient: patient_address.clone(),
        });
        let predicate = Predicate::new(*op, vec![*bound])?;
        let statement = Statement {
            attribute: code,
            predicate: predicate.clone(),
            commitment,
            context: ProofContext {
                chain_id: SOURCE.into(),
                consent_contract: net.contract(SOURCE, contract::CONSENT)?,
                consent_id: token.clone(),
                grantee: trials_contract.clone(),
            },
        };
        submissions.push(AttestationSubmission {
            attribute: attribute.to_string(),
            predicate,
            commitment: HexBinary::from(commitment),
            consent_token_id: token.clone(),
            proof: prover.prove(&statement, &opening)?,
            expires_at: None,
        });
    }
    ev.see_tx(&net.execute_all(SOURCE, SITE, contract::ATTESTATION, &anchors, 0)?);
    let submit = ExecuteMsg::SubmitAttestations {
        circuit_id: prover.circuit_id().into(),
        attestations: submissions,
    };
    let tx = net.execute(SOURCE, SITE, contract::ATTESTATION, &submit)?;
    ev.see_tx(&tx);
    let local = recorded_ids(&tx)?;
    let already = attestations_under(net, REMOTE, token)?.len();
    let send = ExecuteMsg::SendAttestations {
        attestation_ids: local.clone(),
        channel_id: net.channel(SOURCE, REMOTE)?,
        timeout_seconds: Some(600),
    };
    ev.see_tx(&net.execute_all(SOURCE, SITE, contract::ATTESTATION, &[send], RELAYER_FEE)?);
    let arrived = wait_for(
        "the trial attestations on trials-1",
        Duration::from_secs(120),
        || {
            let there = attestations_under(net, REMOTE, token)?;
            if there.len() >= already + local.len() {
                return Ok(Some(there[already..].iter().map(|a| a.id).collect()));
            }
            failed_delivery(net, &local)
        },
    );
    arrived.map_err(|e| {
        let states = deliveries_of(net, &local).unwrap_or_default();
        e.context(format!("deliveries recorded on {SOURCE}: {states:?}"))
    })
}

/// The source's record of each attestation's deliveries.
fn deliveries_of(net: &Net, ids: &[u64]) -> Result<Vec<(u64, Vec<Delivery>)>> {
    ids.iter()
        .map(|id| Ok((*id, deliveries(net, *id)?)))
        .collect()
}

/// An error as soon as the source records a delivery as failed or timed out.
fn failed_delivery<T>(net: &Net, ids: &[u64]) -> Result<Option<T>> {
    for (id, records) in deliveries_of(net, ids)? {
        for d in records {
            if matches!(
                d.status,
                DeliveryStatus::Failed { .. } | DeliveryStatus::TimedOut
            ) {
                bail!("attestation {id} was not delivered: {:?}", d.status);
            }
        }
    }
    Ok(None)
}

fn participant(net: &Net, trial_id: u64, address: &str) -> Result<ParticipantResponse> {
    let trial = trial_id.to_string();
    let answer = net.hmesh(
        REMOTE,
        &["trials", "participant", &trial, "--address", address],
    )?;
    Ok(serde_json::from_value(answer)?)
}

/// The patient revokes on genomics-1 and propagates; on trials-1 the participant turns
/// inactive.
fn revoke_and_deactivate(
    net: &Net,
    ev: &mut Evidence,
    patient: &str,
    trial_id: u64,
    address: &str,
) -> Result<()> {
    let consent_id = participant(net, trial_id, address)?.enrollment.consent_id;
    ev.see_tx(&net.hmesh_tx(SOURCE, patient, &["consent", "revoke", &consent_id])?);
    let propagate = ExecuteMsg::PropagateRevocation {
        consent_token_id: consent_id.clone(),
    };
    ev.see_tx(&net.execute(SOURCE, "researcher", contract::ATTESTATION, &propagate)?);
    let reason = wait_for(
        "the participant deactivated on trials-1",
        Duration::from_secs(60),
        || {
            let p = participant(net, trial_id, address)?;
            Ok((!p.active).then_some(p.reason.unwrap_or_default()))
        },
    )?;
    println!(
        "   the patient revoked consent {consent_id} on {SOURCE}: inactive on {REMOTE} ({reason})"
    );
    // The revoked participant's next claim is refused: no payout.
    let trial = trial_id.to_string();
    match net.hmesh_tx(REMOTE, SITE, &claim_args(&trial, address, "1")) {
        Err(e) if e.to_string().contains("is not active") => {}
        Err(e) => return Err(e),
        Ok(_) => bail!("a milestone was claimed for a participant whose consent is revoked"),
    }
    println!("   a milestone claim for the revoked participant was refused: no payout");
    Ok(())
}
