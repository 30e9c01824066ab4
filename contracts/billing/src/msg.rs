//! The billing contract's messages live in `healthmesh-types` so the CLI, gateway and e2e use
//! the very same types.
pub use healthmesh_types::billing::{ExecuteMsg, InstantiateMsg, MigrateMsg, QueryMsg};
