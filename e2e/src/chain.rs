//! The localnet as the e2e run sees it: the deployment file and wasmd CLI transactions.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::thread::sleep;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use serde_json::Value;

pub struct Localnet {
    pub deployment: Value,
    wasmd: PathBuf,
    lib: PathBuf,
}

/// A confirmed transaction.
pub struct Tx {
    pub json: Value,
    pub gas_used: u64,
}

impl Tx {
    pub fn attr(&self, ty: &str, key: &str) -> Option<String> {
        self.json["events"]
            .as_array()?
            .iter()
            .filter(|e| e["type"] == ty)
            .find_map(|e| {
                e["attributes"]
                    .as_array()?
                    .iter()
                    .find(|a| a["key"] == key)
                    .map(|a| a["value"].as_str().unwrap_or("").to_string())
            })
    }
}

impl Localnet {
    pub fn load(root: &Path) -> Result<Self> {
        let path = root.join(".localnet/deployment.json");
        let deployment: Value =
            serde_json::from_slice(&std::fs::read(&path).with_context(|| {
                format!("{} missing: run `make localnet` first", path.display())
            })?)?;
        let wasmd = PathBuf::from(
            String::from_utf8(
                Command::new(root.join("localnet/build-wasmd.sh"))
                    .output()?
                    .stdout,
            )?
            .trim(),
        );
        let lib = wasmd
            .parent()
            .and_then(Path::parent)
            .map(|p| p.join("lib"))
            .context("wasmd path")?;
        Ok(Localnet {
            deployment,
            wasmd,
            lib,
        })
    }

    pub fn chain(&self, chain: &str) -> &Value {
        &self.deployment["chains"][chain]
    }

    pub fn contract(&self, chain: &str, name: &str) -> String {
        self.chain(chain)["contracts"][name]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    pub fn account(&self, chain: &str, role: &str) -> String {
        self.chain(chain)["accounts"][role]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    fn node(&self, chain: &str) -> String {
        self.chain(chain)["rpc"]
            .as_str()
            .unwrap_or_default()
            .replace("http://", "tcp://")
    }

    fn wasmd(&self, chain: &str, args: &[&str]) -> Result<String> {
        let home = self.chain(chain)["home"].as_str().context("home")?;
        let out = Command::new(&self.wasmd)
            .env("LD_LIBRARY_PATH", &self.lib)
            .arg("--home")
            .arg(home)
            .args(args)
            .output()?;
        if !out.status.success() {
            bail!(
                "wasmd {}: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(String::from_utf8(out.stdout)?)
    }

    /// Runs `hmesh --chain CHAIN --keyring-backend test -o json ARGS…` (built by `make e2e`)
    /// and parses its JSON output; a non-zero exit is an error carrying hmesh's message.
    pub fn hmesh(&self, chain: &str, args: &[&str]) -> Result<Value> {
        let bin = std::env::var("HMESH_BIN")
            .map(PathBuf::from)
            .unwrap_or_else(|_| {
                Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/debug/hmesh")
            });
        let out = Command::new(&bin)
            .args(["--chain", chain, "--keyring-backend", "test", "-o", "json"])
            .args(args)
            .output()
            .with_context(|| format!("running {}", bin.display()))?;
        if !out.status.success() {
            bail!(
                "hmesh {}: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        serde_json::from_slice(&out.stdout).context("hmesh printed no JSON")
    }

    /// A transaction through hmesh: `--from SENDER ARGS…`.
    pub fn hmesh_tx(&self, chain: &str, sender: &str, args: &[&str]) -> Result<Tx> {
        let mut all = vec!["--from", sender];
        all.extend_from_slice(args);
        let json = self.hmesh(chain, &all)?;
        let gas_used = json["gas_used"].as_u64().context("gas_used")?;
        Ok(Tx { json, gas_used })
    }

    /// Execute `msg` on `contract` as `sender`, wait for inclusion, fail on a failed tx.
    pub fn execute(&self, chain: &str, sender: &str, contract: &str, msg: &Value) -> Result<Tx> {
        let msg = msg.to_string();
        let node = self.node(chain);
        let out = self.wasmd(
            chain,
            &[
                "tx",
                "wasm",
                "execute",
                contract,
                &msg,
                "--from",
                sender,
                "--chain-id",
                chain,
                "--node",
                &node,
                "--keyring-backend",
                "test",
                "--gas",
                "auto",
                "--gas-adjustment",
                "1.5",
                "--fees",
                "0ustake",
                "--yes",
                "--output",
                "json",
            ],
        )?;
        let sent: Value = serde_json::from_str(out.lines().last().unwrap_or("{}"))?;
        if sent["code"].as_u64().unwrap_or(0) != 0 {
            bail!("{chain}: tx rejected: {}", sent["raw_log"]);
        }
        let hash = sent["txhash"].as_str().context("txhash")?.to_string();
        self.wait_tx(chain, &hash)
    }

    pub fn wait_tx(&self, chain: &str, hash: &str) -> Result<Tx> {
        let node = self.node(chain);
        let start = Instant::now();
        loop {
            if let Ok(out) = self.wasmd(
                chain,
                &["q", "tx", hash, "--node", &node, "--output", "json"],
            ) {
                let json: Value = serde_json::from_str(&out)?;
                if json["code"].as_u64().unwrap_or(0) != 0 {
                    bail!("{chain}: tx {hash} failed: {}", json["raw_log"]);
                }
                let gas_used = json["gas_used"]
                    .as_str()
                    .and_then(|g| g.parse().ok())
                    .unwrap_or(0);
                return Ok(Tx { json, gas_used });
            }
            if start.elapsed() > Duration::from_secs(60) {
                bail!("{chain}: tx {hash} not included after 60 s");
            }
            sleep(Duration::from_millis(300));
        }
    }

    pub fn query(&self, chain: &str, contract: &str, msg: &Value) -> Result<Value> {
        let node = self.node(chain);
        let out = self.wasmd(
            chain,
            &[
                "q",
                "wasm",
                "contract-state",
                "smart",
                contract,
                &msg.to_string(),
                "--node",
                &node,
                "--output",
                "json",
            ],
        )?;
        let json: Value = serde_json::from_str(&out)?;
        Ok(json["data"].clone())
    }

    /// Transactions on `chain` matching an event query, e.g. `wasm-attestation_received.consent_id='3'`.
    pub fn search_txs(&self, chain: &str, query: &str) -> Result<Vec<Value>> {
        let node = self.node(chain);
        let out = self.wasmd(
            chain,
            &[
                "q", "txs", "--query", query, "--node", &node, "--output", "json",
            ],
        )?;
        let json: Value = serde_json::from_str(&out)?;
        Ok(json["txs"].as_array().cloned().unwrap_or_default())
    }

    /// Poll `check` every 200 ms until it yields a value or `timeout` passes.
    pub fn wait_for<T>(
        &self,
        what: &str,
        timeout: Duration,
        mut check: impl FnMut() -> Result<Option<T>>,
    ) -> Result<T> {
        let start = Instant::now();
        loop {
            if let Some(v) = check()? {
                return Ok(v);
            }
            if start.elapsed() > timeout {
                return Err(anyhow!("timed out after {timeout:?} waiting for {what}"));
            }
            sleep(Duration::from_millis(200));
        }
    }

    /// The attestation channel from `a` to `b` (as seen from `a`).
    pub fn channel(&self, a: &str, b: &str) -> Result<String> {
        for c in self.deployment["channels"].as_array().context("channels")? {
            if c["a_chain"] == a && c["b_chain"] == b {
                return Ok(c["a_channel"].as_str().unwrap_or_default().into());
            }
            if c["b_chain"] == a && c["a_chain"] == b {
                return Ok(c["b_channel"].as_str().unwrap_or_default().into());
            }
        }
        bail!("no channel {a} -> {b}")
    }
}
