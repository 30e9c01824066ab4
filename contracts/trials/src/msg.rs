//! The trials contract's messages live in `healthmesh-types` so the CLI and e2e use the very
//! same types.
pub use healthmesh_types::trials::{ExecuteMsg, InstantiateMsg, MigrateMsg, QueryMsg};
