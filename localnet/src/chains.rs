//! The wasmd chains: the pinned binary, `init` with the localnet's ports and 1 s blocks,
//! funded role accounts, start.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use healthmesh_client::keys::{generate_mnemonic, Backend, Keyring};
use healthmesh_client::ChainClient;
use toml_edit::DocumentMut;

use crate::layout::{
    ports, roles, Layout, Ports, DENOM, GOV_DEPOSIT, GOV_EXPEDITED_VOTING_PERIOD,
    GOV_VOTING_PERIOD, PREFIX, TIMEOUT_COMMIT,
};
use crate::process::{alive, log, run, spawn_daemon};

/// Each genesis account's balance and the validator's self-bond.
const GENESIS_BALANCE: &str = "1000000000000";
const SELF_BOND: &str = "100000000";

/// The pinned wasmd (built and cached by `localnet/build-wasmd.sh`) and its VM library.
pub struct Wasmd {
    pub bin: PathBuf,
    lib: PathBuf,
}

/// Runs one of the repository's build scripts, which prints the binary's path last.
pub fn pinned_binary(layout: &Layout, script: &str) -> Result<PathBuf> {
    let out = run(Command::new(layout.root.join("localnet").join(script))
        .stderr(std::process::Stdio::inherit()))?;
    let path = out
        .lines()
        .last()
        .context("the build script printed no path")?;
    Ok(PathBuf::from(path.trim()))
}

impl Wasmd {
    pub fn new(layout: &Layout) -> Result<Self> {
        let bin = pinned_binary(layout, "build-wasmd.sh")?;
        let lib = bin
            .parent()
            .and_then(Path::parent)
            .map(|p| p.join("lib"))
            .context("wasmd's cache directory")?;
        Ok(Wasmd { bin, lib })
    }

    pub fn command(&self, home: &Path) -> Command {
        let mut cmd = Command::new(&self.bin);
        let ld = std::env::var("LD_LIBRARY_PATH").unwrap_or_default();
        cmd.env("LD_LIBRARY_PATH", format!("{}:{ld}", self.lib.display()))
            .arg("--home")
            .arg(home);
        cmd
    }

    pub(crate) fn run(&self, home: &Path, args: &[&str]) -> Result<String> {
        run(self.command(home).args(args))
    }

    /// A `validator` key in the node's test keyring (for its gentx); wasmd's JSON about it,
    /// mnemonic included.
    pub(crate) fn add_validator_key(&self, home: &Path) -> Result<String> {
        let args = [
            "keys",
            "add",
            "validator",
            "--keyring-backend",
            "test",
            "--output",
            "json",
        ];
        self.run(home, &args)
    }
}

/// The role whose key is the same on every chain: the hospital is the custodian of its
/// patients' data on genomics-1 and a trial site on trials-1, and is paid on billing-1 — one
/// institution, one key, so its attestations and its claims name the same account.
const SHARED_ROLE: &str = "custodian";

/// The shared role's mnemonic: made by the first chain initialised, read by the others.
fn shared_mnemonic(layout: &Layout) -> Result<String> {
    let path = layout.home.join("shared-custodian.mnemonic");
    if let Ok(phrase) = std::fs::read_to_string(&path) {
        return Ok(phrase);
    }
    let phrase = generate_mnemonic();
    crate::process::write_private(&path, phrase.as_bytes())?;
    Ok(phrase)
}

/// `wasmd init`, funded role keys, the validator's gentx and the localnet's config edits.
pub fn init_chain(w: &Wasmd, layout: &Layout, chain: &str) -> Result<()> {
    let home = layout.chain_home(chain);
    let marker = home.join("config").join("initialised");
    if marker.exists() {
        log(format!("{chain}: already initialised"));
        return Ok(());
    }
    let _ = std::fs::remove_dir_all(&home);
    std::fs::create_dir_all(home.join("keys"))?;
    w.run(
        &home,
        &[
            "init",
            "node",
            "--chain-id",
            chain,
            "--default-denom",
            DENOM,
        ],
    )?;
    let balance = format!("{GENESIS_BALANCE}{DENOM}");
    // The validator's key must be in wasmd's keyring for gentx; the other roles only need a
    // funded address, so their keys are made by the client's keyring directly.
    let validator = w.add_validator_key(&home)?;
    crate::process::write_private(
        &home.join("keys").join("validator.json"),
        validator.as_bytes(),
    )?;
    w.run(
        &home,
        &[
            "genesis",
            "add-genesis-account",
            "validator",
            &balance,
            "--keyring-backend",
            "test",
        ],
    )?;
    let ring = Keyring::new(home.join("keys"), Backend::Test);
    for role in roles().iter().filter(|r| *r != "validator") {
        let mnemonic = if role == SHARED_ROLE {
            shared_mnemonic(layout)?
        } else {
            generate_mnemonic()
        };
        let key = ring.add(role, &mnemonic, None, PREFIX)?;
        w.run(
            &home,
            &["genesis", "add-genesis-account", &key.address, &balance],
        )?;
    }
    let bond = format!("{SELF_BOND}{DENOM}");
    w.run(
        &home,
        &[
            "genesis",
            "gentx",
            "validator",
            &bond,
            "--chain-id",
            chain,
            "--keyring-backend",
            "test",
        ],
    )?;
    crate::validators::init_extra(w, layout, chain, &balance, &bond)?;
    w.run(&home, &["genesis", "collect-gentxs"])?;
    configure_genesis(&home)?;
    configure(&home, &ports(chain))?;
    crate::validators::finish_extra(w, layout, chain, configure)?;
    std::fs::write(marker, "")?;
    let p = ports(chain);
    log(format!(
        "{chain}: initialised (rpc {}, grpc {}, p2p {}, api {})",
        p.rpc, p.grpc, p.p2p, p.api
    ));
    Ok(())
}

/// Sets a key that wasmd's config must already have (a missing one means its format changed).
fn set(doc: &mut DocumentMut, path: &[&str], v: toml_edit::Value, file: &str) -> Result<()> {
    let (last, tables) = path.split_last().expect("non-empty path");
    let mut item = doc.as_item_mut();
    for t in tables {
        item = item
            .get_mut(t)
            .with_context(|| format!("{file}: no [{t}] (wasmd changed its config format?)"))?;
    }
    let slot = item.get_mut(last).with_context(|| {
        format!(
            "{file}: no {} (wasmd changed its config format?)",
            path.join(".")
        )
    })?;
    *slot = toml_edit::Item::Value(v);
    Ok(())
}

/// x/gov with a voting period of seconds (the localnet's governance pins the contracts at
/// deployment) and a deposit in the chain's denom.
fn configure_genesis(home: &Path) -> Result<()> {
    let path = home.join("config/genesis.json");
    let mut genesis: serde_json::Value = serde_json::from_slice(&std::fs::read(&path)?)
        .with_context(|| format!("reading {}", path.display()))?;
    let params = genesis
        .pointer_mut("/app_state/gov/params")
        .and_then(|p| p.as_object_mut())
        .context("genesis.json has no app_state.gov.params (wasmd's format changed?)")?;
    let deposit =
        |amount: u128| serde_json::json!([{ "denom": DENOM, "amount": amount.to_string() }]);
    params.insert("voting_period".into(), GOV_VOTING_PERIOD.into());
    params.insert(
        "expedited_voting_period".into(),
        GOV_EXPEDITED_VOTING_PERIOD.into(),
    );
    params.insert("min_deposit".into(), deposit(GOV_DEPOSIT));
    params.insert("expedited_min_deposit".into(), deposit(2 * GOV_DEPOSIT));
    std::fs::write(&path, serde_json::to_vec_pretty(&genesis)?)?;
    Ok(())
}

pub fn configure(home: &Path, p: &Ports) -> Result<()> {
    edit(&home.join("config/config.toml"), |doc, f| {
        set(
            doc,
            &["rpc", "laddr"],
            format!("tcp://127.0.0.1:{}", p.rpc).into(),
            f,
        )?;
        set(
            doc,
            &["rpc", "pprof_laddr"],
            format!("localhost:{}", p.pprof).into(),
            f,
        )?;
        // Simulating a store of a ~700 KB contract sends it hex-encoded (2×) in one request.
        set(doc, &["rpc", "max_body_bytes"], 4_000_000i64.into(), f)?;
        set(
            doc,
            &["p2p", "laddr"],
            format!("tcp://127.0.0.1:{}", p.p2p).into(),
            f,
        )?;
        set(
            doc,
            &["consensus", "timeout_commit"],
            TIMEOUT_COMMIT.into(),
            f,
        )?;
        set(doc, &["consensus", "timeout_propose"], "1s".into(), f)
    })?;
    edit(&home.join("config/app.toml"), |doc, f| {
        set(doc, &["minimum-gas-prices"], format!("0{DENOM}").into(), f)?;
        set(doc, &["api", "enable"], true.into(), f)?;
        set(
            doc,
            &["api", "address"],
            format!("tcp://127.0.0.1:{}", p.api).into(),
            f,
        )?;
        set(
            doc,
            &["grpc", "address"],
            format!("127.0.0.1:{}", p.grpc).into(),
            f,
        )
    })
}

/// Peers of a multi-validator chain, all on 127.0.0.1.
pub fn set_peers(home: &Path, peers: &str) -> Result<()> {
    edit(&home.join("config/config.toml"), |doc, f| {
        set(doc, &["p2p", "persistent_peers"], peers.into(), f)?;
        set(doc, &["p2p", "allow_duplicate_ip"], true.into(), f)?;
        set(doc, &["p2p", "addr_book_strict"], false.into(), f)
    })
}

fn edit(path: &Path, change: impl FnOnce(&mut DocumentMut, &str) -> Result<()>) -> Result<()> {
    let name = path.display().to_string();
    let mut doc: DocumentMut = std::fs::read_to_string(path)
        .with_context(|| format!("reading {name}"))?
        .parse()
        .with_context(|| format!("parsing {name}"))?;
    change(&mut doc, &name)?;
    std::fs::write(path, doc.to_string())?;
    Ok(())
}

pub fn client(chain: &str) -> Result<ChainClient> {
    Ok(ChainClient::new(
        &format!("http://127.0.0.1:{}", ports(chain).rpc),
        chain,
        PREFIX,
    )?)
}

pub async fn height(chain: &str) -> Option<u64> {
    client(chain).ok()?.status().await.ok().map(|s| s.height)
}

/// Starts the node unless it runs; returns once it has made two blocks.
pub async fn start_chain(w: &Wasmd, layout: &Layout, chain: &str) -> Result<()> {
    // Validators 1..N first: validator 0 makes no block without more than 2/3 of them.
    crate::validators::start_extra(w, layout, chain)?;
    let pidfile = layout.node_pid(chain);
    if let Some(pid) = alive(&pidfile) {
        log(format!("{chain}: already running (pid {pid})"));
        return Ok(());
    }
    let home = layout.chain_home(chain);
    let log_file = home.join("node.log");
    let mut child = spawn_daemon(w.command(&home).arg("start"), &log_file, &pidfile)?;
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(60) {
        if height(chain).await.unwrap_or(0) >= 2 {
            log(format!("{chain}: started (pid {})", child.id()));
            return Ok(());
        }
        if child.try_wait()?.is_some() {
            bail!("{chain} exited; see {}", log_file.display());
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    bail!(
        "{chain} produced no blocks in 60 s; see {}",
        log_file.display()
    )
}
