//! Step 6: the research gateway against the localnet — `hmesh-gateway` indexes the three
//! chains, `hmesh research` and the Python client query it, and a restart (with a revocation
//! while it is down) loses nothing.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context as _, Result};
use serde_json::Value;

use super::burst::Burst;
use super::{PURPOSE, SOURCE};
use crate::evidence::Evidence;
use crate::net::Net;

const GATEWAY: &str = "127.0.0.1:9391";

struct Gateway(Child);

impl Drop for Gateway {
    fn drop(&mut self) {
        // SIGTERM: the gateway shuts down gracefully; its index is committed per block anyway.
        let _ = Command::new("kill").arg(self.0.id().to_string()).status();
        let _ = self.0.wait();
    }
}

fn start(root: &Path, db: &Path) -> Result<Gateway> {
    let metrics = format!("127.0.0.1:{METRICS_PORT}");
    Ok(Gateway(spawn_gateway(root, db, GATEWAY, &metrics)?))
}

/// `hmesh-gateway` (built by `make e2e`) on `db`, serving gRPC on `listen` and metrics on
/// `metrics`; returns once it listens.
pub fn spawn_gateway(root: &Path, db: &Path, listen: &str, metrics: &str) -> Result<Child> {
    // The localnet has one synthetic patient, so this run uses k = 1: the cohort is one
    // patient however many attestations, and the attestations may be listed. Suppression,
    // complementary suppression and the row rule are tested in gateway/tests/review.rs.
    let mut child = Command::new(root.join("target/debug/hmesh-gateway"))
        .args([
            "--listen",
            listen,
            "--metrics-listen",
            metrics,
            "--k",
            "1",
            "--db",
        ])
        .arg(db)
        .env("RUST_LOG", "warn")
        // Retried RPC errors are warnings: one line each, not a backtrace.
        .env("RUST_BACKTRACE", "0")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .context("starting hmesh-gateway (built by make e2e)")?;
    let mut line = String::new();
    BufReader::new(child.stdout.take().context("stdout")?).read_line(&mut line)?;
    ensure!(
        line.contains("listening on"),
        "hmesh-gateway did not start: {line}"
    );
    Ok(child)
}

fn research(net: &Net, args: &[&str]) -> Result<Value> {
    let url = format!("http://{GATEWAY}");
    let mut all = vec!["--from", "researcher", "research", "--gateway", &url];
    all.extend_from_slice(args);
    net.hmesh(SOURCE, &all)
}

fn count(net: &Net, chain: &str) -> Result<Value> {
    research(
        net,
        &[
            "count",
            "--attribute",
            "hba1c",
            "--op",
            "lt",
            "--values",
            "70000",
            "--purpose",
            PURPOSE,
            "--chains",
            chain,
        ],
    )
}

/// Waits until the gateway has indexed every chain up to its current height.
fn wait_indexed(net: &Net) -> Result<()> {
    let targets: Vec<(String, u64)> = ["genomics-1", "trials-1", "billing-1"]
        .iter()
        .map(|c| {
            let status = net.hmesh(c, &["chain", "status"])?;
            Ok((
                c.to_string(),
                status[0]["height"].as_u64().context("height")?,
            ))
        })
        .collect::<Result<_>>()?;
    let start = Instant::now();
    loop {
        if let Ok(v) = count(net, "genomics-1,trials-1,billing-1") {
            let heights = &v["indexed_heights"];
            if targets
                .iter()
                .all(|(c, h)| heights[c].as_u64().unwrap_or(0) >= *h)
            {
                return Ok(());
            }
        }
        if start.elapsed() > Duration::from_secs(300) {
            bail!("the gateway did not index up to {targets:?} within 300 s");
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// Step 6; returns the gateway's catch-up time (3 chains from height 1), seconds.
pub fn run(net: &Net, ev: &mut Evidence, batch: &Burst, revoked_token: &str) -> Result<f64> {
    println!("== 6. research gateway: index, hmesh research, Python client, grpcurl, restart");
    let root = net.root.as_path();
    let batch_token = batch.grant.token.as_str();
    let dir = std::env::temp_dir().join(format!("hmesh-e2e-gateway-{}", std::process::id()));
    let db = dir.join("index.redb");
    let t = Instant::now();
    let gateway = start(root, &db)?;
    wait_indexed(net)?;
    let catch_up = t.elapsed().as_secs_f64();

    let before = count(net, "genomics-1")?;
    // This run's patient granted the batch consent: its attestations count once (a rerun on
    // the same localnet may find patients of interrupted earlier runs as well).
    let before_count = before["count"].as_u64().context("count")?;
    ensure!(
        before_count >= 1 && before["suppressed"] == false,
        "count (this run's patient, {} attestations): {before}",
        batch.size
    );
    let page_size = (batch.size + 10).to_string();
    let listed = research(
        net,
        &[
            "list",
            "--chains",
            "genomics-1",
            "--consent-id",
            batch_token,
            "--page-size",
            &page_size,
        ],
    )?;
    let listed = listed.as_array().context("list answers an array")?;
    ensure!(
        listed.len() == batch.size && listed.iter().all(|a| a["validity"] == "VALIDITY_VALID"),
        "batch attestations: {listed:?}"
    );
    let revoked = research(
        net,
        &[
            "list",
            "--chains",
            "genomics-1",
            "--consent-id",
            revoked_token,
            "--include-invalid",
        ],
    )?;
    ensure!(
        revoked.as_array().is_some_and(|a| !a.is_empty() && a.iter().all(|x| x["validity"] == "VALIDITY_REVOKED")),
        "revoked consent's attestation: {revoked}"
    );
    let remote_id = revoked_remote_or_any(net)?;
    let verified = research(net, &["verify", "trials-1", &remote_id.to_string()])?;
    ensure!(
        verified["proof_valid"] == true,
        "gateway re-verification: {verified}"
    );
    ensure!(
        !verified["provenance"]["relayer"]
            .as_str()
            .unwrap_or_default()
            .is_empty(),
        "provenance: {verified}"
    );
    ev.see(&before);
    ev.see(&verified);

    let access = research(
        net,
        &[
            "check",
            "--on",
            "genomics-1",
            "--dataset",
            &batch.grant.dataset,
            "--purpose",
            PURPOSE,
            "--attribute",
            "hba1c",
        ],
    )?;
    ensure!(
        access["allowed"] == true && access["token_id"] == batch_token,
        "CheckAccess: {access}"
    );
    let wrong = research(
        net,
        &[
            "check",
            "--on",
            "genomics-1",
            "--dataset",
            &batch.grant.dataset,
            "--purpose",
            "marketing",
            "--attribute",
            "hba1c",
        ],
    )?;
    ensure!(
        wrong["allowed"] == false && wrong["reason"] == "wrong_purpose",
        "CheckAccess, other purpose: {wrong}"
    );
    grpcurl_checks()?;
    let python = python_count(net, root)?;
    ensure!(
        python["count"] == before["count"] && python["suppressed"] == before["suppressed"],
        "python {python} vs hmesh {before}"
    );
    let lags = metrics_checks()?;
    println!(
        "   gateway metrics (Prometheus :{METRICS_PORT}): requests counted by method and outcome, index lag per chain {lags}"
    );
    println!(
        "   gateway indexed 3 chains in {catch_up:.1} s; genomics-1 cohort {} patient (k = {}) over {} attestations; remote proof re-verified; Python client agrees; grpcurl lists, health-checks, and is refused unsigned",
        before["count"], before["k"], batch.size
    );

    // Restart, with a revocation while the gateway is down: it must be picked up.
    drop(gateway);
    let tx = net.hmesh_tx(
        SOURCE,
        &net.patient,
        &[
            "consent",
            "revoke",
            batch_token,
            "--reason",
            "e2e: withdrawn while the gateway was down",
        ],
    )?;
    ev.measure("revoke_consent (hmesh)", &tx);
    let _gateway = start(root, &db)?;
    wait_indexed(net)?;
    let after = count(net, "genomics-1")?;
    // The patient's other consent was revoked in step 3: the patient leaves the cohort
    // (on a fresh localnet nobody is left: 0 < k, suppressed).
    let left = before_count - 1;
    let expected = if left == 0 {
        after["suppressed"] == true && after["count"] == 0
    } else {
        after["count"] == left
    };
    ensure!(
        expected,
        "after restart + revocation: {after}, before: {before}"
    );
    println!(
        "   restart: index resumed; the revocation made while it was down took the cohort from {before_count} patient(s) to {left}"
    );
    std::fs::remove_dir_all(&dir).ok();
    Ok(catch_up)
}

/// A reflection client out of the box: grpcurl lists and describes the service, checks
/// health, and an unsigned call is refused as UNAUTHENTICATED.
fn grpcurl_checks() -> Result<()> {
    let grpcurl = std::env::var("GRPCURL")
        .context("GRPCURL (set by make e2e via scripts/ensure-research-tools.sh)")?;
    let run = |args: &[&str]| -> Result<String> {
        let out = Command::new(&grpcurl)
            .arg("-plaintext")
            .args(args)
            .output()
            .context("running grpcurl")?;
        Ok(format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    };
    let list = run(&[GATEWAY, "list"])?;
    ensure!(
        list.contains("healthmesh.research.v1.ResearchService")
            && list.contains("grpc.health.v1.Health"),
        "grpcurl list: {list}"
    );
    let health = run(&[
        "-d",
        r#"{"service":"healthmesh.research.v1.ResearchService"}"#,
        GATEWAY,
        "grpc.health.v1.Health/Check",
    ])?;
    let status: serde_json::Value =
        serde_json::from_str(&health).with_context(|| format!("grpcurl health: {health}"))?;
    ensure!(status["status"] == "SERVING", "grpcurl health: {health}");
    let body = r#"{"attribute":"hba1c","purpose":"trial-eligibility","predicate":{"op":"lt","values":[70000]}}"#;
    let unsigned = run(&[
        "-d",
        body,
        GATEWAY,
        "healthmesh.research.v1.ResearchService/CountCohort",
    ])?;
    ensure!(
        unsigned.contains("Unauthenticated") && unsigned.contains("missing x-hm-pubkey"),
        "grpcurl unsigned: {unsigned}"
    );
    Ok(())
}

/// An attestation received on trials-1 (over IBC) that the researcher may see.
fn revoked_remote_or_any(net: &Net) -> Result<u64> {
    let any = research(
        net,
        &[
            "list",
            "--chains",
            "trials-1",
            "--include-invalid",
            "--page-size",
            "1",
        ],
    )?;
    any[0]["id"]
        .as_u64()
        .context("no attestation on trials-1 visible to the researcher")
}

fn python_count(net: &Net, root: &Path) -> Result<Value> {
    let key = net.hmesh(
        SOURCE,
        &[
            "keys",
            "export",
            "researcher",
            "--unsafe-export-private-key",
        ],
    )?;
    let key = key["private_key_hex"]
        .as_str()
        .context("exported key")?
        .to_string();
    let out = Command::new("python3")
        .arg(root.join("examples/python/research_client.py"))
        .args(["--gateway", GATEWAY, "--key-hex", &key])
        .args([
            "count",
            "--attribute",
            "hba1c",
            "--op",
            "lt",
            "--values",
            "70000",
            "--purpose",
            PURPOSE,
            "--chain",
            "genomics-1",
        ])
        .output()
        .context("running the Python client (pip install -r examples/python/requirements.txt)")?;
    ensure!(
        out.status.success(),
        "python client: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(serde_json::from_slice(&out.stdout)?)
}

/// The gateway's default metrics port (`--metrics-listen`).
const METRICS_PORT: u16 = 9464;

/// The gateway's `/metrics`: the CountCohort requests just made, counted as `ok`, and the index
/// height and lag of every chain. Returns the lags.
fn metrics_checks() -> Result<String> {
    let body = healthmesh_client::telemetry::http_get(METRICS_PORT, "/metrics")?;
    ensure!(
        body.contains(r#"gateway_requests_total{method="CountCohort",code="ok"}"#),
        "no CountCohort requests counted in the gateway's metrics:\n{body}"
    );
    let mut lags = vec![];
    for chain in ["genomics-1", "trials-1", "billing-1"] {
        let line = body
            .lines()
            .find(|l| l.starts_with(&format!(r#"gateway_index_lag_blocks{{chain="{chain}"}}"#)))
            .with_context(|| format!("no index lag for {chain} in the gateway's metrics"))?;
        lags.push(format!(
            "{chain} {}",
            line.rsplit(' ').next().unwrap_or("?")
        ));
    }
    Ok(lags.join(", "))
}
