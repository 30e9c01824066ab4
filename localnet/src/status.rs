//! `hm-localnet status`: what runs, at which height, with which contracts and channels.

use std::collections::BTreeMap;

use anyhow::Result;
use healthmesh_client::telemetry;
use healthmesh_client::Deployment;
use healthmesh_types::attestation::Lane;

use crate::chains::height;
use crate::hermes::telemetry_port;
use crate::layout::{ports, Layout, CHAINS};
use crate::process::alive;

pub async fn print(layout: &Layout) -> Result<()> {
    println!("\nHealthMesh localnet ({})", layout.home.display());
    println!(
        "{:<12} {:<8} {:>7}  {:>6} {:>6} {:>6} {:>6}",
        "chain", "state", "height", "rpc", "grpc", "p2p", "api"
    );
    for chain in CHAINS {
        let p = ports(chain);
        let pidfiles = crate::validators::pidfiles(layout, chain);
        let up = pidfiles.iter().filter(|p| alive(p).is_some()).count();
        let state = match (up, pidfiles.len()) {
            (0, _) => "down".to_string(),
            (1, 1) => "up".to_string(),
            (up, n) => format!("{up}/{n} up"),
        };
        let h = height(chain)
            .await
            .map_or("-".to_string(), |h| h.to_string());
        println!(
            "{chain:<12} {state:<8} {h:>7}  {:>6} {:>6} {:>6} {:>6}",
            p.rpc, p.grpc, p.p2p, p.api
        );
    }
    let d = if layout.deployment().exists() {
        Deployment::load(&layout.deployment())?
    } else {
        Deployment::default()
    };
    for (chain, info) in &d.chains {
        println!("\n{chain} contracts:");
        for (name, address) in &info.contracts {
            println!("  {name:<12} {address}");
        }
    }
    // Pending packets per channel end, from the relayers' telemetry (`backlog_size`).
    let mut backlog = BTreeMap::new();
    let mut health = vec![];
    for (lane, name) in [(Lane::Bulk, "bulk"), (Lane::Urgent, "urgent")] {
        let port = telemetry_port(lane);
        let telemetry = telemetry::http_get(port, "/metrics");
        if let Ok(text) = &telemetry {
            backlog.extend(telemetry::backlog_sizes(text));
        }
        let relayer = match (alive(&layout.hermes_pid(lane)), &telemetry) {
            (Some(pid), Ok(_)) => format!("running (pid {pid}), telemetry on :{port} answers"),
            (Some(pid), Err(e)) => format!("running (pid {pid}), telemetry on :{port}: {e}"),
            (None, _) => "stopped".into(),
        };
        health.push(format!("relayer of the {name} lane: hermes {relayer}"));
    }
    if !d.channels.is_empty() {
        println!("\nchannels (attestation lanes, settlement, milestones, governance) and pending packets:");
        for c in &d.channels {
            let pending = |chain: &String, channel: &String| {
                backlog
                    .get(&(chain.clone(), channel.clone()))
                    .map_or("?".to_string(), |n: &u64| n.to_string())
            };
            println!(
                "  {} {} <-> {} {}  ({})  pending {} / {}",
                c.a_chain,
                c.a_channel,
                c.b_chain,
                c.b_channel,
                c.version,
                pending(&c.a_chain, &c.a_channel),
                pending(&c.b_chain, &c.b_channel)
            );
        }
    }
    for line in health {
        println!("{line}");
    }
    println!("deployment file: {}", layout.deployment().display());
    Ok(())
}
