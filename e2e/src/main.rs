//! `make e2e`: the HealthMesh mission end to end on the running localnet — real wasmd
//! chains, real Hermes, real proofs — with a table of measured figures.
//!
//! 1. genomics-1: the custodian (bonded at deployment) anchors a commitment; the patient
//!    grants consent; a Groth16 proof is made with the proofs crate and submitted.
//! 2. The attestation is sent over IBC; Hermes relays it; trials-1 re-verifies and records it.
//! 3. The patient revokes; the revocation reaches trials-1.
//! 4. A DAO proposal passes by vote transactions and executes.
//! 5. A batch of attestations measures latency (p50/p95) and packet loss.
//! 6. The research gateway indexes the chains and answers hmesh, Python and grpcurl clients;
//!    a restart with a revocation made while it was down loses nothing.
//! 7. No synthetic record value or salt appears in any transaction, event, state read or
//!    gateway answer.

mod chain;
mod research;

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context as _, Result};
use chain::Localnet;
use healthmesh_proofs::keys::ProvingKey;
use healthmesh_proofs::prover::{prove, Opening};
use healthmesh_proofs::statement::{
    commit, subject_key, AttributeCode, Context, Operator, Predicate, Statement,
};
use serde_json::json;

pub(crate) const SOURCE: &str = "genomics-1";
const REMOTE: &str = "trials-1";
/// Synthetic HbA1c values in ten-thousandths of a percent (6.4137 % …): distinctive numbers, so
/// finding one on chain would mean the value leaked.
const BASE_VALUE: u64 = 64_137;

pub(crate) struct Run {
    pub(crate) net: Localnet,
    pk: ProvingKey,
    circuit_id: String,
    gas: Vec<(String, u64)>,
    pub(crate) seen: Vec<String>,
    secrets: Vec<String>,
}

fn main() {
    if let Err(err) = run() {
        eprintln!("e2e FAILED: {err:#}");
        std::process::exit(1);
    }
}

fn run() -> Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let net = Localnet::load(&root)?;
    let pk = ProvingKey::from_bytes(&std::fs::read(
        root.join(".localnet/proof-keys/predicate.pk"),
    )?)?;
    let circuit_id = net.deployment["circuit_id"]
        .as_str()
        .context("circuit_id")?
        .to_string();
    let mut r = Run {
        net,
        pk,
        circuit_id,
        gas: vec![],
        seen: vec![],
        secrets: vec![],
    };

    let batch: usize = std::env::var("E2E_BATCH")
        .ok()
        .and_then(|b| b.parse().ok())
        .unwrap_or(50);
    println!("== 1-2. attest on {SOURCE}, relay to {REMOTE}");
    let dataset = random_bytes();
    let token = grant(&mut r, &dataset)?;
    let revoked_token = token.clone();
    let (id, _) = attest(&mut r, &dataset, &token, 0, true)?;
    let latency = send_and_wait(&mut r, id, &token, true)?;
    println!("   attestation {id} verified on {REMOTE} after {latency:.2} s");

    println!("== 3. revoke consent {token}; propagate to {REMOTE}");
    revoke(&mut r, &token)?;

    println!("== 4. DAO proposal by vote transactions");
    dao(&mut r)?;

    println!("== 5. batch of {batch} attestations");
    let dataset = random_bytes();
    let token = grant(&mut r, &dataset)?;
    let ids: Vec<u64> = (1..=batch)
        .map(|i| attest(&mut r, &dataset, &token, i as u64, false).map(|(id, _)| id))
        .collect::<Result<_>>()?;
    // Send them all, then wait: each latency runs from its own send's commit.
    let sent: Vec<(u64, Instant)> = ids
        .iter()
        .map(|id| send(&mut r, *id, false).map(|t| (*id, t)))
        .collect::<Result<_>>()?;
    let mut latencies = wait_remote(&r, &token, &sent)?;
    let lost = lost_packets(&r, &token, batch)?;

    println!("== 6. research gateway: index, hmesh research, Python client, grpcurl, restart");
    let batch_info = research::Batch {
        token: token.clone(),
        dataset: dataset.clone(),
        revoked_token,
        size: batch,
    };
    let catch_up = research::run(&mut r, &root, &batch_info)?;

    println!("== 7. no synthetic record value or salt on chain or from the gateway");
    collect_state(&mut r, &token)?;
    check_no_phi(&r)?;

    report(&r, &mut latencies, batch, lost);
    println!("| gateway catch-up, 3 chains from height 1 | {catch_up:.1} s |");
    ensure!(lost == 0, "{lost} packets lost");
    println!("e2e: 1 passed, 0 failed");
    Ok(())
}

fn random_bytes() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

pub(crate) fn record(r: &mut Run, label: &str, tx: &chain::Tx) {
    r.gas.push((label.to_string(), tx.gas_used));
    r.seen.push(tx.json.to_string());
}

fn grant(r: &mut Run, dataset: &str) -> Result<String> {
    // Through hmesh: the patient names the custodian holding the dataset, then grants.
    let tx = r.net.hmesh_tx(
        SOURCE,
        "patient",
        &[
            "consent",
            "designate-custodian",
            "--dataset",
            dataset,
            "--custodian",
            "custodian",
        ],
    )?;
    record(r, "designate_custodian (hmesh)", &tx);
    let tx = r.net.hmesh_tx(
        SOURCE,
        "patient",
        &[
            "consent",
            "grant",
            "--grantee",
            "researcher",
            "--dataset",
            dataset,
            "--purpose",
            "trial-eligibility",
            "--scope",
            "hba1c",
        ],
    )?;
    record(r, "grant_consent (hmesh)", &tx);
    tx.attr("wasm-consent_granted", "token_id")
        .context("token id")
}

/// Anchor a fresh commitment and submit a proof of `hba1c < 7.0`; returns the attestation id.
fn attest(r: &mut Run, dataset: &str, token: &str, i: u64, measure: bool) -> Result<(u64, String)> {
    let patient = r.net.account(SOURCE, "patient");
    let researcher = r.net.account(SOURCE, "researcher");
    let attestation = r.net.contract(SOURCE, "attestation");
    let value = BASE_VALUE + i;
    let mut salt_bytes = [0u8; 64];
    rand::Rng::fill_bytes(&mut rand::rng(), &mut salt_bytes);
    let opening = Opening {
        value,
        salt: healthmesh_proofs::statement::salt_from_wide_bytes(&salt_bytes),
        subject: subject_key(&patient),
    };
    r.secrets.push(value.to_string());
    r.secrets.push(hex::encode(opening.salt.to_bytes()));
    let attribute = AttributeCode::new("hba1c")?;
    let commitment = commit(&attribute, value, &opening.salt, &opening.subject);
    let anchor = json!({"anchor": {"commitment": hex::encode(commitment), "attribute": "hba1c",
                         "dataset": dataset, "patient": patient}});
    let tx = r.net.execute(SOURCE, "custodian", &attestation, &anchor)?;
    if measure {
        record(r, "anchor", &tx);
    } else {
        r.seen.push(tx.json.to_string());
    }
    let statement = Statement {
        attribute,
        predicate: Predicate::new(Operator::Lt, vec![70_000])?,
        commitment,
        context: Context {
            chain_id: SOURCE.into(),
            consent_contract: r.net.contract(SOURCE, "consent"),
            consent_id: token.into(),
            grantee: researcher.clone(),
        },
    };
    let proof = prove(&r.pk, &statement, &opening, &mut rand::rng())?;
    let submit = json!({"submit_attestation": {"circuit_id": r.circuit_id, "attribute": "hba1c",
        "predicate": {"op": "lt", "values": [70_000]}, "commitment": hex::encode(commitment),
        "consent_token_id": token, "proof": base64(&proof), "expires_at": null}});
    let tx = r.net.execute(SOURCE, "researcher", &attestation, &submit)?;
    if measure {
        record(r, "submit_attestation (verify on chain)", &tx);
    } else {
        r.gas
            .push(("submit_attestation (batch)".into(), tx.gas_used));
        r.seen.push(tx.json.to_string());
    }
    let id = tx
        .attr("wasm-attestation_recorded", "attestation_id")
        .context("attestation id")?
        .parse()?;
    Ok((id, hex::encode(commitment)))
}

fn base64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Send over IBC; returns when the send was committed on the source chain.
fn send(r: &mut Run, id: u64, measure: bool) -> Result<Instant> {
    let channel = r.net.channel(SOURCE, REMOTE)?;
    let attestation = r.net.contract(SOURCE, "attestation");
    let msg = json!({"send_attestation": {"attestation_id": id, "channel_id": channel, "timeout_seconds": 600}});
    let tx = r.net.execute(SOURCE, "researcher", &attestation, &msg)?;
    let committed = Instant::now();
    if measure {
        record(r, "send_attestation", &tx);
    } else {
        r.seen.push(tx.json.to_string());
    }
    Ok(committed)
}

/// The source ids of the attestations under `token` that the remote chain holds.
fn remote_ids(r: &Run, token: &str) -> Result<Vec<u64>> {
    let remote = r.net.contract(REMOTE, "attestation");
    let mut ids = vec![];
    let mut start_after: Option<u64> = None;
    loop {
        let q = json!({"attestations_by_consent": {"source_chain": SOURCE, "consent_id": token, "limit": 30,
            "start_after": start_after}});
        let items = r.net.query(REMOTE, &remote, &q)?["attestations"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if items.is_empty() {
            return Ok(ids);
        }
        ids.extend(
            items
                .iter()
                .filter_map(|a| a["origin"]["remote"]["source_id"].as_u64()),
        );
        start_after = items.last().and_then(|a| a["id"].as_u64());
    }
}

/// Wait until every sent attestation is queryable remotely; seconds from each send's commit.
fn wait_remote(r: &Run, token: &str, sent: &[(u64, Instant)]) -> Result<Vec<f64>> {
    let mut latencies: Vec<Option<f64>> = vec![None; sent.len()];
    r.net.wait_for(
        "the attestations on the remote chain",
        Duration::from_secs(300),
        || {
            let have = remote_ids(r, token)?;
            for (slot, (id, committed)) in latencies.iter_mut().zip(sent) {
                if slot.is_none() && have.contains(id) {
                    *slot = Some(committed.elapsed().as_secs_f64());
                }
            }
            Ok(latencies.iter().all(Option::is_some).then_some(()))
        },
    )?;
    Ok(latencies.into_iter().flatten().collect())
}

/// Send over IBC and wait until the remote chain can be queried for it; seconds taken.
fn send_and_wait(r: &mut Run, id: u64, token: &str, measure: bool) -> Result<f64> {
    let committed = send(r, id, measure)?;
    let latency = wait_remote(r, token, &[(id, committed)])?[0];
    if measure {
        let recv = r.net.search_txs(
            REMOTE,
            &format!("wasm-attestation_received.consent_id='{token}'"),
        )?;
        let tx = recv.last().context("the relayed receive tx")?;
        let gas = tx["gas_used"]
            .as_str()
            .and_then(|g| g.parse().ok())
            .unwrap_or(0);
        r.gas
            .push(("remote receive + re-verify (Hermes tx)".into(), gas));
        r.seen.push(tx.to_string());
    }
    Ok(latency)
}

fn revoke(r: &mut Run, token: &str) -> Result<()> {
    let consent = r.net.contract(SOURCE, "consent");
    let tx = r.net.execute(
        SOURCE,
        "patient",
        &consent,
        &json!({"revoke_consent": {"token_id": token, "reason": null}}),
    )?;
    record(r, "revoke_consent", &tx);
    let attestation = r.net.contract(SOURCE, "attestation");
    let tx = r.net.execute(
        SOURCE,
        "researcher",
        &attestation,
        &json!({"propagate_revocation": {"consent_token_id": token}}),
    )?;
    record(r, "propagate_revocation", &tx);
    let remote = r.net.contract(REMOTE, "attestation");
    let query = json!({"attestations_by_consent": {"source_chain": SOURCE, "consent_id": token, "limit": 30,
        "start_after": null}});
    r.net.wait_for(
        "revocation on the remote chain",
        Duration::from_secs(120),
        || {
            let page = r.net.query(REMOTE, &remote, &query)?;
            let all_revoked = page["attestations"].as_array().is_some_and(|a| {
                !a.is_empty() && a.iter().all(|x| x["status"].get("revoked").is_some())
            });
            Ok(all_revoked.then_some(()))
        },
    )?;
    println!("   revocation reached {REMOTE}");
    Ok(())
}

/// Propose → vote → execute, every step a transaction signed by `hmesh`.
fn dao(r: &mut Run) -> Result<()> {
    let staking = r.net.contract(SOURCE, "staking");
    let update = json!({"update_config": {"min_bond": "1500000", "unbonding_period": null, "slashing_window": null,
        "max_claims": null, "slash_destination": null}});
    let msgs = json!([{"wasm": {"execute": {"contract_addr": staking, "msg": base64(update.to_string().as_bytes()),
        "funds": []}}}]);
    let file = std::env::temp_dir().join(format!("hmesh-e2e-msgs-{}.json", std::process::id()));
    std::fs::write(&file, msgs.to_string())?;
    let file = file.to_string_lossy().to_string();
    let tx = r.net.hmesh_tx(
        SOURCE,
        "dao-1",
        &[
            "dao",
            "propose",
            "--title",
            "Raise the attester minimum bond",
            "--description",
            "e2e: 1.5 STAKE minimum",
            "--msgs",
            &file,
        ],
    )?;
    record(r, "dao propose (hmesh)", &tx);
    let id = tx
        .attr("wasm-proposal_created", "proposal_id")
        .context("proposal id")?;
    for voter in ["dao-1", "dao-2"] {
        let tx = r
            .net
            .hmesh_tx(SOURCE, voter, &["dao", "vote", &id, "yes"])?;
        record(r, "dao vote (hmesh)", &tx);
    }
    // A transaction that fails in the block (fixed gas too low, so no simulation catches it):
    // hmesh reports the chain's code and log and exits non-zero; the vote is not counted.
    let failed = r.net.hmesh(
        SOURCE,
        &[
            "--from", "dao-3", "--gas", "120000", "dao", "vote", &id, "no",
        ],
    );
    ensure!(
        failed
            .as_ref()
            .is_err_and(|e| e.to_string().contains("failed at height")
                && e.to_string().contains("out of gas")),
        "an out-of-gas vote: {failed:?}"
    );
    let proposal = r.net.wait_for(
        "the proposal to pass and leave its timelock",
        Duration::from_secs(120),
        || {
            let p = r.net.hmesh(SOURCE, &["dao", "show", &id])?["proposal"].clone();
            let executable_at: u128 = p["executable_at"]
                .as_str()
                .and_then(|t| t.parse().ok())
                .unwrap_or(u128::MAX);
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)?
                .as_nanos();
            Ok((p["status"] == "passed" && now > executable_at + 2_000_000_000).then_some(p))
        },
    )?;
    ensure!(
        proposal["status"] == "passed",
        "proposal {id}: {}",
        proposal["status"]
    );
    let tx = r.net.hmesh_tx(SOURCE, "dao-3", &["dao", "execute", &id])?;
    record(r, "dao execute (hmesh)", &tx);
    let config = r.net.query(SOURCE, &staking, &json!({"config": {}}))?;
    if config["min_bond"] != "1500000" {
        bail!(
            "proposal {id} executed but min_bond is {}",
            config["min_bond"]
        );
    }
    // A proposal that does not exist is a clear, non-zero hmesh error.
    let missing = r.net.hmesh(SOURCE, &["dao", "show", "999999"]);
    ensure!(
        missing
            .as_ref()
            .is_err_and(|e| e.to_string().contains("proposal 999999 not found")),
        "hmesh dao show 999999: {missing:?}"
    );
    println!("   proposal {id} passed by hmesh votes and executed (min_bond now 1500000)");
    Ok(())
}

fn lost_packets(r: &Run, token: &str, batch: usize) -> Result<usize> {
    Ok(batch.saturating_sub(remote_ids(r, token)?.len()))
}

fn collect_state(r: &mut Run, token: &str) -> Result<()> {
    for chain in [SOURCE, REMOTE] {
        let attestation = r.net.contract(chain, "attestation");
        let q = json!({"attestations_by_consent": {"source_chain": SOURCE, "consent_id": token, "limit": 30,
            "start_after": null}});
        r.seen
            .push(r.net.query(chain, &attestation, &q)?.to_string());
    }
    Ok(())
}

/// Whole-token occurrences only: a value's digits inside a longer number do not count.
fn contains_token(haystack: &str, needle: &str) -> bool {
    haystack.match_indices(needle).any(|(i, _)| {
        let before = haystack[..i].chars().last();
        let after = haystack[i + needle.len()..].chars().next();
        !before.is_some_and(|c| c.is_ascii_alphanumeric())
            && !after.is_some_and(|c| c.is_ascii_alphanumeric())
    })
}

/// Does this JSON object state a predicate: a `predicate`/`op` field, or an event carrying an
/// `op` attribute?
fn states_predicate(object: &serde_json::Map<String, serde_json::Value>) -> bool {
    object.contains_key("predicate")
        || object.contains_key("op")
        || object
            .get("attributes")
            .and_then(|a| a.as_array())
            .is_some_and(|attrs| attrs.iter().any(|a| a["key"] == "op"))
}

/// Every JSON object in `value` that states a predicate, with its text.
fn predicate_objects(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(object) => {
            if states_predicate(object) {
                out.push(value.to_string());
            }
            object.values().for_each(|v| predicate_objects(v, out));
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| predicate_objects(v, out)),
        _ => {}
    }
}

/// H-4: no patient address in any transaction event, message or query answer that states a
/// predicate, on either chain or from the gateway.
fn check_no_patient_next_to_predicate(r: &Run) -> Result<()> {
    let patient = r.net.account(SOURCE, "patient");
    let mut objects = vec![];
    for text in &r.seen {
        if let Ok(value) = serde_json::from_str::<serde_json::Value>(text) {
            predicate_objects(&value, &mut objects);
        }
    }
    ensure!(
        !objects.is_empty(),
        "no predicate found to check: the scan is blind"
    );
    for object in &objects {
        ensure!(
            !object.contains(&patient),
            "patient address next to a predicate: {object}"
        );
    }
    println!(
        "   checked {} predicate-bearing events/records: no patient address next to a predicate",
        objects.len()
    );
    Ok(())
}

fn check_no_phi(r: &Run) -> Result<()> {
    check_no_patient_next_to_predicate(r)?;
    for secret in &r.secrets {
        for text in &r.seen {
            ensure!(
                !contains_token(text, secret),
                "synthetic record data {secret} found on chain"
            );
        }
    }
    println!(
        "   checked {} secrets against {} transactions/queries: none found",
        r.secrets.len(),
        r.seen.len()
    );
    Ok(())
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx]
}

fn report(r: &Run, latencies: &mut [f64], batch: usize, lost: usize) {
    println!("\n| transaction | gas used |");
    println!("|---|---|");
    let mut seen = std::collections::BTreeMap::<&str, Vec<u64>>::new();
    for (label, gas) in &r.gas {
        seen.entry(label).or_default().push(*gas);
    }
    for (label, gases) in seen {
        let mean = gases.iter().sum::<u64>() / gases.len() as u64;
        println!("| {label} | {mean} (n={}) |", gases.len());
    }
    latencies.sort_by(|a, b| a.total_cmp(b));
    println!("\n| relay latency, source commit → queryable on {REMOTE} | seconds |");
    println!("|---|---|");
    println!("| p50 over {batch} | {:.2} |", percentile(latencies, 0.5));
    println!("| p95 over {batch} | {:.2} |", percentile(latencies, 0.95));
    println!("| packets lost | {lost} |");
}
