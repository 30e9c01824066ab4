//! Protobuf types of HealthMesh, generated from `proto/` at build time.
#![no_std]

/// `healthmesh.attest.v1`: the IBC packets between attestation contracts.
pub mod attest {
    #[allow(clippy::large_enum_variant, clippy::doc_lazy_continuation)]
    pub mod v1 {
        include!(concat!(env!("OUT_DIR"), "/healthmesh.attest.v1.rs"));
    }
}
