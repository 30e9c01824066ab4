//! Global flags and what they resolve to: the chain (from the deployment file or
//! `--node`/`--chain-id`), the keyring, the signing key and the contracts.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{anyhow, bail, Context as _, Result};
use clap::{Args, ValueEnum};
use cosmrs::{AccountId, Any};
use healthmesh_client::keys::Backend;
use healthmesh_client::rpc::TxOptions;
use healthmesh_client::tx::{execute_contract, parse_address};
use healthmesh_client::{
    ChainClient, ChainInfo, Deployment, FeeSetting, GasSetting, Key, Keyring, TxOutcome,
};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::output::{Format, Progress};

#[derive(Args, Debug)]
pub struct GlobalArgs {
    /// Chain of the localnet deployment: genomics, trials or billing (or a full chain id).
    #[arg(long, global = true, env = "HMESH_CHAIN")]
    pub chain: Option<String>,
    /// CometBFT RPC endpoint; overrides the deployment's.
    #[arg(long, global = true, env = "HMESH_NODE")]
    pub node: Option<String>,
    /// Chain id; overrides the deployment's. Signing refuses a node serving another chain.
    #[arg(long, global = true)]
    pub chain_id: Option<String>,
    /// Bech32 account prefix when no deployment names it.
    #[arg(long, global = true, default_value = "wasm")]
    pub prefix: String,
    /// Key name to sign with.
    #[arg(long, global = true, env = "HMESH_FROM")]
    pub from: Option<String>,
    /// Fixed fee, e.g. 5000ustake.
    #[arg(long, global = true, conflicts_with = "gas_prices")]
    pub fees: Option<String>,
    /// Gas price, e.g. 0.025ustake (default: 0 of the chain's denom).
    #[arg(long, global = true)]
    pub gas_prices: Option<String>,
    /// Gas limit, or `auto` to simulate.
    #[arg(long, global = true, default_value = "auto")]
    pub gas: String,
    /// Multiplier on the simulated gas with `--gas auto`.
    #[arg(long, global = true, default_value_t = 1.3)]
    pub gas_adjustment: f64,
    /// Memo (note) of the transaction.
    #[arg(long, global = true, default_value = "")]
    pub note: String,
    /// Seconds to wait for a transaction to be included.
    #[arg(long, global = true, default_value_t = 60)]
    pub timeout: u64,
    /// Output format.
    #[arg(short, long, global = true, value_enum, default_value_t = Format::Text)]
    pub output: Format,
    /// Keyring backend: `file` (encrypted) or `test` (clear text, localnet only).
    #[arg(long, global = true, value_enum, default_value_t = BackendArg::File, env = "HMESH_KEYRING_BACKEND")]
    pub keyring_backend: BackendArg,
    /// Keyring directory (default: ~/.hmesh/keyring-<backend>, or the localnet chain's keys
    /// for `--keyring-backend test --chain …`).
    #[arg(long, global = true, env = "HMESH_KEYRING_DIR")]
    pub keyring_dir: Option<PathBuf>,
    /// File holding the keystore passphrase (else HMESH_PASSPHRASE, else a prompt).
    #[arg(long, global = true)]
    pub passphrase_file: Option<PathBuf>,
    /// Deployment file (default: HMESH_DEPLOYMENT or .localnet/deployment.json).
    #[arg(long, global = true)]
    pub deployment: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BackendArg {
    File,
    Test,
}

impl GlobalArgs {
    pub fn deployment(&self) -> Result<Deployment> {
        let path = self
            .deployment
            .clone()
            .unwrap_or_else(Deployment::default_path);
        Ok(Deployment::load(&path)?)
    }

    /// The chain in use: the deployment's entry for `--chain`, with `--node`/`--chain-id`
    /// overrides, or an ad-hoc chain from `--node` and `--chain-id` alone.
    pub fn chain_info(&self) -> Result<ChainInfo> {
        let mut info = match (&self.chain, &self.node, &self.chain_id) {
            (Some(name), _, _) => self.deployment()?.chain(name)?.clone(),
            (None, Some(node), Some(chain_id)) => ChainInfo {
                chain_id: chain_id.clone(),
                rpc: node.clone(),
                grpc: String::new(),
                api: String::new(),
                denom: "ustake".into(),
                bech32_prefix: self.prefix.clone(),
                home: None,
                accounts: Default::default(),
                code_ids: Default::default(),
                contracts: Default::default(),
            },
            _ => bail!("no chain selected: pass --chain genomics|trials|billing (with a localnet deployment) or --node URL --chain-id ID"),
        };
        if let Some(node) = &self.node {
            info.rpc = node.clone();
        }
        if let Some(chain_id) = &self.chain_id {
            info.chain_id = chain_id.clone();
        }
        Ok(info)
    }

    pub fn keyring(&self) -> Keyring {
        let backend = match self.keyring_backend {
            BackendArg::File => Backend::File,
            BackendArg::Test => Backend::Test,
        };
        let dir = self.keyring_dir.clone().unwrap_or_else(|| {
            let localnet = (backend == Backend::Test)
                .then(|| {
                    self.chain
                        .as_ref()
                        .and_then(|_| self.chain_info().ok()?.home)
                })
                .flatten()
                .map(|home| home.join("keys"));
            localnet
                .unwrap_or_else(|| hmesh_home().join(format!("keyring-{}", backend_name(backend))))
        });
        Keyring::new(dir, backend)
    }

    /// The `--from` key, unlocked (prompting for the passphrase if needed).
    pub fn signer(&self) -> Result<Key> {
        let name = self
            .from
            .as_deref()
            .ok_or_else(|| anyhow!("this command signs: pass --from KEY"))?;
        self.unlock(name)
    }

    /// The key `name` of the keyring, asking for its passphrase if it is encrypted.
    pub fn unlock(&self, name: &str) -> Result<Key> {
        let ring = self.keyring();
        let passphrase = if ring.needs_passphrase(name)? {
            Some(self.passphrase(&format!("unlock key '{name}'"))?)
        } else {
            None
        };
        Ok(ring.get(name, passphrase.as_deref())?)
    }

    pub fn passphrase(&self, purpose: &str) -> Result<String> {
        if let Some(path) = &self.passphrase_file {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            return Ok(text.trim_end_matches(['\r', '\n']).to_string());
        }
        if let Ok(p) = std::env::var("HMESH_PASSPHRASE") {
            return Ok(p);
        }
        if !std::io::stdin().is_terminal() {
            bail!("a passphrase is needed to {purpose}: set HMESH_PASSPHRASE or pass --passphrase-file");
        }
        Ok(rpassword::prompt_password(format!(
            "Passphrase to {purpose}: "
        ))?)
    }
}

fn backend_name(backend: Backend) -> &'static str {
    match backend {
        Backend::File => "file",
        Backend::Test => "test",
    }
}

fn hmesh_home() -> PathBuf {
    std::env::var_os("HMESH_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".hmesh")))
        .unwrap_or_else(|| PathBuf::from(".hmesh"))
}

/// A resolved chain: client, info and the transaction options of the global flags.
pub struct Ctx<'a> {
    pub args: &'a GlobalArgs,
    pub info: ChainInfo,
    pub client: ChainClient,
}

impl<'a> Ctx<'a> {
    pub fn new(args: &'a GlobalArgs) -> Result<Self> {
        let info = args.chain_info()?;
        let client = ChainClient::new(&info.rpc, &info.chain_id, &info.bech32_prefix)?;
        Ok(Ctx { args, info, client })
    }

    pub fn json(&self) -> bool {
        self.args.output == Format::Json
    }

    /// A contract of the deployment by name, or an address given in its place.
    pub fn contract(&self, name: &str) -> Result<AccountId> {
        let address = self.info.contracts.get(name).ok_or_else(|| {
            anyhow!(
                "no {name} contract known for chain {}: use --chain with a localnet deployment",
                self.info.chain_id
            )
        })?;
        self.address(address)
    }

    /// An address, or a role name of the localnet deployment (`patient`, `dao-1`, …).
    pub fn address(&self, name_or_address: &str) -> Result<AccountId> {
        Ok(parse_address(
            &self.info.account(name_or_address),
            &self.info.bech32_prefix,
        )?)
    }

    /// A contract name of the deployment (`consent`) or an address.
    pub fn contract_or_address(&self, name_or_address: &str) -> Result<AccountId> {
        Ok(parse_address(
            &self.info.contract(name_or_address),
            &self.info.bech32_prefix,
        )?)
    }

    pub fn signer(&self) -> Result<Key> {
        self.args.signer()
    }

    pub fn tx_options(&self) -> Result<TxOptions> {
        let a = self.args;
        let fee = match (&a.fees, &a.gas_prices) {
            (Some(fees), _) => FeeSetting::parse_fees(fees)?,
            (None, Some(prices)) => FeeSetting::parse_gas_prices(prices)?,
            (None, None) => FeeSetting::GasPrices {
                price: 0.0,
                denom: self.info.denom.clone(),
            },
        };
        Ok(TxOptions {
            gas: GasSetting::parse(&a.gas, a.gas_adjustment)?,
            fee,
            memo: a.note.clone(),
            timeout: Duration::from_secs(a.timeout),
        })
    }

    /// Signs `msg` to `contract` with `--from`, broadcasts and waits for inclusion.
    pub async fn execute<M: Serialize>(
        &self,
        contract: &AccountId,
        msg: &M,
        funds: Vec<cosmrs::Coin>,
    ) -> Result<TxOutcome> {
        let key = self.signer()?;
        let sender = parse_address(
            &key.address(&self.info.bech32_prefix)?,
            &self.info.bech32_prefix,
        )?;
        let any = execute_contract(&sender, contract, msg, funds)?;
        self.broadcast(&key, vec![any]).await
    }

    pub async fn broadcast(&self, key: &Key, msgs: Vec<Any>) -> Result<TxOutcome> {
        let options = self.tx_options()?;
        let progress = Progress::new(self.json(), "preparing transaction");
        let outcome = async {
            self.client.ensure_chain_id().await?;
            self.client
                .sign_and_broadcast(key, msgs, &options, &|step| progress.set(step))
                .await
        }
        .await;
        progress.finish();
        Ok(outcome?)
    }

    pub async fn query<Q: Serialize, R: DeserializeOwned>(
        &self,
        contract: &AccountId,
        msg: &Q,
    ) -> Result<R> {
        Ok(self.client.smart(contract.as_ref(), msg).await?)
    }

    pub fn coin(&self, amount: u128) -> Result<cosmrs::Coin> {
        Ok(cosmrs::Coin {
            denom: self
                .info
                .denom
                .parse()
                .map_err(|e: cosmrs::ErrorReport| anyhow!("{e}"))?,
            amount,
        })
    }
}
