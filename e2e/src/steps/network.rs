//! Step 10: one government for the network. genomics-1's security council pauses every chain
//! by 8 hmesh transactions (timed from the 8th approval's block to the last chain's pause
//! block); trials-1's council lifts it; then a network proposal opened on genomics-1 is voted
//! on all three chains with `hmesh dao vote`, the tallies travel home, and the passed proposal
//! runs its message on billing-1 (its attestation contract's urgent fee raised).

use std::time::Duration;

use anyhow::{ensure, Context, Result};
use cosmwasm_std::{to_json_binary, CosmosMsg, WasmMsg};
use healthmesh_client::deployment::contract;
use healthmesh_types::attestation::{
    ConfigResponse as AttestationConfig, ExecuteMsg as AttestationMsg, QueryMsg as AttestationQuery,
};
use healthmesh_types::events;
use healthmesh_types::governance::{
    ChainVoteStatus, NetworkResponse, NetworkVote, Proposal, ProposalResponse, RemoteResult, Status,
};
use healthmesh_types::pause::{PausableQueryMsg, PauseStatusResponse};

use super::SOURCE;
use crate::evidence::Evidence;
use crate::net::{wait_for, Net};

const CHAINS: [&str; 3] = ["genomics-1", "trials-1", "billing-1"];
const BILLING: &str = "billing-1";
/// billing-1's urgent fee after the network proposal (the localnet starts at 5,000).
const NEW_URGENT_FEE: u128 = 6_000;

/// What step 9 measured.
pub struct NetworkFigures {
    /// 8th approval's block → the last chain's pause block, seconds.
    pub pause_latency: f64,
    pub unpause_latency: f64,
    /// Network proposal: end of voting → passed on the home chain (tallies relayed), seconds.
    pub tallies: f64,
}

/// The pause time (block seconds) of every pause target on every chain, once all are in the
/// wanted state (`None` entries while unpaused).
fn pause_times(net: &Net, paused: bool) -> Result<Option<Vec<f64>>> {
    let mut times = vec![];
    for chain in CHAINS {
        let network: NetworkResponse =
            serde_json::from_value(net.hmesh(chain, &["dao", "network"])?)?;
        ensure!(
            !network.pause_targets.is_empty(),
            "{chain}: governance has no pause targets"
        );
        for target in &network.pause_targets {
            let status: PauseStatusResponse =
                net.query_address(chain, target.as_str(), &PausableQueryMsg::PauseStatus {})?;
            match (&status.paused, paused) {
                (Some(info), true) => times.push(info.since.nanos() as f64 / 1e9),
                (None, false) => {}
                _ => return Ok(None),
            }
        }
    }
    Ok(Some(times))
}

/// A network council action on `chain` by exactly 8 hmesh transactions; the 8th's block time.
fn council_network(net: &Net, ev: &mut Evidence, chain: &str, args: &[&str]) -> Result<f64> {
    let tx = net.hmesh_tx(chain, "council-1", args)?;
    ev.see_tx(&tx);
    let action = tx
        .attr(events::tx::COUNCIL_ACTION_PROPOSED, "action_id")
        .context("the council action's id")?;
    let mut last = tx;
    for member in 2..=8 {
        let member = format!("council-{member}");
        last = net.hmesh_tx(chain, &member, &["council", "approve", &action])?;
        ev.see_tx(&last);
    }
    ensure!(
        last.attr(events::tx::NETWORK_PAUSE_SENT, "chains")
            .as_deref()
            == Some("2"),
        "{chain}: the 8th approval sent no network pause to the two other chains"
    );
    net.block_time(chain, last.height)
}

/// Waits until `chain`'s latest block is past `time` (seconds since the epoch).
fn wait_chain_time(net: &Net, chain: &str, time: f64, what: &str) -> Result<()> {
    let mut height = net.height_watch(chain)?;
    wait_for(
        &format!("{what} on {chain}"),
        Duration::from_secs(90),
        || {
            let latest = height()?;
            Ok((net.block_time(chain, latest)? > time + 0.5).then_some(()))
        },
    )
}

fn proposal(net: &Net, chain: &str, id: &str) -> Result<Proposal> {
    let p: ProposalResponse = serde_json::from_value(net.hmesh(chain, &["dao", "show", id])?)?;
    Ok(p.proposal)
}

fn pause_and_unpause(net: &Net, ev: &mut Evidence) -> Result<(f64, f64)> {
    let approved = council_network(
        net,
        ev,
        SOURCE,
        &[
            "council",
            "pause",
            "--network",
            "--reason",
            "e2e: network drill",
        ],
    )?;
    let times = wait_for(
        "every chain's contracts paused",
        Duration::from_secs(60),
        || pause_times(net, true),
    )?;
    let pause_latency = times.iter().fold(0f64, |a, t| a.max(t - approved));
    council_network(net, ev, "trials-1", &["council", "unpause", "--network"])?;
    let start = std::time::Instant::now();
    wait_for(
        "every chain's contracts running again",
        Duration::from_secs(60),
        || pause_times(net, false),
    )?;
    // Unpausing keeps no timestamp: measured as the wait after the 8th approval's commit.
    let unpause_latency = start.elapsed().as_secs_f64();
    println!(
        "   network pause: genomics-1's council (8 hmesh txs) paused {} contracts on 3 chains, the last {:.1} s after the 8th approval; trials-1's council lifted it everywhere",
        times.len(),
        pause_latency
    );
    Ok((pause_latency, unpause_latency))
}

/// The mirror id of the home proposal on `chain`, once its opening was acknowledged.
fn mirror_on(p: &Proposal, chain: &str) -> Option<u64> {
    let Some(NetworkVote::Home { chains, .. }) = &p.network else {
        return None;
    };
    chains
        .iter()
        .find(|c| c.chain_id == chain)
        .and_then(|c| match c.status {
            ChainVoteStatus::Open { mirror_id, .. }
            | ChainVoteStatus::Tallied { mirror_id, .. } => Some(mirror_id),
            _ => None,
        })
}

/// The network proposal's one message, run on billing-1: its attestation contract's urgent
/// fee raised to `NEW_URGENT_FEE` (in the contract's own message type).
fn raise_urgent_fee(net: &Net) -> Result<Vec<CosmosMsg>> {
    let msg = AttestationMsg::SetUrgentFee {
        fee: Some(cosmwasm_std::coin(NEW_URGENT_FEE, "ustake")),
    };
    Ok(vec![CosmosMsg::Wasm(WasmMsg::Execute {
        contract_addr: net.contract(BILLING, contract::ATTESTATION)?,
        msg: to_json_binary(&msg)?,
        funds: vec![],
    })])
}

fn network_vote(net: &Net, ev: &mut Evidence) -> Result<f64> {
    let file = std::env::temp_dir().join(format!("hmesh-e2e-network-{}.json", std::process::id()));
    std::fs::write(&file, serde_json::to_vec(&raise_urgent_fee(net)?)?)?;
    let file = file.to_string_lossy().to_string();
    let tx = net.hmesh_tx(
        SOURCE,
        "dao-1",
        &[
            "dao",
            "network-propose",
            "--title",
            "Network: raise billing-1's urgent fee",
            "--on",
            "billing",
            "--msgs",
            &file,
        ],
    )?;
    ev.measure("dao network-propose (hmesh)", &tx);
    let id = tx
        .attr(events::tx::PROPOSAL_CREATED, events::attr::PROPOSAL_ID)
        .context("proposal id")?;
    let mirrors = wait_for(
        "the vote open on trials-1 and billing-1",
        Duration::from_secs(20),
        || {
            let p = proposal(net, SOURCE, &id)?;
            Ok(mirror_on(&p, "trials-1").zip(mirror_on(&p, BILLING)))
        },
    )?;
    let (t_id, b_id) = (mirrors.0.to_string(), mirrors.1.to_string());
    // Each chain's voters vote there; genomics-1's dao-2 votes no.
    for (chain, voter, id, vote) in [
        (SOURCE, "dao-1", &id, "yes"),
        (SOURCE, "dao-2", &id, "no"),
        ("trials-1", "dao-1", &t_id, "yes"),
        (BILLING, "dao-1", &b_id, "yes"),
    ] {
        ev.measure(
            "dao vote (hmesh)",
            &net.hmesh_tx(chain, voter, &["dao", "vote", id, vote])?,
        );
    }
    let home = proposal(net, SOURCE, &id)?;
    ensure!(
        home.status == Status::Open,
        "decided before the end: {:?}",
        home.status
    );
    let end = home.expires.nanos() as f64 / 1e9;
    // By each chain's own clock: a transaction is judged at its chain's last block time.
    for chain in CHAINS {
        wait_chain_time(net, chain, end, "the end of voting")?;
    }
    for (chain, mirror) in [("trials-1", &t_id), (BILLING, &b_id)] {
        ev.see_tx(&net.hmesh_tx(chain, "dao-3", &["dao", "tally", mirror])?);
    }
    let passed = wait_for(
        "the network decision on genomics-1",
        Duration::from_secs(60),
        || {
            let p = proposal(net, SOURCE, &id)?;
            Ok((p.status != Status::Tallying && p.status != Status::Open).then_some(p))
        },
    )?;
    ensure!(
        passed.status == Status::Passed,
        "network proposal {id}: {:?}",
        passed.status
    );
    let tallies = passed
        .passed_at
        .map_or(f64::NAN, |t| t.nanos() as f64 / 1e9 - end);
    let executable = passed.executable_at.context("no executable_at")?.nanos() as f64 / 1e9;
    wait_chain_time(net, SOURCE, executable, "the timelock")?;
    ev.measure(
        "dao execute (hmesh)",
        &net.hmesh_tx(SOURCE, "dao-3", &["dao", "execute", &id])?,
    );
    let done = wait_for(
        "the remote execution's ack",
        Duration::from_secs(60),
        || {
            let p = proposal(net, SOURCE, &id)?;
            Ok(p.remote
                .first()
                .filter(|r| r.result != RemoteResult::InFlight)
                .map(|r| r.result.clone()))
        },
    )?;
    ensure!(
        matches!(done, RemoteResult::Executed { .. }),
        "remote execution: {done:?}"
    );
    let config: AttestationConfig =
        net.query(BILLING, contract::ATTESTATION, &AttestationQuery::Config {})?;
    ensure!(
        config.urgent_fee.as_ref().map(|c| c.amount.u128()) == Some(NEW_URGENT_FEE),
        "billing-1's urgent fee after the network proposal: {:?}",
        config.urgent_fee
    );
    println!("   network proposal {id}: open on 3 chains, voted there by hmesh (genomics-1 yes/no, trials-1 and billing-1 yes), tallies home {tallies:.1} s after the end, passed on the network sum, executed on billing-1 (urgent fee now {NEW_URGENT_FEE})");
    Ok(tallies)
}

pub fn run(net: &Net, ev: &mut Evidence) -> Result<NetworkFigures> {
    println!("== 10. One government for the network");
    let (pause_latency, unpause_latency) = pause_and_unpause(net, ev)?;
    let tallies = network_vote(net, ev)?;
    Ok(NetworkFigures {
        pause_latency,
        unpause_latency,
        tallies,
    })
}
