//! The localnet as the e2e sees it: the deployment (read through the client's `Deployment`
//! type), typed contract executes and queries through `healthmesh-client`, and the `hmesh`
//! CLI as a user runs it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::thread::sleep;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use healthmesh_client::keys::{generate_mnemonic, Backend, Keyring};
use healthmesh_client::{
    localnet_options, tx, ChainClient, ChainInfo, Deployment, TxOutcome, Wallet,
};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

pub struct Net {
    pub deployment: Deployment,
    pub root: PathBuf,
    /// This run's own patient on the source chain (a key made for the run), so a rerun on
    /// the same localnet starts from a patient with no consents.
    pub patient: String,
    rt: tokio::runtime::Runtime,
}

impl Net {
    pub fn load() -> Result<Self> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let deployment = Deployment::load(&root.join(".localnet/deployment.json"))?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let mut net = Net {
            deployment,
            root,
            patient: String::new(),
            rt,
        };
        net.patient = net.fresh_account(crate::steps::SOURCE, "patient")?;
        Ok(net)
    }

    /// A new key `<role>-<random>` in the chain's test keyring (where `hmesh` finds it),
    /// funded by the validator so it exists on chain; returns its key name.
    pub fn fresh_account(&mut self, chain: &str, role: &str) -> Result<String> {
        self.fresh_account_on(&[chain], role)
    }

    /// One new key in the test keyring of each of `chains` (the same mnemonic, so the same
    /// account bytes everywhere), funded on each; returns its key name.
    pub fn fresh_account_on(&mut self, chains: &[&str], role: &str) -> Result<String> {
        let name = format!("{role}-{}", &hex::encode(rand::random::<[u8; 4]>()));
        let mnemonic = generate_mnemonic();
        for chain in chains {
            let info = self.info(chain)?.clone();
            let ring = Keyring::new(
                info.home.clone().context("no chain home")?.join("keys"),
                Backend::Test,
            );
            let key = ring.add(&name, &mnemonic, None, &info.bech32_prefix)?;
            let client = self.client(chain)?;
            let funder = Wallet::new(
                &client,
                info.test_key("validator")?,
                localnet_options(&info.denom),
            )?;
            let to = tx::parse_address(&key.address, &info.bech32_prefix)?;
            let send = tx::bank_send(
                &funder.address,
                &to,
                vec![tx::coin(10_000_000, &info.denom)?],
            )?;
            self.rt.block_on(funder.submit(vec![send]))?;
            self.deployment
                .chains
                .get_mut(*chain)
                .expect("checked")
                .accounts
                .insert(name.clone(), key.address);
        }
        Ok(name)
    }

    pub fn info(&self, chain: &str) -> Result<&ChainInfo> {
        Ok(self.deployment.chain(chain)?)
    }

    /// A fresh client per call: the steps leave a chain idle for tens of seconds, and a
    /// pooled connection the node has closed meanwhile fails the next request.
    fn client(&self, chain: &str) -> Result<ChainClient> {
        let info = self.info(chain)?;
        Ok(ChainClient::new(
            &info.rpc,
            &info.chain_id,
            &info.bech32_prefix,
        )?)
    }

    /// A contract's address by its deployment name (`consent`, `attestation`, …).
    pub fn contract(&self, chain: &str, name: &str) -> Result<String> {
        self.info(chain)?
            .contracts
            .get(name)
            .cloned()
            .with_context(|| format!("{chain}: no {name} contract"))
    }

    /// A localnet role's address (`patient`, `researcher`, …).
    pub fn account(&self, chain: &str, role: &str) -> Result<String> {
        self.info(chain)?
            .accounts
            .get(role)
            .cloned()
            .with_context(|| format!("{chain}: no {role} account"))
    }

    /// The attestation channel on `a` that leads to `b`.
    pub fn channel(&self, a: &str, b: &str) -> Result<String> {
        self.deployment
            .channel(a, b)
            .with_context(|| format!("no channel {a} -> {b}"))
    }

    /// Executes the contract's own message as `role`; waits for the block; a failed tx is an error.
    pub fn execute<M: Serialize>(
        &self,
        chain: &str,
        role: &str,
        contract: &str,
        msg: &M,
    ) -> Result<TxOutcome> {
        self.execute_all(chain, role, contract, std::slice::from_ref(msg), 0)
    }

    /// Executes several messages in one transaction, each with `funds` of the chain's denom
    /// attached (0: none).
    pub fn execute_all<M: Serialize>(
        &self,
        chain: &str,
        role: &str,
        contract: &str,
        msgs: &[M],
        funds: u128,
    ) -> Result<TxOutcome> {
        let address = self.contract(chain, contract)?;
        self.execute_on(chain, role, &address, msgs, funds)
    }

    /// [`execute_all`](Self::execute_all) on a contract by address.
    pub fn execute_on<M: Serialize>(
        &self,
        chain: &str,
        role: &str,
        contract: &str,
        msgs: &[M],
        funds: u128,
    ) -> Result<TxOutcome> {
        let info = self.info(chain)?;
        let client = self.client(chain)?;
        let wallet = Wallet::new(&client, info.test_key(role)?, localnet_options(&info.denom))?;
        let address = tx::parse_address(contract, &info.bech32_prefix)?;
        let coins = match funds {
            0 => vec![],
            n => vec![tx::coin(n, &info.denom)?],
        };
        let msgs = msgs
            .iter()
            .map(|m| tx::execute_contract(&wallet.address, &address, m, coins.clone()))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        self.rt
            .block_on(wallet.submit(msgs))
            .with_context(|| format!("{chain}: {role} executing on {contract}"))
    }

    /// Stores and instantiates `wasm` (message `{}`) as `role`; returns the address.
    pub fn deploy(&self, chain: &str, role: &str, wasm: Vec<u8>, label: &str) -> Result<String> {
        let info = self.info(chain)?;
        let client = self.client(chain)?;
        let wallet = Wallet::new(&client, info.test_key(role)?, localnet_options(&info.denom))?;
        self.rt.block_on(async {
            let code_id = wallet.store_code(wasm).await?;
            let at = tx::Instantiation {
                code_id,
                label,
                admin: None,
            };
            Ok(wallet.instantiate(&at, &serde_json::json!({})).await?)
        })
    }

    /// The chain-denom balance of `address`.
    pub fn balance(&self, chain: &str, address: &str) -> Result<u128> {
        let denom = &self.info(chain)?.denom;
        Ok(self
            .rt
            .block_on(self.client(chain)?.balance(address, denom))?)
    }

    /// A smart query with the contract's own query and response types.
    pub fn query<Q: Serialize, R: DeserializeOwned>(
        &self,
        chain: &str,
        contract: &str,
        msg: &Q,
    ) -> Result<R> {
        let address = self.contract(chain, contract)?;
        self.query_address(chain, &address, msg)
    }

    /// A smart query of the contract at `address`.
    pub fn query_address<Q: Serialize, R: DeserializeOwned>(
        &self,
        chain: &str,
        address: &str,
        msg: &Q,
    ) -> Result<R> {
        Ok(self.rt.block_on(self.client(chain)?.smart(address, msg))?)
    }

    /// Committed transactions with an event attribute `key` (`wasm-x.y`) equal to `value`.
    pub fn search_txs(&self, chain: &str, key: &str, value: &str) -> Result<Vec<TxOutcome>> {
        Ok(self
            .rt
            .block_on(self.client(chain)?.search_txs(key, value))?)
    }

    /// A block's time in seconds since the epoch (from the chain, not this machine's clock).
    pub fn block_time(&self, chain: &str, height: u64) -> Result<f64> {
        use tendermint_rpc::Client as _;
        let height = tendermint::block::Height::try_from(height)?;
        let block = self.rt.block_on(self.client(chain)?.http().block(height))?;
        let time = block.block.header.time.unix_timestamp_nanos();
        Ok(time as f64 / 1e9)
    }

    /// A watcher of the chain's last committed block height (its state is queryable), on one
    /// connection, for polling many times a second.
    pub fn height_watch(&self, chain: &str) -> Result<impl FnMut() -> Result<u64> + '_> {
        let client = self.client(chain)?;
        Ok(move || Ok(self.rt.block_on(client.status())?.height))
    }

    /// Runs `hmesh --chain CHAIN --keyring-backend test -o json ARGS…` (built by `make e2e`)
    /// and parses its JSON output; a non-zero exit is an error carrying hmesh's message.
    pub fn hmesh(&self, chain: &str, args: &[&str]) -> Result<Value> {
        let bin = std::env::var("HMESH_BIN")
            .map(PathBuf::from)
            .unwrap_or_else(|_| self.root.join("target/debug/hmesh"));
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
    pub fn hmesh_tx(&self, chain: &str, sender: &str, args: &[&str]) -> Result<TxOutcome> {
        let mut all = vec!["--from", sender];
        all.extend_from_slice(args);
        let json = self.hmesh(chain, &all)?;
        serde_json::from_value(json).context("hmesh printed no transaction")
    }
}

/// Polls `check` every 200 ms until it yields a value or `timeout` passes.
pub fn wait_for<T>(
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
