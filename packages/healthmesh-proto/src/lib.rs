//! Protobuf types of HealthMesh, generated from `proto/` at build time.
#![no_std]

/// `healthmesh.attest.v2`: the IBC packets between attestation contracts.
pub mod attest {
    #[allow(clippy::large_enum_variant, clippy::doc_lazy_continuation)]
    pub mod v2 {
        include!(concat!(env!("OUT_DIR"), "/healthmesh.attest.v2.rs"));
    }
}
