//! Behaviour the HealthMesh contracts share, beside the interface types of
//! `healthmesh-types` (as cw-plus keeps `cw-controllers` beside its spec crates): the
//! pausable mechanism, the storage-layout migration rule, input validation and pagination.

pub mod channels;
pub mod identity;
pub mod migrate;
pub mod pagination;
pub mod pause;
pub mod validate;
