//! Extra validators (`VALIDATORS=N`, default 1, at most 7) so each chain is a real BFT
//! network: validator 0 lives in the chain's home and serves the endpoints everything else
//! uses (RPC, gRPC, API); validators 1..N live in `<localnet>/<chain>-val<i>/` on their own
//! ports (+10·i), with equal stake, peered to each other over 127.0.0.1. With 4, one validator
//! down leaves 3/4 of the power (more than 2/3): blocks go on; two down halt the chain until
//! they return.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use healthmesh_client::keys::{Backend, Keyring};

use crate::chains::Wasmd;
use crate::layout::{ports, Layout, Ports, DENOM, PREFIX};
use crate::process::{alive, log, spawn_daemon};

/// How many validators each chain runs (`VALIDATORS`, default 1).
pub fn count() -> usize {
    std::env::var("VALIDATORS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1usize)
        .clamp(1, 7)
}

/// The localnet keyring's name of validator `i`'s operator key (`i` ≥ 1).
pub fn operator(i: usize) -> String {
    format!("validator-{i}")
}

/// Validator `i`'s home (0: the chain's home).
pub fn home(layout: &Layout, chain: &str, i: usize) -> PathBuf {
    if i == 0 {
        layout.chain_home(chain)
    } else {
        layout.home.join(format!("{chain}-val{i}"))
    }
}

pub fn pidfile(layout: &Layout, chain: &str, i: usize) -> PathBuf {
    home(layout, chain, i).join("node.pid")
}

/// Validator `i`'s ports: the chain's, shifted by 10·i.
pub fn ports_of(chain: &str, i: usize) -> Ports {
    let p = ports(chain);
    let shift = 10 * i as u16;
    Ports {
        rpc: p.rpc + shift,
        p2p: p.p2p + shift,
        grpc: p.grpc + shift,
        api: p.api + shift,
        pprof: p.pprof + shift,
    }
}

/// Validators 1..N: a node, a consensus key and an operator key each; their accounts go into
/// validator 0's genesis and their gentxs into its `config/gentx/` (collected there).
pub fn init_extra(
    w: &Wasmd,
    layout: &Layout,
    chain: &str,
    balance: &str,
    bond: &str,
) -> Result<()> {
    let home0 = home(layout, chain, 0);
    for i in 1..count() {
        let home = home(layout, chain, i);
        let _ = std::fs::remove_dir_all(&home);
        std::fs::create_dir_all(&home)?;
        let moniker = format!("{chain}-val{i}");
        w.run(
            &home,
            &[
                "init",
                &moniker,
                "--chain-id",
                chain,
                "--default-denom",
                DENOM,
            ],
        )?;
        let key = w.add_validator_key(&home)?;
        let key: serde_json::Value = serde_json::from_str(&key).context("wasmd keys add output")?;
        let address = key["address"].as_str().context("validator key address")?;
        // Also in the localnet's keyring as `validator-<i>`: it votes on governance proposals
        // (the pinning proposal needs more than one validator's power).
        let mnemonic = key["mnemonic"].as_str().context("validator key mnemonic")?;
        Keyring::new(home0.join("keys"), Backend::Test).add(
            &operator(i),
            mnemonic,
            None,
            PREFIX,
        )?;
        w.run(
            &home0,
            &["genesis", "add-genesis-account", address, balance],
        )?;
    }
    for i in 1..count() {
        let home = home(layout, chain, i);
        std::fs::copy(
            home0.join("config/genesis.json"),
            home.join("config/genesis.json"),
        )?;
        w.run(
            &home,
            &[
                "genesis",
                "gentx",
                "validator",
                bond,
                "--chain-id",
                chain,
                "--keyring-backend",
                "test",
            ],
        )?;
        for entry in std::fs::read_dir(home.join("config/gentx"))? {
            let path = entry?.path();
            let name = path.file_name().context("gentx file name")?;
            std::fs::copy(&path, home0.join("config/gentx").join(name))?;
        }
    }
    Ok(())
}

/// After validator 0's genesis is final: every validator gets it, its own ports and the
/// others as persistent peers.
pub fn finish_extra(
    w: &Wasmd,
    layout: &Layout,
    chain: &str,
    configure: impl Fn(&Path, &Ports) -> Result<()>,
) -> Result<()> {
    let n = count();
    if n == 1 {
        return Ok(());
    }
    let home0 = home(layout, chain, 0);
    let mut ids = vec![];
    for i in 0..n {
        let home = home(layout, chain, i);
        if i > 0 {
            std::fs::copy(
                home0.join("config/genesis.json"),
                home.join("config/genesis.json"),
            )?;
            configure(&home, &ports_of(chain, i))?;
        }
        ids.push(w.run(&home, &["comet", "show-node-id"])?.trim().to_string());
    }
    for i in 0..n {
        let peers: Vec<String> = (0..n)
            .filter(|j| *j != i)
            .map(|j| format!("{}@127.0.0.1:{}", ids[j], ports_of(chain, j).p2p))
            .collect();
        crate::chains::set_peers(&home(layout, chain, i), &peers.join(","))?;
    }
    log(format!("{chain}: {n} validators, peered on 127.0.0.1"));
    Ok(())
}

/// How many validators `chain` was made with: validator 0 and every initialised
/// `<chain>-val<i>`. `VALIDATORS` counts only when a chain is made; a later `make localnet`
/// (restarting what is down, e.g. in `make chaos`) restarts all of them whatever it says.
pub fn made_with(layout: &Layout, chain: &str) -> usize {
    1 + (1..8)
        .take_while(|i| home(layout, chain, *i).join("config/genesis.json").exists())
        .count()
}

/// Start validators 1..N that are not running (validator 0 is started by the caller, which
/// waits for blocks: they need more than 2/3 of the validators up).
pub fn start_extra(w: &Wasmd, layout: &Layout, chain: &str) -> Result<()> {
    for i in 1..made_with(layout, chain) {
        let pidfile = pidfile(layout, chain, i);
        if alive(&pidfile).is_some() {
            continue;
        }
        let home = home(layout, chain, i);
        let child = spawn_daemon(
            w.command(&home).arg("start"),
            &home.join("node.log"),
            &pidfile,
        )?;
        log(format!(
            "{chain}: validator {i} started (pid {})",
            child.id()
        ));
    }
    Ok(())
}

/// Every validator's pid file of `chain` (for down and status), validator 0's first.
pub fn pidfiles(layout: &Layout, chain: &str) -> Vec<PathBuf> {
    let mut all = vec![layout.node_pid(chain)];
    // Whatever VALIDATORS says now, stop every validator a run left behind.
    for i in 1..8 {
        let pidfile = pidfile(layout, chain, i);
        if pidfile.exists() {
            all.push(pidfile);
        }
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chain_keeps_the_validators_it_was_made_with() {
        // `make chaos` restarts a killed validator with `make localnet`, without VALIDATORS:
        // it used to count 1 and leave the extra validators down.
        let dir = std::env::temp_dir().join(format!("hm-localnet-vals-{}", std::process::id()));
        let layout = Layout {
            root: dir.clone(),
            home: dir.join(".localnet"),
        };
        assert_eq!(made_with(&layout, "trials-1"), 1);
        for i in 1..4 {
            let config = home(&layout, "trials-1", i).join("config");
            std::fs::create_dir_all(&config).unwrap();
            std::fs::write(config.join("genesis.json"), "{}").unwrap();
        }
        assert_eq!(made_with(&layout, "trials-1"), 4);
        assert_eq!(made_with(&layout, "genomics-1"), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
