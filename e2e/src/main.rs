//! `make e2e`: the HealthMesh mission end to end on the running localnet — real wasmd chains,
//! real Hermes, real proofs — every contract message in the contracts' own types through
//! `healthmesh-client`, and `hmesh` where a user would type. Each step prints what it proved;
//! the run ends with a table of measured figures.

mod bench_relay;
mod chaos;
mod evidence;
mod gas_profile;
mod net;
mod steps;

use anyhow::{ensure, Result};
use steps::burst::percentile;
use steps::{attest, burst, dao, market, network, privacy, research, revoke, trials, REMOTE};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.as_slice() {
        [cmd, wasm, out] if cmd == "gas-profile" => {
            gas_profile::run(std::path::Path::new(wasm), std::path::Path::new(out))
        }
        [cmd, out] if cmd == "bench-relay" => bench_relay::run(std::path::Path::new(out)),
        [cmd, out] if cmd == "chaos" => chaos::run(std::path::Path::new(out)),
        [] => run(),
        _ => Err(anyhow::anyhow!(
            "usage: healthmesh-e2e [gas-profile <probe.wasm> <out.json> | bench-relay <out.json> | chaos <out.json>]"
        )),
    };
    if let Err(err) = result {
        eprintln!("e2e FAILED: {err:#}");
        std::process::exit(1);
    }
}

fn run() -> Result<()> {
    let burst_size = std::env::var("E2E_BATCH")
        .ok()
        .and_then(|b| b.parse().ok())
        .unwrap_or(60);
    let purchases = std::env::var("E2E_PURCHASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(5);
    let mut net = net::Net::load()?;
    let prover = attest::Prover::load(&net)?;
    let mut ev = evidence::Evidence::default();

    let first = attest::run(&net, &prover, &mut ev)?;
    revoke::run(&net, &mut ev, &first.token)?;
    dao::run(&net, &mut ev)?;
    let burst = burst::run(&net, &prover, &mut ev, burst_size)?;
    let catch_up = research::run(&net, &mut ev, &burst, &first.token)?;
    let settlement = market::run(&mut net, &mut ev, purchases)?;
    let trial = trials::run(&mut net, &prover, &mut ev)?;
    privacy::run(&net, &mut ev, &burst.grant.token)?;
    let government = network::run(&net, &mut ev)?;

    println!("\n{}", ev.gas_table());
    println!("| relay latency, send block → receive block on {REMOTE} | seconds |\n|---|---|");
    println!(
        "| p50 over {} | {:.1} |",
        burst.size,
        percentile(&burst.latencies, 0.5)
    );
    println!(
        "| p95 over {} | {:.1} |",
        burst.size,
        percentile(&burst.latencies, 0.95)
    );
    println!(
        "| urgent lane, sent behind the batches (hmesh --urgent) | {:.1} |",
        burst.urgent_latency
    );
    println!("| packets lost | {} |", burst.lost);
    println!(
        "| gas per attestation in batches of {} (submit / receive incl. client update) | {} / {} |",
        steps::burst::BATCH,
        burst.submit_gas_per_attestation,
        burst.receive_gas_per_attestation
    );
    println!(
        "| relayer fees earned by Hermes' key | {} |",
        burst.fees_earned
    );
    println!(
        "| urgent fee earned by the urgent lane's relayer key | {} |",
        burst.urgent_fee_earned
    );
    println!("| gateway catch-up, 3 chains from height 1 | {catch_up:.1} s |");
    println!(
        "| settlement, purchase commit on {} → token queryable on {} (p50 / max over {}) | {:.1} / {:.1} s |",
        market::BILLING,
        steps::SOURCE,
        settlement.to_token.len(),
        percentile(&settlement.to_token, 0.5),
        percentile(&settlement.to_token, 1.0)
    );
    println!(
        "| settlement, purchase commit → payout visible on {} (p50 / max) | {:.1} / {:.1} s |",
        market::BILLING,
        percentile(&settlement.to_payout, 0.5),
        percentile(&settlement.to_payout, 1.0)
    );
    println!(
        "| trial enrollment, hmesh trials enroll → participant active on {REMOTE} (p50 / max over {}) | {:.1} / {:.1} s |",
        trial.enroll.len(),
        percentile(&trial.enroll, 0.5),
        percentile(&trial.enroll, 1.0)
    );
    println!(
        "| milestone payout, site's claim commit on {REMOTE} → participant credited on billing-1 (p50 / max over {}) | {:.1} / {:.1} s |",
        trial.payout.len(),
        percentile(&trial.payout, 0.5),
        percentile(&trial.payout, 1.0)
    );
    println!(
        "| network pause, 8th council approval's block → last of 3 chains paused (target ≤ 5 s) | {:.1} s |",
        government.pause_latency
    );
    println!(
        "| network unpause, 8th approval committed → every chain running (observed by polling) | {:.1} s |",
        government.unpause_latency
    );
    println!(
        "| network vote, end of voting → passed on the home chain (2 tallies by hmesh dao tally) | {:.1} s |",
        government.tallies
    );
    ensure!(
        government.pause_latency <= 5.0,
        "network pause took {:.1} s (target ≤ 5 s)",
        government.pause_latency
    );
    println!("e2e: 1 passed, 0 failed");
    Ok(())
}
