//! The governance contract's messages live in `healthmesh-types` so the CLI and other
//! contracts use the very same types.
pub use healthmesh_types::governance::{ExecuteMsg, InstantiateMsg, MigrateMsg, QueryMsg};
