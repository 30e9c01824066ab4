//! The localnet's deployment file (`.localnet/deployment.json`): chains, endpoints, role
//! accounts, code ids, contract addresses, IBC connections and channels, the relayer. This
//! type is the file's one schema: `hm-localnet` writes it, and the CLI, the gateway and the
//! e2e read it only through this type.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use healthmesh_types::attestation::{CHANNEL_VERSION, URGENT_CHANNEL_VERSION};
use serde::{Deserialize, Serialize};

use crate::error::{ClientError, Result};

/// The names under which the deployment records each chain's contracts.
pub mod contract {
    pub const GOVERNANCE: &str = "governance";
    pub const STAKING: &str = "staking";
    pub const CONSENT: &str = "consent";
    pub const ATTESTATION: &str = "attestation";
    /// On the billing chain only.
    pub const BILLING: &str = "billing";
    /// On the trials chain only.
    pub const TRIALS: &str = "trials";
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChainInfo {
    pub chain_id: String,
    pub rpc: String,
    #[serde(default)]
    pub grpc: String,
    #[serde(default)]
    pub api: String,
    pub denom: String,
    pub bech32_prefix: String,
    /// The chain's home directory; its `keys/` holds the localnet's test-keyring files.
    #[serde(default)]
    pub home: Option<PathBuf>,
    #[serde(default)]
    pub accounts: BTreeMap<String, String>,
    /// Code ids by contract name, as stored at deployment.
    #[serde(default)]
    pub code_ids: BTreeMap<String, u64>,
    /// Contract addresses by name (see [`contract`]).
    #[serde(default)]
    pub contracts: BTreeMap<String, String>,
}

/// An IBC connection between two chains, with its id on each end.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnectionInfo {
    pub a_chain: String,
    pub b_chain: String,
    pub a_connection: String,
    pub b_connection: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChannelInfo {
    pub a_chain: String,
    pub b_chain: String,
    pub a_channel: String,
    pub b_channel: String,
    #[serde(default)]
    pub version: String,
}

/// The relayer the localnet runs: its binary, config and log.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RelayerInfo {
    pub binary: PathBuf,
    pub config: PathBuf,
    pub log: PathBuf,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Deployment {
    pub chains: BTreeMap<String, ChainInfo>,
    #[serde(default)]
    pub connections: Vec<ConnectionInfo>,
    #[serde(default)]
    pub channels: Vec<ChannelInfo>,
    /// The Groth16 verifying key's id (hex SHA-256 of its bytes) every chain trusts.
    #[serde(default)]
    pub circuit_id: Option<String>,
    #[serde(default)]
    pub relayer: Option<RelayerInfo>,
    /// The relayer of the urgent lane's channels.
    #[serde(default)]
    pub urgent_relayer: Option<RelayerInfo>,
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

    /// Writes the file atomically (temporary file, then rename), so a reader never sees half.
    pub fn save(&self, path: &Path) -> Result<()> {
        let io = |source| ClientError::Io {
            path: path.display().to_string(),
            source,
        };
        let text = serde_json::to_string_pretty(self).expect("a deployment serializes") + "\n";
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, text).map_err(io)?;
        std::fs::rename(&tmp, path).map_err(io)
    }

    pub fn parse(text: &str, what: &str) -> Result<Self> {
        serde_json::from_str(text).map_err(|source| {
            // localnet.py (before hm-localnet) wrote connections as a map.
            let legacy = serde_json::from_str::<serde_json::Value>(text)
                .is_ok_and(|v| v["connections"].is_object());
            ClientError::Json {
                what: if legacy {
                    format!("{what} (written by the retired localnet.py: run `make localnet-reset`, then `make localnet`)")
                } else {
                    what.to_string()
                },
                source,
            }
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

    /// The connection id on `from` that leads to `to`, if the deployment made one.
    pub fn connection(&self, from: &str, to: &str) -> Option<String> {
        self.connections.iter().find_map(|c| {
            if c.a_chain == from && c.b_chain == to {
                Some(c.a_connection.clone())
            } else if c.b_chain == from && c.a_chain == to {
                Some(c.b_connection.clone())
            } else {
                None
            }
        })
    }

    /// The bulk-lane attestation channel on `from` that leads to `to`, if the deployment
    /// opened one.
    pub fn channel(&self, from: &str, to: &str) -> Option<String> {
        self.lane_channel(from, to, CHANNEL_VERSION)
    }

    /// The urgent-lane attestation channel on `from` that leads to `to`.
    pub fn urgent_channel(&self, from: &str, to: &str) -> Option<String> {
        self.lane_channel(from, to, URGENT_CHANNEL_VERSION)
    }

    /// The settlement channel (billing contract ↔ consent contract) on `from` to `to`.
    pub fn settle_channel(&self, from: &str, to: &str) -> Option<String> {
        self.lane_channel(from, to, healthmesh_types::settle::SETTLE_CHANNEL_VERSION)
    }

    /// The chain that hosts the billing contract, if one is deployed.
    pub fn billing_chain(&self) -> Option<&ChainInfo> {
        self.chains
            .values()
            .find(|c| c.contracts.contains_key(contract::BILLING))
    }

    /// The channel of `version` on `from` to `to` (files written before lanes existed have
    /// no version: their channels are the bulk lane).
    fn lane_channel(&self, from: &str, to: &str, version: &str) -> Option<String> {
        let of_lane = |c: &&ChannelInfo| {
            c.version == version || (c.version.is_empty() && version == CHANNEL_VERSION)
        };
        self.channels.iter().filter(of_lane).find_map(|c| {
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
    fn lanes_are_told_apart_by_channel_version() {
        let mut d = Deployment::parse(SAMPLE, "sample").unwrap();
        assert_eq!(d.urgent_channel("genomics-1", "trials-1"), None);
        d.channels.push(ChannelInfo {
            a_chain: "genomics-1".into(),
            b_chain: "trials-1".into(),
            a_channel: "channel-4".into(),
            b_channel: "channel-5".into(),
            version: URGENT_CHANNEL_VERSION.into(),
        });
        assert_eq!(
            d.urgent_channel("trials-1", "genomics-1").as_deref(),
            Some("channel-5")
        );
        assert_eq!(
            d.channel("genomics-1", "trials-1").as_deref(),
            Some("channel-0"),
            "the versionless (older) channel is the bulk lane"
        );
    }

    #[test]
    fn saved_file_reads_back_equal() {
        let mut d = Deployment::parse(SAMPLE, "sample").unwrap();
        d.connections.push(ConnectionInfo {
            a_chain: "genomics-1".into(),
            b_chain: "trials-1".into(),
            a_connection: "connection-0".into(),
            b_connection: "connection-2".into(),
        });
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("deployment.json");
        d.save(&path).unwrap();
        let back = Deployment::load(&path).unwrap();
        assert_eq!(back.channels, d.channels);
        assert_eq!(back.connections, d.connections);
        assert_eq!(
            back.connection("trials-1", "genomics-1").as_deref(),
            Some("connection-2")
        );
        assert_eq!(
            back.chain("genomics").unwrap().contract("consent"),
            "wasm1c"
        );
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
    fn a_file_of_the_retired_python_localnet_says_to_reset() {
        let old = r#"{"chains": {}, "connections": {"genomics-1/trials-1": {"genomics-1": "connection-0"}}}"#;
        let err = Deployment::parse(old, "d.json").unwrap_err().to_string();
        assert!(err.contains("make localnet-reset"), "{err}");
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
