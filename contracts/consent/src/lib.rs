//! The HealthMesh consent contract. See `healthmesh_types::consent` for its messages and the
//! README for its events.

pub mod contract;
pub mod error;
pub mod msg;
pub mod settle;
pub mod state;

mod access;
mod cw721_queries;
mod offers;
mod queries;

pub use crate::error::ContractError;
