//! The HealthMesh DAO: proposals, votes on stake snapshots, timelock and security council.

pub mod contract;
pub mod error;
pub mod ibc;
pub mod msg;
pub mod state;

mod council;
mod inspect;
mod membership;
mod network;
mod proposal;
mod queries;
mod slashing;
mod voting;

pub use crate::error::ContractError;
