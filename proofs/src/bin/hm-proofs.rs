//! `hm-proofs`: key generation, commitments, proving and verification from the shell.

use clap::Parser;
use healthmesh_proofs::cli::{run, ProofsCommand};

#[derive(Parser)]
#[command(
    name = "hm-proofs",
    version,
    about = "HealthMesh zero-knowledge predicate proofs"
)]
struct Args {
    #[command(subcommand)]
    command: ProofsCommand,
}

fn main() {
    if let Err(err) = run(Args::parse().command) {
        eprintln!("error: {err:#}");
        std::process::exit(1);
    }
}
