//! `hm-localnet status`: what runs, at which height, with which contracts and channels.

use anyhow::Result;
use healthmesh_client::Deployment;
use healthmesh_types::attestation::Lane;

use crate::chains::height;
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
        let state = if alive(&layout.node_pid(chain)).is_some() {
            "up"
        } else {
            "down"
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
    if !d.channels.is_empty() {
        println!("\nchannels (attestation lanes, settlement, milestones):");
        for c in &d.channels {
            println!(
                "  {} {} <-> {} {}  ({})",
                c.a_chain, c.a_channel, c.b_chain, c.b_channel, c.version
            );
        }
    }
    for (lane, name) in [(Lane::Bulk, "bulk"), (Lane::Urgent, "urgent")] {
        let relayer = match alive(&layout.hermes_pid(lane)) {
            Some(pid) => format!("running (pid {pid})"),
            None => "stopped".into(),
        };
        println!("relayer of the {name} lane: hermes {relayer}");
    }
    println!("deployment file: {}", layout.deployment().display());
    Ok(())
}
