//! `make chaos`: faults injected into the running localnet, bounded in count and time. Each
//! scenario says what it injects, what it expects and what it observed; the run prints a
//! table and writes it as JSON (a list of `{scenario, passed, lost, duplicated, detail}`).
//!
//! Scenarios:
//! - **relayer killed mid-burst**: `CHAOS_BURST` (default 200) attestations sent in batch
//!   packets to trials-1, the bulk Hermes killed -9 right after the sends and restarted a few
//!   seconds later by `make localnet` (which first relays what was sent while it was down:
//!   Hermes 1.10.5 spawns no packet worker at startup for those channels); every attestation
//!   must arrive exactly once (source sends against remote records), and every packet's fee be
//!   paid or refunded.
//! - **relayer stopped past a timeout**: the bulk Hermes stopped, an attestation sent with a
//!   short timeout, Hermes restarted after it: the source records the timeout and refunds the
//!   relayer fee escrow, and a second send delivers.
//! - **chain node killed mid-burst**: a trials-1 node killed -9 while batch packets are on
//!   their way (with `VALIDATORS=4`, one of its four validators: blocks must go on), restarted
//!   by `make localnet`: every attestation once, the records settled before unchanged.
//! - **gateway killed -9 while indexing** and **a burst of grants and attestations** with the
//!   gateway indexing: see [`gateway`].
//! - with `VALIDATORS=4`, **two of four validators killed**: the chain halts, and resumes
//!   with its state intact once `make localnet` restarts them.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use healthmesh_client::deployment::contract;
use healthmesh_types::attestation::{DeliveryStatus, ExecuteMsg, QueryMsg, RelayerFeesResponse};
use serde::Serialize;

mod gateway;

use crate::evidence::Evidence;
use crate::net::{wait_for, Net};
use crate::steps::attest::{
    deliveries, grant, prepare, recorded_ids, remote_records, send, send_batch, Prover,
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
    let count = |name: &str, default: usize| -> usize {
        std::env::var(name)
            .ok()
            .and_then(|b| b.parse().ok())
            .unwrap_or(default)
    };
    let burst = count("CHAOS_BURST", 200);
    let load = count("CHAOS_LOAD", 1_000).max(1);
    let mut net = Net::load()?;
    let load_researcher = net.fresh_account(SOURCE, "chaos-researcher")?;
    let net = net;
    let prover = Prover::load(&net)?;
    let mut ev = Evidence::default();
    let relayer = Relayer::bulk(&net)?;
    let mut gateway = gateway::GatewayProcess::fresh(&net, "restarted", 9392, 9465)?;
    let mut outcomes = vec![];
    let mut attempt = |name: &str, scenario: &mut dyn FnMut() -> Result<Outcome>| -> Result<()> {
        println!("== chaos: {name}");
        let started = Instant::now();
        let outcome = scenario().unwrap_or_else(|e| Outcome {
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
        relayer.ensure_running(&net)?;
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
        Ok(())
    };
    attempt("relayer killed mid-burst", &mut || {
        relayer_killed(&net, &prover, &mut ev, &relayer, burst)
    })?;
    attempt("relayer stopped past a timeout", &mut || {
        relayer_past_timeout(&net, &prover, &mut ev, &relayer)
    })?;
    attempt("chain node killed mid-burst", &mut || {
        node_killed(&net, &prover, &mut ev, 60)
    })?;
    attempt("gateway killed -9 while indexing", &mut || {
        gateway::gateway_killed(&net, &mut gateway)
    })?;
    attempt(
        &format!("burst of {load} grants and {load} attestations"),
        &mut || gateway::burst(&net, &prover, &mut ev, &mut gateway, &load_researcher, load),
    )?;
    if validator_pidfiles(&net, REMOTE).len() >= 4 {
        attempt("two of four validators killed", &mut || {
            two_validators_killed(&net)
        })?;
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
        Ok(Relayer { pidfile })
    }

    fn pid(&self) -> Option<u32> {
        let pid = read_pid(&self.pidfile)?;
        Path::new(&format!("/proc/{pid}")).exists().then_some(pid)
    }

    /// SIGKILL to Hermes' process group (it was started as a group leader).
    fn kill(&self) -> Result<()> {
        let pid = self.pid().context("the bulk relayer is not running")?;
        kill_group(pid)?;
        wait_for("the relayer to die", Duration::from_secs(10), || {
            Ok(self.pid().is_none().then_some(()))
        })?;
        Ok(())
    }

    /// Restart it the operator's way: `make localnet`, which relays what was sent while it
    /// was down (`hermes clear packets`) before starting it.
    fn restart(&self, net: &Net) -> Result<()> {
        restart_localnet(net)?;
        ensure!(
            self.pid().is_some(),
            "make localnet did not restart the relayer"
        );
        Ok(())
    }

    fn ensure_running(&self, net: &Net) -> Result<()> {
        if self.pid().is_none() {
            self.restart(net)?;
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
    println!("   proving {burst} attestations");
    let (grant, ids) = recorded_burst(net, prover, ev, burst)?;
    let fees_before = open_fees(net)?;
    let chunks: Vec<&[u64]> = ids.chunks(BATCH).collect();
    let half = chunks.len() / 2;
    // Half the packets go out, the relayer dies while it relays them, the rest go out while
    // it is dead; it comes back 5 s later.
    for chunk in &chunks[..half] {
        send_batch(net, ev, chunk)?;
    }
    std::thread::sleep(Duration::from_millis(700));
    relayer.kill()?;
    println!(
        "   bulk Hermes killed -9 with {} of {} packets sent",
        half,
        chunks.len()
    );
    for chunk in &chunks[half..] {
        send_batch(net, ev, chunk)?;
    }
    std::thread::sleep(Duration::from_secs(5));
    relayer.restart(net)?;
    println!("   bulk Hermes restarted by make localnet");
    let Delivered {
        records,
        lost,
        duplicated,
    } = delivered(net, &grant.token, &ids)?;
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
    relayer.restart(net)?;
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

/// The pid files of `chain`'s validators that exist (validator 0 in the chain's home,
/// validators 1.. in `<chain>-val<i>/`, as `make localnet VALIDATORS=N` lays them out).
fn validator_pidfiles(net: &Net, chain: &str) -> Vec<PathBuf> {
    let home = net.root.join(".localnet");
    let mut all = vec![home.join(chain).join("node.pid")];
    all.extend(
        (1..8)
            .map(|i| home.join(format!("{chain}-val{i}")).join("node.pid"))
            .filter(|p| p.exists()),
    );
    all
}

/// SIGKILL to the process group of the daemon a pid file names, once it is gone.
fn kill_pidfile(pidfile: &Path) -> Result<()> {
    let pid = read_pid(pidfile).with_context(|| format!("no pid in {}", pidfile.display()))?;
    kill_group(pid)?;
    wait_for("the node to die", Duration::from_secs(10), || {
        Ok((!running(pid)).then_some(()))
    })
}

/// SIGKILL to the process group led by `pid` (every daemon of the localnet leads its own).
fn kill_group(pid: u32) -> Result<()> {
    let status = Command::new("kill")
        .args(["-s", "KILL", "--", &format!("-{pid}")])
        .status()?;
    ensure!(status.success(), "kill -s KILL -- -{pid} failed");
    Ok(())
}

/// The pid a daemon's pid file names.
fn read_pid(pidfile: &Path) -> Option<u32> {
    std::fs::read_to_string(pidfile).ok()?.trim().parse().ok()
}

/// Whether `pid` runs (a zombie, killed but not yet reaped by its parent, does not).
fn running(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            let state = stat.rsplit_once(") ")?.1.chars().next()?;
            Some(state != 'Z' && state != 'X')
        })
        .unwrap_or(false)
}

/// `make localnet` again: it restarts whatever node or relayer is down, and changes nothing
/// else (every step is idempotent).
fn restart_localnet(net: &Net) -> Result<()> {
    let out = Command::new("make")
        .arg("-C")
        .arg(&net.root)
        .arg("localnet")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()?;
    ensure!(
        out.status.success(),
        "make localnet failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(())
}

/// Heights of `chain` sampled `seconds` apart: did it make blocks in between?
fn advances(net: &Net, chain: &str, seconds: u64) -> Result<bool> {
    let mut height = net.height_watch(chain)?;
    let before = height()?;
    std::thread::sleep(Duration::from_secs(seconds));
    Ok(height()? > before)
}

/// A node of trials-1 killed -9 while a burst of attestations is relayed to it, then
/// restarted: with one validator the chain stops until the node returns; with four, one
/// validator (not the one serving RPC) is killed and blocks go on. Every attestation arrives
/// exactly once, and what was received before the kill is unchanged after.
fn node_killed(net: &Net, prover: &Prover, ev: &mut Evidence, burst: usize) -> Result<Outcome> {
    let pidfiles = validator_pidfiles(net, REMOTE);
    let validators = pidfiles.len();
    let victim = pidfiles.last().context("no trials-1 node")?.clone();
    let (grant, ids) = recorded_burst(net, prover, ev, burst)?;
    let chunks: Vec<&[u64]> = ids.chunks(BATCH).collect();
    send_batch(net, ev, chunks[0])?;
    // The first packet lands; the settled state before the fault.
    let first: Vec<u64> = chunks[0].to_vec();
    let settled = wait_for("the first packet received", Duration::from_secs(60), || {
        let have = remote_records(net, &grant.token)?;
        Ok(first
            .iter()
            .all(|id| have.iter().any(|(r, _)| r == id))
            .then_some(have))
    })?;
    kill_pidfile(&victim)?;
    println!(
        "   trials-1 node killed -9 ({} of {validators} validators)",
        1
    );
    for chunk in &chunks[1..] {
        send_batch(net, ev, chunk)?;
    }
    let kept_going = advances(net, REMOTE, 5).unwrap_or(false);
    restart_localnet(net)?;
    let restarted = read_pid(&victim).is_some_and(running);
    println!("   make localnet restarted it: {restarted}");
    let Delivered {
        records,
        lost,
        duplicated,
    } = delivered(net, &grant.token, &ids)?;
    let unchanged = settled.iter().all(|s| records.contains(s));
    // With 4 validators one down must not stop the chain; with one it must.
    let bft_as_expected = if validators >= 4 {
        kept_going
    } else {
        !kept_going
    };
    Ok(Outcome {
        scenario: "chain node killed mid-burst".into(),
        injected: format!("kill -9 of one of trials-1's {validators} validator(s) after the first of {} packets, restart by make localnet", chunks.len()),
        expected: if validators >= 4 {
            "blocks go on with 3 of 4; every attestation once; settled records unchanged".into()
        } else {
            "the chain stops until the node returns; every attestation once; settled records unchanged".into()
        },
        observed: format!(
            "blocks while down: {kept_going}; node restarted: {restarted}; {} of {burst} received, {lost} lost, {duplicated} duplicated; settled records {}",
            burst - lost,
            if unchanged { "unchanged" } else { "CHANGED" }
        ),
        passed: lost == 0 && duplicated == 0 && unchanged && bft_as_expected && restarted,
        lost,
        duplicated,
        detail: format!("consent {}", grant.token),
        seconds: 0.0,
    })
}

/// With 4 validators: two of trials-1's killed halt it (half the power is not more than
/// 2/3); restarted, it resumes with its state intact.
fn two_validators_killed(net: &Net) -> Result<Outcome> {
    let pidfiles = validator_pidfiles(net, REMOTE);
    ensure!(pidfiles.len() >= 4, "needs make localnet VALIDATORS=4");
    let q = QueryMsg::Config {};
    let before: serde_json::Value = net.query(REMOTE, contract::ATTESTATION, &q)?;
    let mut height = net.height_watch(REMOTE)?;
    let at_kill = height()?;
    for pidfile in &pidfiles[pidfiles.len() - 2..] {
        kill_pidfile(pidfile)?;
    }
    std::thread::sleep(Duration::from_secs(3));
    let stalled_at = height()?;
    let halted = !advances(net, REMOTE, 6)?;
    restart_localnet(net)?;
    // Rounds escalated while it was halted: the first block after may take some seconds.
    let resumed = wait_for(
        "trials-1 to make blocks again",
        Duration::from_secs(90),
        || Ok((height().unwrap_or(0) > stalled_at + 2).then_some(())),
    )
    .is_ok();
    let after: serde_json::Value = net.query(REMOTE, contract::ATTESTATION, &q)?;
    let intact = before == after;
    Ok(Outcome {
        scenario: "two of four validators killed".into(),
        injected: "kill -9 of 2 of trials-1's 4 validators, restart by make localnet".into(),
        expected: "the chain halts, resumes when they return, state intact".into(),
        observed: format!(
            "height {at_kill} → {stalled_at}, halted: {halted}, resumed: {resumed}, state {}",
            if intact { "intact" } else { "CHANGED" }
        ),
        passed: halted && resumed && intact,
        lost: 0,
        duplicated: 0,
        detail: String::new(),
        seconds: 0.0,
    })
}

/// `n` fresh attestations under a new grant: anchored, proven and submitted in batches.
fn recorded_burst(
    net: &Net,
    prover: &Prover,
    ev: &mut Evidence,
    n: usize,
) -> Result<(crate::steps::attest::Grant, Vec<u64>)> {
    let grant = grant(net, ev)?;
    let prepared = (1..=n as u64)
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
        let tx = net.execute(SOURCE, "researcher", contract::ATTESTATION, &msg)?;
        ids.extend(recorded_ids(&tx)?);
    }
    ensure!(ids.len() == n, "{} of {n} attestations recorded", ids.len());
    Ok((grant, ids))
}

/// What trials-1 holds of a burst: its records under the grant (source id, height), how many
/// of the burst are missing, and how many records are duplicates.
struct Delivered {
    records: Vec<(u64, u64)>,
    lost: usize,
    duplicated: usize,
}

/// Waits (up to 240 s) for every one of `ids` on trials-1, under the grant's `token`.
fn delivered(net: &Net, token: &str, ids: &[u64]) -> Result<Delivered> {
    let deadline = Instant::now() + Duration::from_secs(240);
    let records = loop {
        let have = remote_records(net, token)?;
        if ids.iter().all(|id| have.iter().any(|(r, _)| r == id)) || Instant::now() > deadline {
            break have;
        }
        std::thread::sleep(Duration::from_secs(1));
    };
    let lost = ids
        .iter()
        .filter(|id| !records.iter().any(|(r, _)| r == *id))
        .count();
    let distinct: std::collections::BTreeSet<_> = records.iter().map(|(r, _)| r).collect();
    let duplicated = records.len() - distinct.len();
    Ok(Delivered {
        records,
        lost,
        duplicated,
    })
}
