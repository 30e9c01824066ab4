//! The consent contract's messages live in `healthmesh-types` so the CLI, gateway and other
//! contracts use the very same types.
pub use healthmesh_types::consent::{ExecuteMsg, InstantiateMsg, MigrateMsg, QueryMsg};
