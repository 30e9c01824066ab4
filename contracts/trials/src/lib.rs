//! The HealthMesh trials contract (trials-1). See `healthmesh_types::trials` for its messages
//! and the README for its events.

pub mod contract;
pub mod error;
pub mod ibc;
pub mod msg;
pub mod state;

mod eligibility;
mod enrollment;
mod milestones;
mod queries;
mod registry;

pub use crate::error::ContractError;
