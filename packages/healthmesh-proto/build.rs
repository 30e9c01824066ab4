//! Compiles `proto/` with protox (a pure-Rust protobuf compiler, so no `protoc` binary is
//! needed) and generates prost types.

fn main() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../proto");
    let file = root.join("healthmesh/attest/v2/packet.proto");
    println!("cargo:rerun-if-changed={}", file.display());
    let descriptors = protox::compile([&file], [&root]).expect("proto/ compiles");
    prost_build::Config::new()
        .compile_fds(descriptors)
        .expect("prost code generation");
}
