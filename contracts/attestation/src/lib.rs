//! The HealthMesh attestation contract: zk-verified facts about committed health attributes,
//! recorded under consent and carried over IBC — never the data itself.

pub mod contract;
pub mod error;
pub mod ibc;
pub mod msg;
pub mod state;

mod anchor;
mod event;
mod fees;
mod packet;
mod policy;
mod queries;
mod revocation;
mod send;
mod submit;
mod validity;
mod verify;

pub use crate::error::ContractError;

#[cfg(test)]
mod ibc_tests;
