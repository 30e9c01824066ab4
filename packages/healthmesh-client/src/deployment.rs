//! The localnet's deployment file (`.localnet/deployment.json`, written by `make localnet`):
//! chains, endpoints, role accounts and contract addresses, so tools need no addresses typed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{ClientError, Result};

#[derive(Debug, Clone, Deserialize)]
pub struct ChainInfo {
    pub chain_id: String,
    pub rpc: String,
    #[serde(default)]
    pub grpc: String,
    pub denom: String,
    pub bech32_prefix: String,
    /// The chain's home directory; its `keys/` holds the localnet's test-keyring files.
    #[serde(default)]
    pub home: Option<PathBuf>,
    #[serde(default)]
    pub accounts: BTreeMap<String, String>,
    #[serde(default)]
    pub contracts: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ChannelInfo {
    pub a_chain: String,
    pub b_chain: String,
    pub a_channel: String,
    pub b_channel: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Deployment {
    pub chains: BTreeMap<String, ChainInfo>,
    #[serde(default)]
    pub channels: Vec<ChannelInfo>,
    #[serde(default)]
    pub circuit_id: Option<String>,
}

impl Deployment {
    /// `HMESH_DEPLOYMENT`, else `.localnet/deployment.json` in this or a parent directory.
    pub fn default_path() -> PathBuf {
        if let Ok(path) = std::env::var("HMESH_DEPLOYMENT") {
            return PathBuf::from(path);
        }
        let relative = Path::new(".localnet").join("deployment.json");
        let mut dir = std::env::current_dir().ok();
        while let Some(d) = dir {
            if d.join(&relative).exists() {
                return d.join(&relative);
            }
            dir = d.parent().map(Path::to_path_buf);
        }
        relative
    }

    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|source| ClientError::Io {
            path: format!(
                "deployment file {} (run `make localnet` first)",
                path.display()
            ),
            source,
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    pub fn parse(text: &str, what: &str) -> Result<Self> {
        serde_json::from_str(text).map_err(|source| ClientError::Json {
            what: what.to_string(),
            source,
        })
    }

    /// A chain by id (`genomics-1`) or by its short name (`genomics`).
    pub fn chain(&self, name: &str) -> Result<&ChainInfo> {
        self.chains
            .get(name)
            .or_else(|| {
                self.chains
                    .iter()
                    .find(|(id, _)| id.rsplit_once('-').map(|(short, _)| short) == Some(name))
                    .map(|(_, info)| info)
            })
            .ok_or_else(|| {
                let known: Vec<&str> = self.chains.keys().map(String::as_str).collect();
                ClientError::UnknownChain(name.to_string(), known.join(", "))
            })
    }

    /// The channel on `from` that leads to `to`, if the deployment opened one.
    pub fn channel(&self, from: &str, to: &str) -> Option<String> {
        self.channels.iter().find_map(|c| {
            if c.a_chain == from && c.b_chain == to {
                Some(c.a_channel.clone())
            } else if c.b_chain == from && c.a_chain == to {
                Some(c.b_channel.clone())
            } else {
                None
            }
        })
    }
}

impl ChainInfo {
    /// Resolves a contract name from the deployment (`consent`) or passes an address through.
    pub fn contract(&self, name_or_address: &str) -> String {
        self.contracts
            .get(name_or_address)
            .cloned()
            .unwrap_or_else(|| name_or_address.to_string())
    }

    /// Resolves a role account name (`patient`) or passes an address through.
    pub fn account(&self, name_or_address: &str) -> String {
        self.accounts
            .get(name_or_address)
            .cloned()
            .unwrap_or_else(|| name_or_address.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"{"chains": {"genomics-1": {"chain_id": "genomics-1",
        "rpc": "http://127.0.0.1:26657", "denom": "ustake", "bech32_prefix": "wasm",
        "accounts": {"patient": "wasm1p"}, "contracts": {"consent": "wasm1c"}}},
        "channels": [{"a_chain": "genomics-1", "b_chain": "trials-1", "a_channel": "channel-0",
        "b_channel": "channel-3"}]}"#;

    #[test]
    fn resolves_short_names_contracts_and_channels() {
        let d = Deployment::parse(SAMPLE, "sample").unwrap();
        assert_eq!(d.chain("genomics").unwrap().chain_id, "genomics-1");
        assert_eq!(d.chain("genomics-1").unwrap().contract("consent"), "wasm1c");
        assert_eq!(d.chain("genomics").unwrap().contract("wasm1x"), "wasm1x");
        assert_eq!(d.chain("genomics").unwrap().account("patient"), "wasm1p");
        assert_eq!(
            d.channel("trials-1", "genomics-1").as_deref(),
            Some("channel-3")
        );
        assert_eq!(d.channel("genomics-1", "billing-1"), None);
    }

    #[test]
    fn unknown_chain_names_the_known_ones() {
        let d = Deployment::parse(SAMPLE, "sample").unwrap();
        let err = d.chain("billing").unwrap_err().to_string();
        assert!(
            err.contains("unknown chain 'billing'") && err.contains("genomics-1"),
            "{err}"
        );
    }

    #[test]
    fn malformed_file_is_a_json_error() {
        let err = Deployment::parse("{\"chains\": 3}", "x.json").unwrap_err();
        assert!(
            err.to_string().starts_with("x.json is not valid JSON"),
            "{err}"
        );
    }
}
