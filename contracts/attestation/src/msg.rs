//! The attestation contract's messages live in `healthmesh-types`; its IBC packets are the
//! protobuf types of `healthmesh-proto` (see `proto/`).
pub use healthmesh_types::attestation::{ExecuteMsg, InstantiateMsg, MigrateMsg, QueryMsg};
