//! Where everything of the localnet lives: chains, ports, roles, files under `.localnet/`.

use std::path::{Path, PathBuf};

use healthmesh_types::attestation::Lane;

pub const CHAINS: [&str; 3] = ["genomics-1", "trials-1", "billing-1"];
pub const DENOM: &str = "ustake";
pub const PREFIX: &str = "wasm";
/// CometBFT's wait after a commit: with one validator, about the block time. 500 ms, as
/// production Cosmos chains run 0.4–0.65 s blocks (relayer-config/README.md has the figures).
pub const TIMEOUT_COMMIT: &str = "500ms";
/// x/gov on the localnet: proposals (pinning the contracts at deployment) pass in seconds.
pub const GOV_VOTING_PERIOD: &str = "4s";
pub const GOV_EXPEDITED_VOTING_PERIOD: &str = "2s";
pub const GOV_DEPOSIT: u128 = 1_000;
/// Every chain's funded test accounts, by role.
pub const BASE_ROLES: [&str; 9] = [
    "validator",
    "relayer",
    // The urgent lane's relayer: its own account, so its txs never wait on the bulk
    // relayer's account sequence.
    "relayer-urgent",
    "custodian",
    "patient",
    "researcher",
    "dao-1",
    "dao-2",
    "dao-3",
];
pub const COUNCIL_SIZE: usize = 12;
pub const COUNCIL_THRESHOLD: u32 = 8;
/// The deterministic (insecure, localnet-only) seed of the predicate circuit's keys.
pub const PROOF_SEED: &str = "healthmesh-localnet";
/// The least relayer fee of a send on the urgent lane (ustake), set at deployment; the DAO
/// changes it with `set_urgent_fee`.
pub const URGENT_FEE: u128 = 5_000;
/// The `instantiate2` salt of every chain's attestation contract.
pub const ATTESTATION_SALT: &[u8] = b"healthmesh-attestation-v2";
/// The consent contracts and the billing contract are bound to each other's ports at
/// instantiation, so both sit at predicted `instantiate2` addresses too.
pub const CONSENT_SALT: &[u8] = b"healthmesh-consent-v3";
pub const BILLING_SALT: &[u8] = b"healthmesh-billing-v1";
pub const TRIALS_SALT: &[u8] = b"healthmesh-trials-v1";
/// The governance contracts trust each other's ports from instantiation.
pub const GOVERNANCE_SALT: &[u8] = b"healthmesh-governance-v1";
/// The settlement layer: the chain that hosts the billing contract.
pub const BILLING_CHAIN: &str = "billing-1";
/// The chain that hosts the trials contract.
pub const TRIALS_CHAIN: &str = "trials-1";
/// The market at deployment (the DAO changes it with `update_market`): 80 % to the patient,
/// 10 % custodian, 7 % treasury, 3 % relayer; at least 1,000 ustake per purchase.
pub const SPLIT: healthmesh_types::billing::RevenueSplit =
    healthmesh_types::billing::RevenueSplit {
        patient_bps: 8_000,
        custodian_bps: 1_000,
        treasury_bps: 700,
        relayer_bps: 300,
    };
pub const PRICE_FLOOR: u128 = 1_000;

pub fn roles() -> Vec<String> {
    BASE_ROLES
        .iter()
        .map(|r| r.to_string())
        .chain((1..=COUNCIL_SIZE).map(|i| format!("council-{i}")))
        .collect()
}

/// Chain pairs that get a connection and an attestation channel, the smaller chain id first
/// (the attestation contracts let only that side open a channel).
pub fn pairs() -> Vec<(&'static str, &'static str)> {
    let mut pairs = vec![];
    for (i, a) in CHAINS.iter().enumerate() {
        for b in &CHAINS[i + 1..] {
            pairs.push(if a < b { (*a, *b) } else { (*b, *a) });
        }
    }
    pairs
}

#[derive(Debug, Clone, Copy)]
pub struct Ports {
    pub rpc: u16,
    pub p2p: u16,
    pub grpc: u16,
    pub api: u16,
    pub pprof: u16,
}

pub fn ports(chain: &str) -> Ports {
    let offset = 100 * CHAINS.iter().position(|c| *c == chain).unwrap_or(0) as u16;
    Ports {
        rpc: 26657 + offset,
        p2p: 26656 + offset,
        grpc: 9090 + offset,
        api: 1317 + offset,
        pprof: 6060 + offset,
    }
}

/// The repository and the localnet's state directory (`LOCALNET_HOME`, default `.localnet/`).
#[derive(Debug, Clone)]
pub struct Layout {
    pub root: PathBuf,
    pub home: PathBuf,
}

impl Layout {
    pub fn from_env() -> Self {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("localnet/ sits in the repository")
            .to_path_buf();
        let home = std::env::var_os("LOCALNET_HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| root.join(".localnet"));
        Layout { root, home }
    }

    pub fn chain_home(&self, chain: &str) -> PathBuf {
        self.home.join(chain)
    }

    pub fn deployment(&self) -> PathBuf {
        self.home.join("deployment.json")
    }

    pub fn proof_keys(&self) -> PathBuf {
        self.home.join("proof-keys")
    }

    pub fn hermes_dir(&self) -> PathBuf {
        self.home.join("hermes")
    }

    /// The files of the Hermes instance relaying `lane` (bulk: `config.toml`, `hermes.log`,
    /// …; urgent: `urgent.toml`, `urgent.log`, …).
    pub fn hermes_config(&self, lane: Lane) -> PathBuf {
        self.hermes_dir().join(match lane {
            Lane::Bulk => "config.toml",
            Lane::Urgent => "urgent.toml",
        })
    }

    pub fn hermes_pid(&self, lane: Lane) -> PathBuf {
        self.hermes_dir().join(match lane {
            Lane::Bulk => "hermes.pid",
            Lane::Urgent => "urgent.pid",
        })
    }

    pub fn hermes_log(&self, lane: Lane) -> PathBuf {
        self.hermes_dir().join(match lane {
            Lane::Bulk => "hermes.log",
            Lane::Urgent => "urgent.log",
        })
    }

    pub fn node_pid(&self, chain: &str) -> PathBuf {
        self.chain_home(chain).join("node.pid")
    }

    pub fn artifact(&self, contract: &str) -> PathBuf {
        self.root
            .join("artifacts")
            .join(format!("healthmesh_{contract}.wasm"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_cover_every_chain_pair_once_smaller_id_first() {
        let pairs = pairs();
        assert_eq!(pairs.len(), 3);
        for (a, b) in &pairs {
            assert!(a < b, "{a} {b}");
        }
        assert!(pairs.contains(&("billing-1", "genomics-1")));
    }

    #[test]
    fn ports_do_not_collide_between_chains() {
        let mut all: Vec<u16> = CHAINS
            .iter()
            .flat_map(|c| {
                let p = ports(c);
                [p.rpc, p.p2p, p.grpc, p.api, p.pprof]
            })
            .collect();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), 15);
    }

    #[test]
    fn twelve_council_members_and_the_base_roles() {
        let roles = roles();
        assert_eq!(roles.len(), BASE_ROLES.len() + COUNCIL_SIZE);
        assert!(roles.contains(&"council-12".to_string()));
    }
}
