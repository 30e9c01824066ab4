//! `make bench-relay`: the attestation rail under load on the running localnet.
//!
//! Several senders on genomics-1, each with its own consent, submit N attestations in
//! batches of 30 (untimed setup: proofs, anchors, batch verification); then, timed, each
//! sender sends its batches as fast as its transactions commit, alternating trials-1 and
//! billing-1, with a relayer fee on every packet, while an urgent sender sends single
//! attestations on the urgent lane. Latency is read from the chains: the send's block time to
//! the block time of the remote record. Prints a table and writes a JSON summary.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{ensure, Context, Result};
use healthmesh_client::deployment::contract;
use healthmesh_client::TxOutcome;
use healthmesh_types::attestation::{
    Attestation, AttestationsResponse, ConfigResponse, ExecuteMsg, Origin, QueryMsg,
};
use healthmesh_types::events;
use serde::Serialize;

use crate::evidence::Evidence;
use crate::net::Net;
use crate::steps::attest::{grant_to, prepare, recorded_ids, Grant, Prepared, Prover, RELAYER_FEE};
use crate::steps::burst::{percentile, BATCH};
use crate::steps::SOURCE;

/// Where the bulk packets go, alternately.
const REMOTES: [&str; 2] = ["trials-1", "billing-1"];
/// Where the urgent attestations go.
const URGENT_REMOTE: &str = "trials-1";
/// Anchors per transaction in the setup.
const ANCHORS_PER_TX: usize = 100;

struct Settings {
    attestations: usize,
    senders: usize,
    urgent: usize,
    /// Offered load in attestations per second (0: each sender as fast as its transactions
    /// commit).
    rate: usize,
    max_seconds: u64,
    out: PathBuf,
}

impl Settings {
    fn from_env(out: &Path) -> Result<Self> {
        let var = |name: &str, default: usize| -> Result<usize> {
            match std::env::var(name) {
                Ok(v) => v
                    .parse()
                    .with_context(|| format!("{name}={v}: not a count")),
                Err(_) => Ok(default),
            }
        };
        let settings = Settings {
            attestations: var("BENCH_N", 1_000)?,
            senders: var("BENCH_SENDERS", 4)?,
            urgent: var("BENCH_URGENT", 20)?,
            rate: var("BENCH_RATE", 60)?,
            max_seconds: var("BENCH_MAX_SECONDS", 300)? as u64,
            out: out.to_path_buf(),
        };
        ensure!(
            (1..=20_000).contains(&settings.attestations),
            "BENCH_N must be 1..=20000"
        );
        ensure!(
            (1..=16).contains(&settings.senders),
            "BENCH_SENDERS must be 1..=16"
        );
        ensure!(settings.urgent >= 2, "BENCH_URGENT must be at least 2");
        Ok(settings)
    }
}

/// One sender's attestations, recorded on the source chain.
struct Sender {
    key: String,
    grant: Grant,
    ids: Vec<u64>,
}

/// An attestation sent: where to, and the send's height on the source chain.
#[derive(Clone)]
struct Sent {
    id: u64,
    to: &'static str,
    height: u64,
    urgent: bool,
}

#[derive(Serialize)]
struct Summary {
    attestations: usize,
    urgent_attestations: usize,
    senders: usize,
    offered_per_s: Option<usize>,
    attestations_per_s: f64,
    end_to_end_per_s: f64,
    bulk_p50_first_half_s: f64,
    bulk_p50_second_half_s: f64,
    bulk_p50_s: f64,
    bulk_p95_s: f64,
    bulk_max_s: f64,
    urgent_p50_s: f64,
    urgent_p95_s: f64,
    urgent_max_s: f64,
    lost: usize,
    duplicated: usize,
    gas_submit_single: u64,
    gas_submit_per_attestation_batch30: u64,
    gas_receive_per_attestation_batch30: u64,
    bulk_fees_earned: u128,
    urgent_fees_earned: u128,
    fee_denom: String,
    send_phase_s: f64,
    drain_s: f64,
    /// Share of the machine's CPU time busy during the timed phase, and each localnet
    /// process's share of it.
    cpu_busy: f64,
    cpu_by_process: BTreeMap<String, f64>,
}

pub fn run(out: &Path) -> Result<()> {
    let settings = Settings::from_env(out)?;
    let mut net = Net::load()?;
    let prover = Prover::load(&net)?;
    let mut ev = Evidence::default();
    say(&format!(
        "{} attestations from {} senders on {SOURCE} to {} and {}, {} urgent on the urgent lane to {URGENT_REMOTE}",
        settings.attestations, settings.senders, REMOTES[0], REMOTES[1], settings.urgent
    ));
    let mut keys = vec![];
    for _ in 0..settings.senders {
        keys.push(net.fresh_account(SOURCE, "bench-sender")?);
    }
    let urgent_key = net.fresh_account(SOURCE, "bench-urgent")?;
    let net = net;

    let mut jobs = vec![];
    for (key, count) in keys
        .iter()
        .zip(split(settings.attestations, settings.senders))
    {
        jobs.push(Job::new(&net, &mut ev, key, count, false)?);
    }
    jobs.push(Job::new(&net, &mut ev, &urgent_key, settings.urgent, true)?);
    prove_all(&net, &prover, &mut ev, &mut jobs)?;
    anchor_all(&net, &jobs)?;
    let (senders, submit) = submit_all(&net, &prover, jobs)?;
    let (urgent, bulk) = senders.split_last().context("no senders")?;

    // The ack names the relayer's account on the chain that received the packet.
    let relayers = REMOTES
        .iter()
        .map(|to| net.account(to, "relayer"))
        .collect::<Result<Vec<_>>>()?;
    let urgent_relayer = net.account(URGENT_REMOTE, "relayer-urgent")?;
    let before = (
        balances(&net, &relayers)?,
        net.balance(SOURCE, &urgent_relayer)?,
    );
    let urgent_fee = urgent_fee(&net)?;

    let pace = match settings.rate {
        0 => None,
        rate => Some(Duration::from_secs_f64(
            (BATCH * settings.senders) as f64 / rate as f64,
        )),
    };
    say(&match pace {
        Some(p) => format!(
            "timed: each sender sends a batch every {:.2} s ({} attestations/s offered), urgent singles mixed in",
            p.as_secs_f64(),
            settings.rate
        ),
        None => "timed: each sender sends its batches as fast as they commit, urgent singles mixed in".into(),
    });
    let cpu = cpu::Sample::take(&net.root)?;
    let clock = Instant::now();
    let commits = CommitClock::default();
    let done = AtomicBool::new(false);
    let (sent, received, send_phase) = std::thread::scope(|scope| -> Result<_> {
        let watcher = scope.spawn(|| commits.watch(&net, &done));
        let run = || -> Result<_> {
            let sent = send_all(&net, bulk, urgent, urgent_fee, pace)?;
            let send_phase = clock.elapsed().as_secs_f64();
            say(&format!(
                "{} attestations sent in {send_phase:.1} s; waiting for the remote chains",
                sent.len()
            ));
            let deadline = clock + Duration::from_secs(settings.max_seconds);
            let received = collect(&net, &senders, &sent, deadline)?;
            Ok((sent, received, send_phase))
        };
        let result = run();
        done.store(true, Ordering::Relaxed);
        watcher.join().expect("the commit watcher panicked")?;
        result
    })?;
    let drain = clock.elapsed().as_secs_f64();
    let (cpu_busy, cpu_by_process) = cpu.since()?;

    let report = Report::new(&commits, &sent, &received)?;
    let packets = bulk
        .iter()
        .map(|s| s.ids.len().div_ceil(BATCH))
        .sum::<usize>() as u128;
    let fees = wait_fees(
        &net,
        (&relayers, before.0 + packets * RELAYER_FEE),
        (
            &urgent_relayer,
            before.1 + urgent.ids.len() as u128 * urgent_fee,
        ),
    )?;
    let receive_gas = receive_gas_per_attestation(&net, bulk)?;
    let summary = Summary {
        attestations: settings.attestations,
        urgent_attestations: urgent.ids.len(),
        senders: settings.senders,
        offered_per_s: (settings.rate > 0).then_some(settings.rate),
        attestations_per_s: report.throughput,
        end_to_end_per_s: report.end_to_end,
        bulk_p50_first_half_s: report.bulk_p50_halves.0,
        bulk_p50_second_half_s: report.bulk_p50_halves.1,
        bulk_p50_s: percentile(&report.bulk, 0.5),
        bulk_p95_s: percentile(&report.bulk, 0.95),
        bulk_max_s: report.bulk.last().copied().unwrap_or(f64::NAN),
        urgent_p50_s: percentile(&report.urgent, 0.5),
        urgent_p95_s: percentile(&report.urgent, 0.95),
        urgent_max_s: report.urgent.last().copied().unwrap_or(f64::NAN),
        lost: report.lost,
        duplicated: report.duplicated,
        gas_submit_single: submit.single,
        gas_submit_per_attestation_batch30: submit.per_attestation_batch30,
        gas_receive_per_attestation_batch30: receive_gas,
        bulk_fees_earned: fees.0 - before.0,
        urgent_fees_earned: fees.1 - before.1,
        fee_denom: net.info(SOURCE)?.denom.clone(),
        send_phase_s: send_phase,
        drain_s: drain,
        cpu_busy,
        cpu_by_process,
    };
    print_table(&summary);
    if let Some(dir) = settings.out.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&settings.out, serde_json::to_string_pretty(&summary)?)
        .with_context(|| format!("writing {}", settings.out.display()))?;
    say(&format!("summary written to {}", settings.out.display()));
    ensure!(
        summary.lost == 0 && summary.duplicated == 0,
        "{} packets lost, {} delivered twice",
        summary.lost,
        summary.duplicated
    );
    Ok(())
}

fn say(what: &str) {
    println!("[bench-relay] {what}");
}

/// `total` split over `parts` as evenly as possible.
fn split(total: usize, parts: usize) -> Vec<usize> {
    (0..parts)
        .map(|i| total / parts + usize::from(i < total % parts))
        .collect()
}

/// One sender's setup: its consent, and its attestations to prove and submit.
struct Job {
    key: String,
    grant: Grant,
    count: usize,
    prepared: Vec<Prepared>,
    /// Submit the first proof alone (`submit_attestation`), to price a single submit.
    single_first: bool,
}

impl Job {
    fn new(net: &Net, ev: &mut Evidence, key: &str, count: usize, single: bool) -> Result<Self> {
        Ok(Job {
            key: key.into(),
            grant: grant_to(net, ev, key)?,
            count,
            prepared: vec![],
            single_first: single,
        })
    }
}

fn prove_all(net: &Net, prover: &Prover, ev: &mut Evidence, jobs: &mut [Job]) -> Result<()> {
    let total: usize = jobs.iter().map(|j| j.count).sum();
    let clock = Instant::now();
    let mut done = 0;
    for job in jobs.iter_mut() {
        for i in 0..job.count {
            job.prepared
                .push(prepare(net, prover, ev, &job.grant, i as u64)?);
            done += 1;
            if done % 100 == 0 || done == total {
                say(&format!(
                    "proved {done}/{total} ({:.0} ms per proof)",
                    clock.elapsed().as_secs_f64() * 1e3 / done as f64
                ));
            }
        }
    }
    Ok(())
}

/// The custodian anchors every commitment, `ANCHORS_PER_TX` per transaction.
fn anchor_all(net: &Net, jobs: &[Job]) -> Result<()> {
    let anchors: Vec<&ExecuteMsg> = jobs
        .iter()
        .flat_map(|j| j.prepared.iter().map(|p| &p.anchor))
        .collect();
    for (i, chunk) in anchors.chunks(ANCHORS_PER_TX).enumerate() {
        net.execute_all(SOURCE, "custodian", contract::ATTESTATION, chunk, 0)?;
        say(&format!(
            "anchored {}/{}",
            (i * ANCHORS_PER_TX + chunk.len()),
            anchors.len()
        ));
    }
    Ok(())
}

struct SubmitGas {
    single: u64,
    per_attestation_batch30: u64,
}

/// Each sender submits its proofs in batches of 30 (in parallel across senders); the urgent
/// sender's first proof goes alone (`submit_attestation`), to price a single submit.
fn submit_all(net: &Net, prover: &Prover, jobs: Vec<Job>) -> Result<(Vec<Sender>, SubmitGas)> {
    let batch_gas = Mutex::new((0u64, 0usize));
    let single_gas = Mutex::new(0u64);
    let senders = std::thread::scope(|scope| {
        let handles: Vec<_> = jobs
            .into_iter()
            .map(|job| {
                let Job {
                    key,
                    grant,
                    prepared,
                    single_first,
                    ..
                } = job;
                let (batch_gas, single_gas) = (&batch_gas, &single_gas);
                scope.spawn(move || -> Result<Sender> {
                    let mut ids = vec![];
                    let mut rest = &prepared[..];
                    if single_first {
                        let (first, others) = rest.split_first().context("no proofs")?;
                        let s = first.submission.clone();
                        let msg = ExecuteMsg::SubmitAttestation {
                            circuit_id: prover.circuit_id().into(),
                            attribute: s.attribute,
                            predicate: s.predicate,
                            commitment: s.commitment,
                            consent_token_id: s.consent_token_id,
                            proof: s.proof,
                            expires_at: None,
                        };
                        let tx = net.execute(SOURCE, &key, contract::ATTESTATION, &msg)?;
                        *single_gas.lock().expect("no panics hold it") = tx.gas_used;
                        ids.extend(recorded_ids(&tx)?);
                        rest = others;
                    }
                    for chunk in rest.chunks(BATCH) {
                        let msg = ExecuteMsg::SubmitAttestations {
                            circuit_id: prover.circuit_id().into(),
                            attestations: chunk.iter().map(|p| p.submission.clone()).collect(),
                        };
                        let tx = net.execute(SOURCE, &key, contract::ATTESTATION, &msg)?;
                        if chunk.len() == BATCH {
                            let mut g = batch_gas.lock().expect("no panics hold it");
                            g.0 += tx.gas_used;
                            g.1 += BATCH;
                        }
                        ids.extend(recorded_ids(&tx)?);
                    }
                    ensure!(
                        ids.len() == prepared.len(),
                        "{key}: {} of {} attestations recorded",
                        ids.len(),
                        prepared.len()
                    );
                    Ok(Sender { key, grant, ids })
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a submit thread panicked"))
            .collect::<Result<Vec<_>>>()
    })?;
    let (gas, count) = batch_gas.into_inner().expect("threads joined");
    ensure!(count > 0, "no full batch of {BATCH} was submitted");
    say(&format!(
        "{} attestations verified and recorded on {SOURCE}",
        senders.iter().map(|s| s.ids.len()).sum::<usize>()
    ));
    let gas = SubmitGas {
        single: single_gas.into_inner().expect("threads joined"),
        per_attestation_batch30: gas / count as u64,
    };
    Ok((senders, gas))
}

/// The urgent premium governance set on the source chain.
fn urgent_fee(net: &Net) -> Result<u128> {
    let config: ConfigResponse = net.query(SOURCE, contract::ATTESTATION, &QueryMsg::Config {})?;
    Ok(config
        .urgent_fee
        .context("the urgent lane is closed (no urgent fee)")?
        .amount
        .u128())
}

/// The timed phase: every bulk sender sends its batches one transaction after the other,
/// alternating the remote chains; the urgent sender sends one attestation per transaction on
/// the urgent lane until it has sent all, starting once the first bulk packets are out.
fn send_all(
    net: &Net,
    bulk: &[Sender],
    urgent: &Sender,
    urgent_fee: u128,
    pace: Option<Duration>,
) -> Result<Vec<Sent>> {
    let bulk_started = AtomicBool::new(false);
    let start = Instant::now();
    std::thread::scope(|scope| {
        let bulk_started = &bulk_started;
        let mut handles = vec![];
        for (s, sender) in bulk.iter().enumerate() {
            handles.push(scope.spawn(move || -> Result<Vec<Sent>> {
                let mut sent = vec![];
                for (i, chunk) in sender.ids.chunks(BATCH).enumerate() {
                    if let Some(pace) = pace {
                        // Senders staggered evenly within each period.
                        let due = start + pace.mul_f64(i as f64 + s as f64 / bulk.len() as f64);
                        std::thread::sleep(due.saturating_duration_since(Instant::now()));
                    }
                    let to = REMOTES[(s + i) % REMOTES.len()];
                    let msg = ExecuteMsg::SendAttestations {
                        attestation_ids: chunk.to_vec(),
                        channel_id: net.channel(SOURCE, to)?,
                        timeout_seconds: Some(600),
                    };
                    let tx = net.execute_all(
                        SOURCE,
                        &sender.key,
                        contract::ATTESTATION,
                        &[msg],
                        RELAYER_FEE,
                    )?;
                    bulk_started.store(true, Ordering::Relaxed);
                    sent.extend(chunk.iter().map(|&id| Sent {
                        id,
                        to,
                        height: tx.height,
                        urgent: false,
                    }));
                }
                Ok(sent)
            }));
        }
        handles.push(scope.spawn(move || -> Result<Vec<Sent>> {
            while !bulk_started.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(50));
            }
            let channel = net
                .deployment
                .urgent_channel(SOURCE, URGENT_REMOTE)
                .context("no urgent channel")?;
            let mut sent = vec![];
            for &id in &urgent.ids {
                let msg = ExecuteMsg::SendAttestation {
                    attestation_id: id,
                    channel_id: channel.clone(),
                    timeout_seconds: Some(600),
                };
                let tx = net.execute_all(
                    SOURCE,
                    &urgent.key,
                    contract::ATTESTATION,
                    &[msg],
                    urgent_fee,
                )?;
                sent.push(Sent {
                    id,
                    to: URGENT_REMOTE,
                    height: tx.height,
                    urgent: true,
                });
            }
            Ok(sent)
        }));
        let mut all = vec![];
        for h in handles {
            all.extend(h.join().expect("a send thread panicked")?);
        }
        Ok(all)
    })
}

/// Remote records of source attestations: (chain, source id) → heights received.
type Received = HashMap<(&'static str, u64), Vec<u64>>;

/// Polls each remote chain for the records under each sender's consent, reading only new
/// records (a stored cursor per chain and consent), until every sent attestation is there or
/// the deadline passes.
fn collect(net: &Net, senders: &[Sender], sent: &[Sent], deadline: Instant) -> Result<Received> {
    let mut received = Received::new();
    let mut cursors: HashMap<(&str, &str), u64> = HashMap::new();
    let wanted: HashSet<(&str, u64)> = sent.iter().map(|s| (s.to, s.id)).collect();
    let mut last_report = Instant::now();
    loop {
        for to in REMOTES {
            for sender in senders {
                let cursor = cursors.entry((to, &sender.grant.token)).or_default();
                for a in new_records(net, to, &sender.grant.token, cursor)? {
                    if let Origin::Remote { source_id, .. } = a.origin {
                        received.entry((to, source_id)).or_default().push(a.height);
                    }
                }
            }
        }
        let have = wanted.iter().filter(|k| received.contains_key(k)).count();
        if have == wanted.len() || Instant::now() > deadline {
            say(&format!("{have}/{} received", wanted.len()));
            return Ok(received);
        }
        if last_report.elapsed() > Duration::from_secs(5) {
            say(&format!("{have}/{} received", wanted.len()));
            last_report = Instant::now();
        }
        // Latencies come from block times, so polling more often would only load the chains.
        std::thread::sleep(Duration::from_secs(1));
    }
}

/// The records `chain` holds under `token` after `cursor` (an attestation id there), page by
/// page; advances the cursor.
fn new_records(net: &Net, chain: &str, token: &str, cursor: &mut u64) -> Result<Vec<Attestation>> {
    let mut all = vec![];
    loop {
        let q = QueryMsg::AttestationsByConsent {
            source_chain: SOURCE.into(),
            consent_id: token.into(),
            start_after: (*cursor > 0).then_some(*cursor),
            limit: Some(30),
        };
        let page: AttestationsResponse = net.query(chain, contract::ATTESTATION, &q)?;
        let Some(last) = page.attestations.last() else {
            return Ok(all);
        };
        *cursor = last.id;
        all.extend(page.attestations);
    }
}

struct Report {
    /// Seconds, sorted.
    bulk: Vec<f64>,
    urgent: Vec<f64>,
    /// Attestations per second while the pipe was full: those received after the first
    /// receive block, over the time from it to the last receive.
    throughput: f64,
    /// All attestations over first send → last receive (ramp-up and tail included).
    end_to_end: f64,
    /// Bulk p50 latency of the first and the second half of the sends: a backlog growing
    /// faster than it drains shows as a higher second half.
    bulk_p50_halves: (f64, f64),
    lost: usize,
    duplicated: usize,
}

impl Report {
    fn new(commits: &CommitClock, sent: &[Sent], received: &Received) -> Result<Self> {
        let (mut bulk, mut urgent) = (vec![], vec![]);
        let mut bulk_by_send = vec![];
        let mut receive_times = vec![];
        let mut lost = 0;
        let mut first_send = f64::MAX;
        for s in sent {
            let sent_at = commits.seen(SOURCE, s.height)?;
            first_send = first_send.min(sent_at);
            let Some(heights) = received.get(&(s.to, s.id)) else {
                lost += 1;
                continue;
            };
            let received_at = commits.seen(s.to, heights[0])?;
            receive_times.push(received_at);
            let latency = received_at - sent_at;
            if s.urgent {
                urgent.push(latency);
            } else {
                bulk.push(latency);
                bulk_by_send.push((sent_at, latency));
            }
        }
        receive_times.sort_by(f64::total_cmp);
        let (first, last) = match (receive_times.first(), receive_times.last()) {
            (Some(f), Some(l)) => (*f, *l),
            _ => anyhow::bail!("nothing was received"),
        };
        let after_first = receive_times.iter().filter(|t| **t > first).count();
        bulk_by_send.sort_by(|a, b| a.0.total_cmp(&b.0));
        let half = |part: &[(f64, f64)]| {
            let mut l: Vec<f64> = part.iter().map(|(_, l)| *l).collect();
            l.sort_by(f64::total_cmp);
            percentile(&l, 0.5)
        };
        let (early, late) = bulk_by_send.split_at(bulk_by_send.len() / 2);
        let duplicated = received.values().map(|h| h.len() - 1).sum::<usize>()
            + received
                .keys()
                .filter(|(to, id)| !sent.iter().any(|s| s.to == *to && s.id == *id))
                .count();
        bulk.sort_by(f64::total_cmp);
        urgent.sort_by(f64::total_cmp);
        let delivered = (bulk.len() + urgent.len()) as f64;
        Ok(Report {
            throughput: after_first as f64 / (last - first).max(f64::EPSILON),
            end_to_end: delivered / (last - first_send),
            bulk_p50_halves: (half(early), half(late)),
            bulk,
            urgent,
            lost,
            duplicated,
        })
    }
}

/// When each block became committed and queryable, by this machine's clock: a watcher polls
/// every chain's latest height every `WATCH_INTERVAL` and stamps each new height (and any it
/// skipped) with the time it first saw it. Block header times would not do: a header carries
/// the time its block was proposed, before the block executed (up to a second under load).
#[derive(Default)]
struct CommitClock {
    seen: Mutex<HashMap<(String, u64), f64>>,
    origin: std::sync::OnceLock<Instant>,
}

const WATCH_INTERVAL: Duration = Duration::from_millis(100);

impl CommitClock {
    fn watch(&self, net: &Net, done: &AtomicBool) -> Result<()> {
        let origin = *self.origin.get_or_init(Instant::now);
        let mut watches = vec![];
        for chain in [SOURCE, REMOTES[0], REMOTES[1]] {
            watches.push((chain, net.height_watch(chain)?));
        }
        let mut last: HashMap<&str, u64> = HashMap::new();
        for (chain, height) in &mut watches {
            last.insert(chain, height()?);
        }
        while !done.load(Ordering::Relaxed) {
            for (chain, height) in &mut watches {
                let chain = *chain;
                let height = height()?;
                let now = origin.elapsed().as_secs_f64();
                let previous = last.insert(chain, height).unwrap_or(height);
                let mut seen = self.seen.lock().expect("no panics hold it");
                for h in previous + 1..=height {
                    seen.insert((chain.to_string(), h), now);
                }
            }
            std::thread::sleep(WATCH_INTERVAL);
        }
        Ok(())
    }

    /// Seconds from the watcher's start to the commit of `height` on `chain`.
    fn seen(&self, chain: &str, height: u64) -> Result<f64> {
        self.seen
            .lock()
            .expect("no panics hold it")
            .get(&(chain.to_string(), height))
            .copied()
            .with_context(|| format!("{chain}: block {height} was not seen committed"))
    }
}

/// Waits (up to a minute) until both relayer keys hold what their fees should bring them;
/// returns their balances.
fn wait_fees(net: &Net, bulk: (&[String], u128), urgent: (&str, u128)) -> Result<(u128, u128)> {
    let clock = Instant::now();
    loop {
        let now = (balances(net, bulk.0)?, net.balance(SOURCE, urgent.0)?);
        if (now.0 >= bulk.1 && now.1 >= urgent.1) || clock.elapsed() > Duration::from_secs(60) {
            return Ok(now);
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// The summed balances of `addresses` on the source chain.
fn balances(net: &Net, addresses: &[String]) -> Result<u128> {
    addresses.iter().map(|a| net.balance(SOURCE, a)).sum()
}

/// Gas of the relayer's receive transactions (client update and up to three batch packets
/// each) per attestation received, over the bulk senders' consents on both remote chains.
fn receive_gas_per_attestation(net: &Net, bulk: &[Sender]) -> Result<u64> {
    let key = format!(
        "{}.{}",
        events::tx::ATTESTATION_RECEIVED,
        events::attr::CONSENT_ID
    );
    let mut txs: BTreeMap<String, TxOutcome> = BTreeMap::new();
    for to in REMOTES {
        for sender in bulk {
            for tx in net.search_txs(to, &key, &sender.grant.token)? {
                txs.insert(format!("{to}/{}", tx.hash), tx);
            }
        }
    }
    let gas: u64 = txs.values().map(|tx| tx.gas_used).sum();
    let attestations = txs
        .values()
        .flat_map(|tx| &tx.events)
        .filter(|e| e.kind == events::tx::ATTESTATION_RECEIVED)
        .count();
    ensure!(attestations > 0, "no receive transaction found");
    Ok(gas / attestations as u64)
}

fn print_table(s: &Summary) {
    let target = |ok: bool| if ok { "met" } else { "MISSED" };
    println!("\n| relay benchmark | measured | target |\n|---|---|---|");
    println!(
        "| attestations (bulk + urgent), senders | {} + {}, {} | 1,000 |",
        s.attestations, s.urgent_attestations, s.senders
    );
    let offered = s
        .offered_per_s
        .map_or("as fast as sends commit".into(), |r| format!("{r} att/s"));
    println!("| offered load | {offered} | |");
    println!(
        "| sustained throughput: received per second, first → last receive | {:.1} att/s | ≥ 50 ({}) |",
        s.attestations_per_s,
        target(s.attestations_per_s >= 50.0)
    );
    println!(
        "| end to end: all attestations over first send → last receive | {:.1} att/s | |",
        s.end_to_end_per_s
    );
    println!(
        "| bulk p50, first / second half of the sends (a growing backlog shows here) | {:.1} / {:.1} s | |",
        s.bulk_p50_first_half_s, s.bulk_p50_second_half_s
    );
    println!(
        "| bulk latency p50 / p95 / max | {:.1} / {:.1} / {:.1} s | ≤ 3 / ≤ 6 ({}) |",
        s.bulk_p50_s,
        s.bulk_p95_s,
        s.bulk_max_s,
        target(s.bulk_p50_s <= 3.0 && s.bulk_p95_s <= 6.0)
    );
    println!(
        "| urgent latency p50 / p95 / max | {:.1} / {:.1} / {:.1} s | p95 ≤ 2 ({}) |",
        s.urgent_p50_s,
        s.urgent_p95_s,
        s.urgent_max_s,
        target(s.urgent_p95_s <= 2.0)
    );
    println!(
        "| lost / delivered twice | {} / {} | 0 / 0 ({}) |",
        s.lost,
        s.duplicated,
        target(s.lost == 0 && s.duplicated == 0)
    );
    println!(
        "| gas: single submit | {} | ≤ 300k ({}) |",
        s.gas_submit_single,
        target(s.gas_submit_single <= 300_000)
    );
    println!(
        "| gas per attestation, batch of 30: submit / receive | {} / {} | ≤ 100k ({}) |",
        s.gas_submit_per_attestation_batch30,
        s.gas_receive_per_attestation_batch30,
        target(
            s.gas_submit_per_attestation_batch30 <= 100_000
                && s.gas_receive_per_attestation_batch30 <= 100_000
        )
    );
    println!(
        "| relayer fees earned: bulk key / urgent key | {} / {} {} | |",
        s.bulk_fees_earned, s.urgent_fees_earned, s.fee_denom
    );
    println!(
        "| send phase / first send → all received (wall clock) | {:.1} / {:.1} s | |",
        s.send_phase_s, s.drain_s
    );
    let by_process = s
        .cpu_by_process
        .iter()
        .map(|(p, share)| format!("{p} {:.0} %", share * 100.0))
        .collect::<Vec<_>>()
        .join(", ");
    println!(
        "| machine CPU busy during the timed phase (2 cores = 100 %) | {:.0} %: {by_process} | |",
        s.cpu_busy * 100.0
    );
}

/// CPU accounting from /proc: the machine's busy share and each localnet process's share
/// (chains' nodes, both Hermes, this benchmark) over the timed phase.
mod cpu {
    use std::collections::BTreeMap;
    use std::path::Path;

    use anyhow::{Context, Result};

    pub struct Sample {
        total: u64,
        idle: u64,
        processes: Vec<(String, u32, u64)>,
    }

    impl Sample {
        pub fn take(root: &Path) -> Result<Self> {
            let stat = std::fs::read_to_string("/proc/stat")?;
            let cpu: Vec<u64> = stat
                .lines()
                .next()
                .context("empty /proc/stat")?
                .split_whitespace()
                .skip(1)
                .filter_map(|v| v.parse().ok())
                .collect();
            let mut processes = vec![("bench-relay".to_string(), std::process::id())];
            for chain in ["genomics-1", "trials-1", "billing-1"] {
                processes.extend(pid(
                    &root.join(".localnet").join(chain).join("node.pid"),
                    chain,
                ));
            }
            for (name, file) in [
                ("hermes bulk", "hermes.pid"),
                ("hermes urgent", "urgent.pid"),
            ] {
                processes.extend(pid(&root.join(".localnet/hermes").join(file), name));
            }
            Ok(Sample {
                total: cpu.iter().sum(),
                idle: cpu.get(3).copied().unwrap_or(0) + cpu.get(4).copied().unwrap_or(0),
                processes: processes
                    .into_iter()
                    .filter_map(|(name, pid)| Some((name, pid, ticks(pid)?)))
                    .collect(),
            })
        }

        /// (busy share of all cores, each process's share of all cores) since this sample.
        pub fn since(&self) -> Result<(f64, BTreeMap<String, f64>)> {
            let now = Sample::take(Path::new("/nonexistent"))?;
            let total = (now.total - self.total).max(1) as f64;
            let busy = 1.0 - (now.idle - self.idle) as f64 / total;
            let shares = self
                .processes
                .iter()
                .filter_map(|(name, pid, before)| {
                    Some((name.clone(), (ticks(*pid)? - before) as f64 / total))
                })
                .collect();
            Ok((busy, shares))
        }
    }

    fn pid(file: &Path, name: &str) -> Option<(String, u32)> {
        let pid = std::fs::read_to_string(file).ok()?.trim().parse().ok()?;
        Some((name.to_string(), pid))
    }

    /// User + system clock ticks of a process (fields 14 and 15 of /proc/PID/stat).
    fn ticks(pid: u32) -> Option<u64> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        let after_name = &stat[stat.rfind(')')? + 2..];
        let fields: Vec<&str> = after_name.split_whitespace().collect();
        Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
    }
}

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn a_count_splits_evenly_and_completely() {
        assert_eq!(split(1_000, 4), vec![250; 4]);
        assert_eq!(split(10, 4), vec![3, 3, 2, 2]);
        assert_eq!(split(3, 4).iter().sum::<usize>(), 3);
    }
}
