//! The staking contract's messages live in `healthmesh-types` so governance, the CLI and
//! the attestation contract use the very same types.
pub use healthmesh_types::staking::{ExecuteMsg, InstantiateMsg, MigrateMsg, QueryMsg};
