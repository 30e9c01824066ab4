//! Chain client shared by HealthMesh's tools (the `hmesh` CLI, the research gateway, the e2e):
//! the localnet deployment file, a keyring, transactions signed with cosmrs
//! (SIGN_MODE_DIRECT) and broadcast over tendermint-rpc, and contract queries.
//!
//! Everything here talks to a node's CometBFT RPC port only: account lookups, simulation and
//! contract queries go through `abci_query` with the SDK's gRPC method paths, so one URL per
//! chain is enough.

pub mod deployment;
pub mod error;
pub mod events;
pub mod fees;
pub mod keys;
pub mod market;
pub mod rpc;
pub mod telemetry;
pub mod tx;
pub mod wallet;

pub use deployment::{ChainInfo, Deployment};
pub use error::ClientError;
pub use events::{Event, TxOutcome};
pub use fees::{FeeSetting, GasSetting};
pub use keys::{Key, Keyring};
pub use rpc::{ChainClient, TxOptions};
pub use wallet::{localnet_options, Wallet};
