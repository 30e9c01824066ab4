//! The HealthMesh billing contract (billing-1). See `healthmesh_types::billing` for its
//! messages and the README for its events and invariants.

pub mod contract;
pub mod error;
pub mod ibc;
pub mod msg;
pub mod state;

mod budgets;
mod ledger;
mod queries;
pub mod split;

pub use crate::error::ContractError;
