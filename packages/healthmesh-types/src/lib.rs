//! Types shared by the HealthMesh contracts, the CLI and the gateway: every contract's
//! messages (so no caller re-declares them), input validation, pagination rules and the
//! pausable mechanism that governance and its security council drive.

pub mod attestation;
pub mod consent;
pub mod events;
pub mod governance;
pub mod migrate;
pub mod pagination;
pub mod pause;
pub mod staking;
pub mod validate;
