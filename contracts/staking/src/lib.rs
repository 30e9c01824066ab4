//! The HealthMesh staking contract: who may attest, and what they lose if they lie.

pub mod contract;
pub mod error;
pub mod msg;
pub mod state;

mod hooks;
mod queries;
mod rewards;

pub use crate::error::ContractError;
