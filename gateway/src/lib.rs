//! `hmesh-gateway`: researchers' gRPC queries answered from on-chain attestations under
//! consent, from an index the gateway keeps of the HealthMesh chains. It never sees raw
//! records: the chains hold none.

pub mod admission;
pub mod index;
pub mod indexer;
pub mod metrics;
pub mod rows;
pub mod server;
pub mod service;
pub mod store;
