//! Step 8: a clinical trial on trials-1. The sponsor registers it with hmesh (HbA1c < 7.0,
//! age ≥ 18, the localnet's custodian as site); a patient (one key on genomics-1 and
//! trials-1) grants the trials contract consent for `trial:<id>`; the custodian proves HbA1c and
//! age on genomics-1 and sends the attestations to trials-1; the patient enrolls with
//! `hmesh trials enroll`. A patient whose HbA1c is above the bound (only "< 8.0" can be proven)
//! is refused; revoking the consent on genomics-1 deactivates the participant on trials-1.

use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use cosmwasm_std::HexBinary;
use healthmesh_client::deployment::contract;
use healthmesh_proofs::prover::Opening;
use healthmesh_proofs::statement::{
    commit, salt_from_wide_bytes, subject_key, AttributeCode, Context as ProofContext, Operator,
    Predicate, Statement,
};
use healthmesh_types::attestation::{AttestationSubmission, ExecuteMsg};
use healthmesh_types::events;
use healthmesh_types::trials::{trial_purpose, ParticipantResponse};

use super::attest::{attestations_under, random_hex, recorded_ids, Prover, RELAYER_FEE};
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

/// Seconds from `hmesh trials enroll` to the participant queryable as active.
pub fn run(net: &mut Net, prover: &Prover, ev: &mut Evidence) -> Result<f64> {
    println!("== 8. a trial on {REMOTE}: zk enrollment with attestations from {SOURCE}");
    let trial_id = register(net, ev)?;
    let trials_contract = net.contract(REMOTE, contract::TRIALS)?;

    let patient = net.fresh_account_on(&[SOURCE, REMOTE], "trial-patient")?;
    let ids = attest_for_trial(net, prover, ev, &patient, trial_id, &ELIGIBLE)?;
    let id_list = ids.iter().map(u64::to_string).collect::<Vec<_>>().join(",");
    let trial = trial_id.to_string();
    let started = Instant::now();
    let tx = net.hmesh_tx(
        REMOTE,
        &patient,
        &["trials", "enroll", &trial, "--attestations", &id_list],
    )?;
    ev.measure("enroll (hmesh, 2 attestations)", &tx);
    let address = net.account(REMOTE, &patient)?;
    let active = participant(net, trial_id, &address)?;
    let enroll_seconds = started.elapsed().as_secs_f64();
    ensure!(active.active, "the participant is not active: {active:?}");
    println!(
        "   trial {trial_id}: the patient enrolled with attestations {id_list} received from {SOURCE} (HbA1c < 7.0, age ≥ 18); no value recorded"
    );

    let high = net.fresh_account_on(&[SOURCE, REMOTE], "trial-ineligible")?;
    let ids = attest_for_trial(net, prover, ev, &high, trial_id, &INELIGIBLE)?;
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

    revoke_and_deactivate(net, ev, &patient, trial_id, &address, &trials_contract)?;
    Ok(enroll_seconds)
}

/// The sponsor (the researcher key of trials-1) registers the trial with hmesh.
fn register(net: &Net, ev: &mut Evidence) -> Result<u64> {
    let protocol = random_hex();
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
        "custodian",
        "--milestone",
        "visit-3:visits_completed gte 3:500:200",
    ];
    let tx = net.hmesh_tx(REMOTE, "researcher", &args)?;
    ev.measure("register_trial (hmesh)", &tx);
    tx.attr(events::tx::TRIAL_REGISTERED, events::attr::TRIAL_ID)
        .and_then(|id| id.parse().ok())
        .context("trial id")
}

/// On genomics-1: `patient` designates the custodian, grants the trials contract consent for
/// the trial; the custodian anchors and proves each record, submits, and sends the
/// attestations to trials-1. Returns their ids on trials-1.
fn attest_for_trial(
    net: &Net,
    prover: &Prover,
    ev: &mut Evidence,
    patient: &str,
    trial_id: u64,
    records: &[(&str, u64, Operator, u64)],
) -> Result<Vec<u64>> {
    let dataset = random_hex();
    let designate = [
        "consent",
        "designate-custodian",
        "--dataset",
        &dataset,
        "--custodian",
        "custodian",
    ];
    ev.see_tx(&net.hmesh_tx(SOURCE, patient, &designate)?);
    let trials_contract = net.contract(REMOTE, contract::TRIALS)?;
    let purpose = trial_purpose(trial_id);
    let scope = records.iter().map(|r| r.0).collect::<Vec<_>>().join(",");
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
    let patient_address = net.account(SOURCE, patient)?;
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
            dataset: HexBinary::from_hex(&dataset)?,
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
    ev.see_tx(&net.execute_all(SOURCE, "custodian", contract::ATTESTATION, &anchors, 0)?);
    let submit = ExecuteMsg::SubmitAttestations {
        circuit_id: prover.circuit_id().into(),
        attestations: submissions,
    };
    let tx = net.execute(SOURCE, "custodian", contract::ATTESTATION, &submit)?;
    ev.see_tx(&tx);
    let local = recorded_ids(&tx)?;
    let send = ExecuteMsg::SendAttestations {
        attestation_ids: local.clone(),
        channel_id: net.channel(SOURCE, REMOTE)?,
        timeout_seconds: Some(600),
    };
    ev.see_tx(&net.execute_all(
        SOURCE,
        "custodian",
        contract::ATTESTATION,
        &[send],
        RELAYER_FEE,
    )?);
    wait_for(
        "the trial attestations on trials-1",
        Duration::from_secs(60),
        || {
            let there = attestations_under(net, REMOTE, &token)?;
            Ok((there.len() == local.len()).then(|| there.iter().map(|a| a.id).collect()))
        },
    )
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
    _trials_contract: &str,
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
    Ok(())
}
