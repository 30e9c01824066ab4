//! `hmesh chain status`: heights and health of the configured chains.

use anyhow::{bail, Result};
use clap::Subcommand;
use healthmesh_client::ChainClient;
use serde_json::json;

use crate::context::GlobalArgs;
use crate::output::{print_json, Format};

#[derive(Subcommand)]
pub enum ChainCommand {
    /// Height, block time and sync state of each chain (all of the deployment unless --chain
    /// or --node is given). Exits non-zero when one is unreachable.
    Status,
}

pub async fn run(g: &GlobalArgs, ChainCommand::Status: ChainCommand) -> Result<()> {
    let chains = if g.chain.is_some() || g.node.is_some() {
        vec![g.chain_info()?]
    } else {
        g.deployment()?.chains.into_values().collect()
    };
    let mut rows = vec![];
    let mut down = 0;
    for info in chains {
        let client = ChainClient::new(&info.rpc, &info.chain_id, &info.bech32_prefix)?;
        let row = match client.status().await {
            Ok(s) if s.chain_id != info.chain_id => {
                down += 1;
                json!({"chain_id": info.chain_id, "rpc": info.rpc, "healthy": false,
                       "error": format!("node serves '{}'", s.chain_id)})
            }
            Ok(s) => json!({"chain_id": info.chain_id, "rpc": info.rpc, "healthy": !s.catching_up,
                            "height": s.height, "block_time": s.block_time, "catching_up": s.catching_up}),
            Err(e) => {
                down += 1;
                json!({"chain_id": info.chain_id, "rpc": info.rpc, "healthy": false, "error": e.to_string()})
            }
        };
        rows.push(row);
    }
    if g.output == Format::Json {
        print_json(&rows);
    } else {
        println!("{:<12} {:<24} {:>8}  STATE", "CHAIN", "RPC", "HEIGHT");
        for r in &rows {
            let state = match r.get("error") {
                Some(e) => format!("DOWN: {}", e.as_str().unwrap_or_default()),
                None if r["catching_up"] == true => "catching up".into(),
                None => format!("ok, block {}", r["block_time"].as_str().unwrap_or_default()),
            };
            let height = r
                .get("height")
                .map(|h| h.to_string())
                .unwrap_or_else(|| "-".into());
            println!(
                "{:<12} {:<24} {:>8}  {}",
                r["chain_id"].as_str().unwrap_or_default(),
                r["rpc"].as_str().unwrap_or_default(),
                height,
                state
            );
        }
    }
    if down > 0 {
        bail!("{down} chain(s) unreachable");
    }
    Ok(())
}
