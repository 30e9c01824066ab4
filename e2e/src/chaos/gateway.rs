//! The research gateway under faults and load:
//! - **killed -9 while indexing**: a gateway catching up from height 1 is killed mid-way and
//!   restarted on its database; once it has caught up, its index must equal one rebuilt from
//!   scratch by a second gateway (every row, compared from both databases).
//! - **a burst of grants and attestations**: `CHAOS_LOAD` (default 1,000) consents granted and
//!   as many attestations proven under them, recorded on genomics-1 and sent to trials-1, while
//!   the gateway indexes (and is killed -9 once more in the middle); nothing may be lost, and
//!   the gateway's counts must equal the chains' state.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use anyhow::{ensure, Context, Result};
use cosmwasm_std::HexBinary;
use healthmesh_client::deployment::contract;
use healthmesh_types::attestation::{AttestationsResponse, ExecuteMsg, Origin, QueryMsg};
use healthmesh_types::consent::{ExecuteMsg as ConsentMsg, QueryMsg as ConsentQuery};
use healthmesh_types::events;
use hmesh_gateway::store::{Snapshot, Store};

use super::Outcome;
use crate::evidence::Evidence;
use crate::net::{wait_for, Net};
use crate::steps::attest::{
    designate_custodian, prepare, recorded_ids, Grant, Prover, RELAYER_FEE,
};
use crate::steps::burst::BATCH;
use crate::steps::research::spawn_gateway;
use crate::steps::{PURPOSE, REMOTE, SOURCE};

/// Consents granted per transaction, and anchors per transaction, in the burst.
const GRANTS_PER_TX: usize = 100;
const ANCHORS_PER_TX: usize = 100;
/// Batch submits (of [`BATCH`] proofs) and batch sends per transaction.
const SUBMITS_PER_TX: usize = 3;
const SENDS_PER_TX: usize = 4;

/// One `hmesh-gateway` process of the chaos run, on its own database and ports.
pub struct GatewayProcess {
    root: PathBuf,
    db: PathBuf,
    listen: String,
    metrics_port: u16,
    child: Option<Child>,
}

impl GatewayProcess {
    /// A gateway named `name` with an empty database (under the system's temp dir).
    pub fn fresh(net: &Net, name: &str, grpc_port: u16, metrics_port: u16) -> Result<Self> {
        let dir = std::env::temp_dir()
            .join(format!("hmesh-chaos-gateway-{}", std::process::id()))
            .join(name);
        if dir.exists() {
            std::fs::remove_dir_all(&dir)?;
        }
        std::fs::create_dir_all(&dir)?;
        Ok(GatewayProcess {
            root: net.root.clone(),
            db: dir.join("index.redb"),
            listen: format!("127.0.0.1:{grpc_port}"),
            metrics_port,
            child: None,
        })
    }

    pub fn start(&mut self) -> Result<()> {
        ensure!(self.child.is_none(), "the gateway already runs");
        let metrics = format!("127.0.0.1:{}", self.metrics_port);
        self.child = Some(spawn_gateway(&self.root, &self.db, &self.listen, &metrics)?);
        Ok(())
    }

    /// SIGKILL: no shutdown, whatever the writer was doing.
    pub fn kill9(&mut self) -> Result<()> {
        let mut child = self.child.take().context("the gateway is not running")?;
        child.kill()?;
        child.wait()?;
        Ok(())
    }

    /// SIGTERM, as an operator stops it.
    pub fn stop(&mut self) -> Result<()> {
        let mut child = self.child.take().context("the gateway is not running")?;
        Command::new("kill").arg(child.id().to_string()).status()?;
        child.wait()?;
        Ok(())
    }

    /// The height committed to the index per chain, from the gateway's Prometheus metrics
    /// (empty until the first commit).
    pub fn indexed(&self) -> Result<BTreeMap<String, u64>> {
        let body = healthmesh_client::telemetry::http_get(self.metrics_port, "/metrics")?;
        let prefix = format!("{}{{chain=\"", hmesh_gateway::metrics::INDEX_HEIGHT);
        Ok(body
            .lines()
            .filter_map(|line| {
                let (chain, value) = line.strip_prefix(&prefix)?.split_once("\"} ")?;
                Some((chain.to_string(), value.trim().parse::<f64>().ok()? as u64))
            })
            .collect())
    }

    /// Waits until every chain is indexed up to `targets`; returns the indexed heights.
    pub fn wait_indexed(&self, targets: &BTreeMap<String, u64>) -> Result<BTreeMap<String, u64>> {
        wait_for("the gateway to catch up", Duration::from_secs(300), || {
            let indexed = self.indexed().unwrap_or_default();
            Ok(targets
                .iter()
                .all(|(chain, h)| indexed.get(chain).is_some_and(|i| i >= h))
                .then_some(indexed))
        })
    }

    /// Stopped, whatever state an earlier scenario left it in.
    pub fn ensure_stopped(&mut self) -> Result<()> {
        if self.child.is_some() {
            self.stop()?;
        }
        Ok(())
    }

    /// The rows of its database; the gateway must be stopped (redb locks the file).
    pub fn snapshot(&self) -> Result<Snapshot> {
        ensure!(
            self.child.is_none(),
            "stop the gateway before reading its index"
        );
        Ok(Store::open(&self.db)?.snapshot()?)
    }
}

impl Drop for GatewayProcess {
    fn drop(&mut self) {
        let _ = self.ensure_stopped();
        if let Some(dir) = self.db.parent() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// Every chain's latest height.
fn chain_heights(net: &Net) -> Result<BTreeMap<String, u64>> {
    net.deployment
        .chains
        .keys()
        .map(|chain| Ok((chain.clone(), net.height_watch(chain)?()?)))
        .collect()
}

fn total(heights: &BTreeMap<String, u64>) -> u64 {
    heights.values().sum()
}

/// The lower of two indexes' heights, per chain.
fn lower(a: &BTreeMap<String, u64>, b: &BTreeMap<String, u64>) -> BTreeMap<String, u64> {
    a.iter()
        .map(|(chain, h)| (chain.clone(), (*h).min(b.get(chain).copied().unwrap_or(0))))
        .collect()
}

/// Rows of `rebuilt` that `restarted` lacks or holds differently: (table, count, first).
fn differences(restarted: &Snapshot, rebuilt: &Snapshot) -> Vec<(String, usize, String)> {
    fn diff<T: PartialEq + std::fmt::Debug>(
        name: &str,
        a: &[T],
        b: &[T],
    ) -> Option<(String, usize, String)> {
        let missing: Vec<&T> = b.iter().filter(|row| !a.contains(row)).collect();
        let extra = a.iter().filter(|row| !b.contains(row)).count();
        (!missing.is_empty() || extra > 0).then(|| {
            (
                name.to_string(),
                missing.len().max(extra),
                missing
                    .first()
                    .map(|r| format!("{r:?}"))
                    .unwrap_or_default(),
            )
        })
    }
    [
        diff("consents", &restarted.consents, &rebuilt.consents),
        diff(
            "attestations",
            &restarted.attestations,
            &rebuilt.attestations,
        ),
        diff("staking events", &restarted.staking, &rebuilt.staking),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// A gateway indexing from height 1, killed -9 once it has indexed half the chains'
/// blocks, restarted on its database (it must resume where it stopped), against a second
/// gateway rebuilding the index from scratch. Leaves the first one's database for the burst.
pub fn gateway_killed(net: &Net, restarted: &mut GatewayProcess) -> Result<Outcome> {
    let targets = chain_heights(net)?;
    restarted.start()?;
    let half = total(&targets) / 2;
    wait_for("half the blocks indexed", Duration::from_secs(300), || {
        Ok((total(&restarted.indexed().unwrap_or_default()) >= half).then_some(()))
    })?;
    restarted.kill9()?;
    // What the crash left in the database.
    let at_crash = restarted.snapshot()?;
    let part_way = total(&at_crash.heights) < total(&targets) * 9 / 10
        && at_crash.heights.len() == targets.len();
    println!(
        "   gateway killed -9 at {} of {} blocks indexed ({} consents, {} attestations committed)",
        total(&at_crash.heights),
        total(&targets),
        at_crash.consents.len(),
        at_crash.attestations.len()
    );
    restarted.start()?;
    // Its first commits after the restart must continue from the crash, not from height 1.
    let first = wait_for(
        "the first commits after the restart",
        Duration::from_secs(60),
        || {
            let indexed = restarted.indexed().unwrap_or_default();
            Ok((indexed.len() == targets.len()).then_some(indexed))
        },
    )?;
    let resumed = first
        .iter()
        .all(|(chain, h)| *h >= at_crash.heights.get(chain).copied().unwrap_or(0));
    let t = Instant::now();
    restarted.wait_indexed(&chain_heights(net)?)?;
    let catch_up = t.elapsed().as_secs_f64();
    restarted.stop()?;
    let after_restart = restarted.snapshot()?;

    let mut rebuilt = GatewayProcess::fresh(net, "rebuilt", 9393, 9466)?;
    rebuilt.start()?;
    rebuilt.wait_indexed(&after_restart.heights)?;
    rebuilt.stop()?;
    let from_scratch = rebuilt.snapshot()?;
    // Compared at the heights both reached.
    let common = lower(&after_restart.heights, &from_scratch.heights);
    let after_restart = after_restart.up_to(&common);
    let from_scratch = from_scratch.up_to(&common);
    let equal = after_restart.same_rows(&from_scratch);
    let diffs = if equal {
        vec![]
    } else {
        differences(&after_restart, &from_scratch)
    };
    let lost = diffs.iter().map(|d| d.1).sum();
    let non_empty = !from_scratch.consents.is_empty() && !from_scratch.attestations.is_empty();
    Ok(Outcome {
        scenario: "gateway killed -9 while indexing".into(),
        injected: format!(
            "hmesh-gateway kill -9 at {} of {} blocks indexed (3 chains from height 1), restarted on its database",
            total(&at_crash.heights),
            total(&targets)
        ),
        expected: "it resumes from its last commit; its index equals one rebuilt from scratch, row for row".into(),
        observed: if equal {
            format!(
                "resumed at {} blocks (crash at {}); equal at {} blocks: {} consents, {} attestations, {} staking events; caught up {catch_up:.1} s after the restart",
                total(&first),
                total(&at_crash.heights),
                total(&common),
                from_scratch.consents.len(),
                from_scratch.attestations.len(),
                from_scratch.staking.len()
            )
        } else {
            format!(
                "DIFFERENT: {}",
                diffs
                    .iter()
                    .map(|(table, n, _)| format!("{n} {table}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        },
        passed: equal && part_way && resumed && non_empty,
        lost,
        duplicated: 0,
        detail: match diffs.first() {
            Some(d) => format!("first difference: {}", d.2),
            None if !part_way => {
                format!("not killed part-way: {:?} of {targets:?}", at_crash.heights)
            }
            None if !resumed => format!(
                "re-indexed instead of resuming: first commits {first:?}, crash at {:?}",
                at_crash.heights
            ),
            None if !non_empty => {
                "the indexes hold no consent or no attestation: nothing was compared".into()
            }
            None => format!("heights at the crash {:?}", at_crash.heights),
        },
        seconds: 0.0,
    })
}

/// cw721's `tokens` answer.
#[derive(serde::Deserialize)]
struct Tokens {
    tokens: Vec<String>,
}

/// The consents the grantee holds on genomics-1 (cw721 `tokens` by owner), page by page.
fn tokens_of(net: &Net, owner: &str) -> Result<Vec<String>> {
    let mut all: Vec<String> = vec![];
    loop {
        let q = ConsentQuery::Tokens {
            owner: owner.into(),
            start_after: all.last().cloned(),
            limit: Some(100),
        };
        let page: Tokens = net.query(SOURCE, contract::CONSENT, &q)?;
        if page.tokens.is_empty() {
            return Ok(all);
        }
        all.extend(page.tokens);
    }
}

/// The attestations `chain` holds for `grantee`, as source ids (the id itself on the source).
fn attested_for(net: &Net, chain: &str, grantee: &str) -> Result<Vec<u64>> {
    let mut source_ids = vec![];
    let mut start_after = None;
    loop {
        let q = QueryMsg::AttestationsByGrantee {
            grantee: grantee.into(),
            start_after,
            limit: Some(30),
        };
        let page: AttestationsResponse = net.query(chain, contract::ATTESTATION, &q)?;
        let Some(last) = page.attestations.last() else {
            return Ok(source_ids);
        };
        start_after = Some(last.id);
        source_ids.extend(page.attestations.iter().map(|a| match &a.origin {
            Origin::Remote { source_id, .. } => *source_id,
            Origin::Local { .. } => a.id,
        }));
    }
}

/// How many of `expected` `have` lacks.
fn missing<T: Ord>(expected: &[T], have: &BTreeSet<T>) -> usize {
    expected.iter().filter(|x| !have.contains(x)).count()
}

/// `n` consents granted to a fresh researcher key, one attestation proven under each, recorded
/// on genomics-1 and sent to trials-1 in batch packets, while `gateway` indexes (killed -9 and
/// restarted once the grants are in). Then chain state and the gateway's rows are counted.
pub fn burst(
    net: &Net,
    prover: &Prover,
    ev: &mut Evidence,
    gateway: &mut GatewayProcess,
    researcher: &str,
    n: usize,
) -> Result<Outcome> {
    gateway.ensure_stopped()?;
    gateway.start()?;
    let grantee = net.account(SOURCE, researcher)?;
    let (dataset, _) = designate_custodian(net, &net.patient)?;
    let grant = ConsentMsg::GrantConsent {
        grantee: grantee.clone(),
        dataset: HexBinary::from_hex(&dataset)?,
        purpose: PURPOSE.into(),
        scope: vec!["hba1c".into()],
        expires: cw_utils::Expiration::Never {},
    };
    let clock = Instant::now();
    let mut tokens: Vec<String> = vec![];
    while tokens.len() < n {
        let msgs = vec![grant.clone(); GRANTS_PER_TX.min(n - tokens.len())];
        let tx = net.execute_all(SOURCE, &net.patient, contract::CONSENT, &msgs, 0)?;
        let granted: Vec<String> = tx
            .events
            .iter()
            .filter(|e| e.kind == events::tx::CONSENT_GRANTED)
            .flat_map(|e| &e.attributes)
            .filter(|a| a.key == events::attr::TOKEN_ID)
            .map(|a| a.value.clone())
            .collect();
        ensure!(
            granted.len() == msgs.len(),
            "{} grants made {} consent_granted events",
            msgs.len(),
            granted.len()
        );
        tokens.extend(granted);
    }
    println!(
        "   {} consents granted in {:.1} s",
        tokens.len(),
        clock.elapsed().as_secs_f64()
    );

    let clock = Instant::now();
    let mut prepared = vec![];
    for (i, token) in tokens.iter().enumerate() {
        let under = Grant {
            dataset: dataset.clone(),
            token: token.clone(),
            grantee: researcher.into(),
        };
        prepared.push(prepare(net, prover, ev, &under, i as u64)?);
        if (i + 1) % 250 == 0 {
            println!(
                "   proved {}/{n} ({:.1} s)",
                i + 1,
                clock.elapsed().as_secs_f64()
            );
        }
    }
    let anchors: Vec<ExecuteMsg> = prepared.iter().map(|p| p.anchor.clone()).collect();
    for chunk in anchors.chunks(ANCHORS_PER_TX) {
        net.execute_all(SOURCE, "custodian", contract::ATTESTATION, chunk, 0)?;
    }
    let submits: Vec<ExecuteMsg> = prepared
        .chunks(BATCH)
        .map(|chunk| ExecuteMsg::SubmitAttestations {
            circuit_id: prover.circuit_id().into(),
            attestations: chunk.iter().map(|p| p.submission.clone()).collect(),
        })
        .collect();
    let mut ids = vec![];
    let mut kill = None;
    for chunk in submits.chunks(SUBMITS_PER_TX) {
        let tx = net.execute_all(SOURCE, researcher, contract::ATTESTATION, chunk, 0)?;
        ids.extend(recorded_ids(&tx)?);
        if kill.is_none() {
            // The gateway dies while the block with these attestations is still to index,
            // and comes back at once.
            let indexed = gateway.indexed()?.get(SOURCE).copied().unwrap_or(0);
            gateway.kill9()?;
            gateway.start()?;
            println!(
                "   gateway killed -9 at {SOURCE} height {indexed} (submit in block {}), restarted",
                tx.height
            );
            kill = Some((indexed, tx.height));
        }
    }
    let (killed_at, submit_height) = kill.context("nothing submitted")?;
    println!("   {} attestations recorded on {SOURCE}", ids.len());
    let channel = net.channel(SOURCE, REMOTE)?;
    let sends: Vec<ExecuteMsg> = ids
        .chunks(BATCH)
        .map(|chunk| ExecuteMsg::SendAttestations {
            attestation_ids: chunk.to_vec(),
            channel_id: channel.clone(),
            timeout_seconds: Some(600),
        })
        .collect();
    for chunk in sends.chunks(SENDS_PER_TX) {
        net.execute_all(
            SOURCE,
            researcher,
            contract::ATTESTATION,
            chunk,
            RELAYER_FEE,
        )?;
    }
    println!("   {} batch packets sent to {REMOTE}", sends.len());
    let remote = wait_for("the burst on trials-1", Duration::from_secs(300), || {
        // A query error (a node still restarting) is "not yet".
        let have = attested_for(net, REMOTE, &grantee).unwrap_or_default();
        Ok((have.len() >= ids.len()).then_some(have))
    })
    .or_else(|_| attested_for(net, REMOTE, &grantee))?;
    let seconds = clock.elapsed().as_secs_f64();

    // The chains' state, then the gateway's rows once it has caught up.
    let chain_tokens = tokens_of(net, &grantee)?;
    let chain_source = attested_for(net, SOURCE, &grantee)?;
    gateway.wait_indexed(&chain_heights(net)?)?;
    gateway.stop()?;
    let index = gateway.snapshot()?;
    let gw_tokens: Vec<String> = index
        .consents
        .iter()
        .filter(|c| c.chain_id == SOURCE && c.grantee == grantee)
        .map(|c| c.token_id.clone())
        .collect();
    let rows_on = |chain: &str| -> Vec<u64> {
        index
            .attestations
            .iter()
            .filter(|a| a.chain_id == chain && a.grantee == grantee)
            .map(|a| if chain == SOURCE { a.id } else { a.source_id })
            .collect()
    };
    let (gw_source, gw_remote) = (rows_on(SOURCE), rows_on(REMOTE));

    let set = |v: &[u64]| v.iter().copied().collect::<BTreeSet<u64>>();
    let token_set = |v: &[String]| v.iter().cloned().collect::<BTreeSet<String>>();
    let lost_grants = (n - tokens.len())
        + missing(&tokens, &token_set(&chain_tokens)).max(missing(&tokens, &token_set(&gw_tokens)));
    let lost_attestations = (n - ids.len())
        + [
            missing(&ids, &set(&chain_source)),
            missing(&ids, &set(&remote)),
            missing(&ids, &set(&gw_source)),
            missing(&ids, &set(&gw_remote)),
        ]
        .into_iter()
        .max()
        .unwrap_or(0);
    let duplicated =
        (remote.len() - set(&remote).len()) + (gw_remote.len() - set(&gw_remote).len());
    let counts_equal = gw_tokens.len() == chain_tokens.len()
        && gw_source.len() == chain_source.len()
        && gw_remote.len() == remote.len();
    let lost = lost_grants + lost_attestations;
    Ok(Outcome {
        scenario: format!("burst of {n} grants and {n} attestations"),
        injected: format!(
            "{n} consents granted ({GRANTS_PER_TX} per tx), {n} proofs submitted in batches of {BATCH} and sent to trials-1 in {} packets, gateway indexing (killed -9 at height {killed_at}, the first submit in block {submit_height}, restarted)",
            sends.len()
        ),
        expected: "0 lost, 0 duplicated; the gateway's counts equal the chains' state".into(),
        observed: format!(
            "chain: {} consents, {} attestations on genomics-1, {} on trials-1; gateway: {}, {}, {}; {lost} lost, {duplicated} duplicated; proofs to last receive {seconds:.0} s",
            chain_tokens.len(),
            chain_source.len(),
            remote.len(),
            gw_tokens.len(),
            gw_source.len(),
            gw_remote.len()
        ),
        passed: lost == 0 && duplicated == 0 && counts_equal,
        lost,
        duplicated,
        detail: format!("grantee {grantee}; lost grants {lost_grants}, lost attestations {lost_attestations}"),
        seconds: 0.0,
    })
}
