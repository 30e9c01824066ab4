//! `make chaos`: faults injected into the running localnet, bounded in count and time. Each
//! scenario says what it injects, what it expects and what it observed; the run prints a
//! table and writes it as JSON (a list of `{scenario, passed, lost, duplicated, detail}`).
//!
//! Scenarios:
//! - **relayer killed mid-burst**: `CHAOS_BURST` (default 200) attestations sent in batch
//!   packets to trials-1, the bulk Hermes killed -9 right after the sends and restarted a few
//!   seconds later; every attestation must arrive exactly once (source sends against remote
//!   records), and every packet's fee be paid or refunded.
//! - **relayer stopped past a timeout**: the bulk Hermes stopped, an attestation sent with a
//!   short timeout, Hermes restarted after it: the source records the timeout and refunds the
//!   relayer fee escrow, and a second send delivers.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use healthmesh_client::deployment::contract;
use healthmesh_client::deployment::RelayerInfo;
use healthmesh_types::attestation::{DeliveryStatus, ExecuteMsg, QueryMsg, RelayerFeesResponse};
use serde::Serialize;

use crate::evidence::Evidence;
use crate::net::{wait_for, Net};
use crate::steps::attest::{
    deliveries, grant, prepare, recorded_ids, remote_records, send, Prover, RELAYER_FEE,
};
use crate::steps::burst::BATCH;
use crate::steps::{REMOTE, SOURCE};

#[derive(Serialize)]
struct Outcome {
    scenario: String,
    injected: String,
    expected: String,
    observed: String,
    passed: bool,
    lost: usize,
    duplicated: usize,
    detail: String,
    seconds: f64,
}

pub fn run(out: &Path) -> Result<()> {
    let burst: usize = std::env::var("CHAOS_BURST")
        .ok()
        .and_then(|b| b.parse().ok())
        .unwrap_or(200);
    let net = Net::load()?;
    let prover = Prover::load(&net)?;
    let mut ev = Evidence::default();
    let relayer = Relayer::bulk(&net)?;
    let mut outcomes = vec![];
    for (name, scenario) in [
        (
            "relayer killed mid-burst",
            Box::new(|net: &Net, ev: &mut Evidence| {
                relayer_killed(net, &prover, ev, &relayer, burst)
            }) as Box<dyn Fn(&Net, &mut Evidence) -> Result<Outcome>>,
        ),
        (
            "relayer stopped past a timeout",
            Box::new(|net: &Net, ev: &mut Evidence| {
                relayer_past_timeout(net, &prover, ev, &relayer)
            }),
        ),
    ] {
        println!("== chaos: {name}");
        let started = Instant::now();
        let outcome = scenario(&net, &mut ev).unwrap_or_else(|e| Outcome {
            scenario: name.into(),
            injected: String::new(),
            expected: String::new(),
            observed: format!("error: {e:#}"),
            passed: false,
            lost: 0,
            duplicated: 0,
            detail: format!("{e:#}"),
            seconds: 0.0,
        });
        // Whatever happened, the relayer runs again for the next scenario.
        relayer.ensure_running()?;
        let outcome = Outcome {
            seconds: started.elapsed().as_secs_f64(),
            ..outcome
        };
        println!(
            "   {}: {}",
            if outcome.passed { "passed" } else { "FAILED" },
            outcome.observed
        );
        outcomes.push(outcome);
    }
    println!("\n| scenario | injected fault | expected | observed | lost | duplicated | result |");
    println!("|---|---|---|---|---|---|---|");
    for o in &outcomes {
        println!(
            "| {} | {} | {} | {} | {} | {} | {} |",
            o.scenario,
            o.injected,
            o.expected,
            o.observed,
            o.lost,
            o.duplicated,
            if o.passed { "pass" } else { "FAIL" }
        );
    }
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(out, serde_json::to_vec_pretty(&outcomes)?)?;
    println!("wrote {}", out.display());
    let failed: Vec<&str> = outcomes
        .iter()
        .filter(|o| !o.passed)
        .map(|o| o.scenario.as_str())
        .collect();
    ensure!(
        failed.is_empty(),
        "chaos scenarios failed: {}",
        failed.join(", ")
    );
    Ok(())
}

/// The bulk lane's Hermes, as the localnet started it (binary, config, log; pid file next to
/// the log).
struct Relayer {
    info: RelayerInfo,
    pidfile: PathBuf,
}

impl Relayer {
    fn bulk(net: &Net) -> Result<Self> {
        let info = net
            .deployment
            .relayer
            .clone()
            .context("the deployment has no relayer: run make localnet")?;
        let pidfile = info
            .log
            .parent()
            .context("relayer log without a directory")?
            .join("hermes.pid");
        Ok(Relayer { info, pidfile })
    }

    fn pid(&self) -> Option<u32> {
        let pid: u32 = std::fs::read_to_string(&self.pidfile)
            .ok()?
            .trim()
            .parse()
            .ok()?;
        Path::new(&format!("/proc/{pid}")).exists().then_some(pid)
    }

    /// SIGKILL to Hermes' process group (it was started as a group leader).
    fn kill(&self) -> Result<()> {
        let pid = self.pid().context("the bulk relayer is not running")?;
        let status = Command::new("kill")
            .args(["-9", &format!("-{pid}")])
            .status()?;
        ensure!(status.success(), "kill -9 {pid} failed");
        wait_for("the relayer to die", Duration::from_secs(10), || {
            Ok(self.pid().is_none().then_some(()))
        })?;
        Ok(())
    }

    /// Start Hermes as the localnet does: same binary, config and log, own process group.
    fn start(&self) -> Result<()> {
        use std::os::unix::process::CommandExt;
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.info.log)?;
        let child = Command::new(&self.info.binary)
            .arg("--config")
            .arg(&self.info.config)
            .arg("start")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .process_group(0)
            .spawn()
            .context("restarting hermes")?;
        std::fs::write(&self.pidfile, child.id().to_string())?;
        Ok(())
    }

    fn ensure_running(&self) -> Result<()> {
        if self.pid().is_none() {
            self.start()?;
        }
        Ok(())
    }
}

/// Open relayer fee escrows of the source's attestation contract.
fn open_fees(net: &Net) -> Result<usize> {
    let mut count = 0;
    let mut start_after = None;
    loop {
        let page: RelayerFeesResponse = net.query(
            SOURCE,
            contract::ATTESTATION,
            &QueryMsg::RelayerFees {
                start_after,
                limit: Some(30),
            },
        )?;
        let Some(last) = page.fees.last() else {
            return Ok(count);
        };
        start_after = Some(last.id);
        count += page.fees.len();
    }
}

fn relayer_killed(
    net: &Net,
    prover: &Prover,
    ev: &mut Evidence,
    relayer: &Relayer,
    burst: usize,
) -> Result<Outcome> {
    let grant = grant(net, ev)?;
    println!("   proving {burst} attestations");
    let prepared = (1..=burst as u64)
        .map(|i| prepare(net, prover, ev, &grant, i))
        .collect::<Result<Vec<_>>>()?;
    let anchors: Vec<ExecuteMsg> = prepared.iter().map(|p| p.anchor.clone()).collect();
    net.execute_all(SOURCE, "custodian", contract::ATTESTATION, &anchors, 0)?;
    let mut ids = vec![];
    for chunk in prepared.chunks(BATCH) {
        let msg = ExecuteMsg::SubmitAttestations {
            circuit_id: prover.circuit_id().into(),
            attestations: chunk.iter().map(|p| p.submission.clone()).collect(),
        };
        ids.extend(recorded_ids(&net.execute(
            SOURCE,
            "researcher",
            contract::ATTESTATION,
            &msg,
        )?)?);
    }
    ensure!(ids.len() == burst, "{} of {burst} recorded", ids.len());
    let fees_before = open_fees(net)?;
    let channel = net.channel(SOURCE, REMOTE)?;
    let chunks: Vec<&[u64]> = ids.chunks(BATCH).collect();
    let half = chunks.len() / 2;
    let send_chunk = |chunk: &[u64]| -> Result<()> {
        let msg = ExecuteMsg::SendAttestations {
            attestation_ids: chunk.to_vec(),
            channel_id: channel.clone(),
            timeout_seconds: Some(600),
        };
        net.execute_all(
            SOURCE,
            "researcher",
            contract::ATTESTATION,
            &[msg],
            RELAYER_FEE,
        )?;
        Ok(())
    };
    // Half the packets go out, the relayer dies while it relays them, the rest go out while
    // it is dead; it comes back 5 s later.
    for chunk in &chunks[..half] {
        send_chunk(chunk)?;
    }
    std::thread::sleep(Duration::from_millis(700));
    relayer.kill()?;
    println!(
        "   bulk Hermes killed -9 with {} of {} packets sent",
        half,
        chunks.len()
    );
    for chunk in &chunks[half..] {
        send_chunk(chunk)?;
    }
    std::thread::sleep(Duration::from_secs(5));
    relayer.start()?;
    println!("   bulk Hermes restarted");
    let deadline = Instant::now() + Duration::from_secs(240);
    let records = loop {
        let have = remote_records(net, &grant.token)?;
        if ids.iter().all(|id| have.iter().any(|(r, _)| r == id)) || Instant::now() > deadline {
            break have;
        }
        std::thread::sleep(Duration::from_secs(1));
    };
    let lost = ids
        .iter()
        .filter(|id| !records.iter().any(|(r, _)| r == *id))
        .count();
    let duplicated = records.len()
        - records
            .iter()
            .map(|(r, _)| r)
            .collect::<std::collections::BTreeSet<_>>()
            .len();
    // Every packet's fee escrow is settled once its ack is back.
    let fees_open = wait_for("the fee escrows to settle", Duration::from_secs(60), || {
        let open = open_fees(net)?;
        Ok((open <= fees_before).then_some(open))
    })
    .unwrap_or(usize::MAX);
    let passed = lost == 0 && duplicated == 0 && fees_open <= fees_before;
    Ok(Outcome {
        scenario: "relayer killed mid-burst".into(),
        injected: format!("bulk Hermes kill -9 after {half} of {} batch packets ({burst} attestations), restart 5 s later", chunks.len()),
        expected: "every attestation received exactly once; every fee paid".into(),
        observed: format!("{} of {burst} received, {lost} lost, {duplicated} duplicated; open fee escrows {fees_open} (before {fees_before})", records.len() - duplicated),
        passed,
        lost,
        duplicated,
        detail: format!("consent {}", grant.token),
        seconds: 0.0,
    })
}

fn relayer_past_timeout(
    net: &Net,
    prover: &Prover,
    ev: &mut Evidence,
    relayer: &Relayer,
) -> Result<Outcome> {
    let grant = grant(net, ev)?;
    let id = crate::steps::attest::attest(net, prover, ev, &grant, 1)?;
    relayer.kill()?;
    let fees_before = open_fees(net)?;
    let timeout = 20;
    send(net, ev, id, REMOTE, timeout)?;
    ensure!(
        open_fees(net)? == fees_before + 1,
        "the send escrowed no fee"
    );
    println!("   relayer stopped; attestation {id} sent with a {timeout} s timeout");
    std::thread::sleep(Duration::from_secs(timeout + 5));
    relayer.start()?;
    let status = wait_for(
        "the timeout recorded on the source",
        Duration::from_secs(120),
        || {
            let d = deliveries(net, id)?;
            Ok(d.last()
                .filter(|d| d.status != DeliveryStatus::Pending)
                .map(|d| d.status.clone()))
        },
    )?;
    if status != DeliveryStatus::TimedOut {
        bail!("delivery of {id} after the timeout: {status:?}");
    }
    let refunded = open_fees(net)? == fees_before;
    ensure!(
        remote_records(net, &grant.token)?.is_empty(),
        "a timed-out packet was received anyway"
    );
    // A retry delivers.
    send(net, ev, id, REMOTE, 600)?;
    let delivered = wait_for("the retry delivered", Duration::from_secs(120), || {
        Ok((!remote_records(net, &grant.token)?.is_empty()).then_some(()))
    })
    .is_ok();
    let records = remote_records(net, &grant.token)?;
    Ok(Outcome {
        scenario: "relayer stopped past a timeout".into(),
        injected: format!("bulk Hermes stopped, send with a {timeout} s timeout, restart after it"),
        expected: "source records the timeout, fee escrow refunded, a retry delivers once".into(),
        observed: format!(
            "delivery {status:?}, fee escrow {}, retry {}",
            if refunded { "refunded" } else { "NOT refunded" },
            if delivered {
                "delivered"
            } else {
                "NOT delivered"
            }
        ),
        passed: refunded && delivered && records.len() == 1,
        lost: usize::from(!delivered),
        duplicated: records.len().saturating_sub(1),
        detail: format!("attestation {id}"),
        seconds: 0.0,
    })
}
