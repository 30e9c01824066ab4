//! Generates the tonic client/server from `proto/healthmesh/research/v1` with protox (pure
//! Rust, no `protoc`), and keeps the descriptor set for gRPC reflection.

fn main() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../proto");
    let file = root.join("healthmesh/research/v1/research.proto");
    let echo = root.join("healthmesh/bench/v1/echo.proto");
    println!("cargo:rerun-if-changed={}", file.display());
    println!("cargo:rerun-if-changed={}", echo.display());
    let descriptors = protox::compile([&file], [&root]).expect("research.proto compiles");
    let echo_descriptors = protox::compile([&echo], [&root]).expect("echo.proto compiles");
    tonic_prost_build::configure()
        .compile_fds(echo_descriptors)
        .expect("tonic code generation (echo)");
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR").unwrap());
    std::fs::write(
        out.join("research_descriptor.bin"),
        prost::Message::encode_to_vec(&descriptors),
    )
    .expect("descriptor set written");
    tonic_prost_build::configure()
        .compile_fds(descriptors)
        .expect("tonic code generation");
}
