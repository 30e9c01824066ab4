//! The researchers' gRPC API of the HealthMesh gateway (generated from
//! `proto/healthmesh/research/v1/research.proto` with tonic-prost-build and protox) and the
//! request-signing scheme shared by the gateway and its clients (see [`auth`]).

pub mod auth;

pub mod pb {
    tonic::include_proto!("healthmesh.research.v1");
}

/// A bare echo service, the baseline of the gateway's benchmark (not part of the API).
pub mod bench_pb {
    tonic::include_proto!("healthmesh.bench.v1");
}

/// The encoded descriptor set of the API, for gRPC reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/research_descriptor.bin"));

/// Fully qualified service name, as health checks and reflection name it.
pub const SERVICE_NAME: &str = "healthmesh.research.v1.ResearchService";
