//! The HealthMesh contracts' interface: every contract's messages and responses (so no caller
//! re-declares them), the pausable interface, and the event names other crates read. The
//! shared behaviour (pausable mechanism, validation, pagination, migration rule) lives in
//! `healthmesh-controllers`.

pub mod attestation;
pub mod billing;
pub mod consent;
pub mod events;
pub mod governance;
pub mod ibc;
pub mod network;
pub mod pause;
pub mod settle;
pub mod staking;
pub mod trial_pay;
pub mod trials;
