//! `hm-localnet`: the HealthMesh localnet — three single-validator wasmd chains (genomics-1,
//! trials-1, billing-1) on 127.0.0.1, the contracts deployed on each through
//! `healthmesh-client` with their own message types, Hermes relaying the attestation
//! channels between them (two Hermes instances: the bulk lane and the urgent lane).
//!
//!     hm-localnet up       init + start chains, connect, deploy, open channels, start Hermes
//!     hm-localnet status   chains, ports, heights, contracts, channels, relayer
//!     hm-localnet down     stop every process it started
//!     hm-localnet reset    down, then delete .localnet/
//!
//! Every step is idempotent: `up` twice reports what is already up. State lives in
//! `.localnet/` (homes, logs, pid files, test keyrings — never committed) and in
//! `.localnet/deployment.json`, whose one schema is `healthmesh_client::Deployment`.

mod chains;
mod deploy;
mod hermes;
mod layout;
mod process;
mod status;
mod validators;

use std::time::Instant;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use healthmesh_client::Deployment;
use healthmesh_proofs::keys::setup_from_seed;
use healthmesh_proofs::verifier::VerifyingKey;
use healthmesh_types::attestation::Lane;

use crate::layout::{Layout, CHAINS, PROOF_SEED};
use crate::process::{log, run_visible};

#[derive(Parser)]
#[command(name = "hm-localnet", about = "The HealthMesh three-chain localnet")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Init and start the chains, connect them, deploy the contracts, open the channels, start Hermes.
    Up,
    /// Chains, ports, heights, contracts, channels, relayer.
    Status,
    /// Stop every localnet process.
    Down,
    /// Stop, then delete the localnet's state directory.
    Reset,
}

fn main() {
    let cli = Cli::parse();
    let layout = Layout::from_env();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let result = match cli.command.unwrap_or(Command::Status) {
        Command::Up => runtime.block_on(up(&layout)),
        Command::Status => runtime.block_on(status::print(&layout)),
        Command::Down => {
            down(&layout);
            Ok(())
        }
        Command::Reset => reset(&layout),
    };
    if let Err(err) = result {
        log(format!("ERROR: {err:#}"));
        std::process::exit(1);
    }
}

/// Times a step and says when it is done.
struct Step(&'static str, Instant);

impl Step {
    fn start(name: &'static str) -> Self {
        log(format!("{name} …"));
        Step(name, Instant::now())
    }

    fn done(self) {
        log(format!(
            "{}: done in {:.1} s",
            self.0,
            self.1.elapsed().as_secs_f64()
        ));
    }
}

async fn up(layout: &Layout) -> Result<()> {
    let started = Instant::now();
    std::fs::create_dir_all(&layout.home)?;
    let step =
        Step::start("pinned wasmd and Hermes (built once, cached under ~/.cache/healthmesh)");
    let wasmd = chains::Wasmd::new(layout)?;
    let hermes = hermes::Hermes::new(layout, Lane::Bulk)?;
    step.done();

    let step = Step::start("contract wasm (make wasm)");
    run_visible(
        std::process::Command::new("make")
            .arg("-C")
            .arg(&layout.root)
            .arg("wasm"),
    )?;
    step.done();

    let verifying_key = proof_keys(layout)?;
    let artifacts = deploy::Artifacts::load(layout, verifying_key.to_bytes())?;

    for chain in CHAINS {
        let step = Step::start(chain);
        chains::init_chain(&wasmd, layout, chain)?;
        chains::start_chain(&wasmd, layout, chain).await?;
        step.done();
    }

    let mut d = if layout.deployment().exists() {
        Deployment::load(&layout.deployment())?
    } else {
        Deployment::default()
    };
    let step = Step::start("IBC connections (Hermes)");
    // Rendered, checked and validated on every run (until the attestation contracts exist,
    // the packet filter relays nothing).
    hermes.write_config(layout, &hermes::attestation_ports(&d))?;
    hermes.add_keys(layout)?;
    hermes.connect(layout, &mut d)?;
    step.done();

    let step = Step::start("contracts on every chain, through healthmesh-client");
    deploy::deploy_all(layout, &mut d, &artifacts).await?;
    step.done();

    let step = Step::start(
        "attestation channels (bulk and urgent lanes) and settlement channels (Hermes)",
    );
    hermes.write_config(layout, &hermes::attestation_ports(&d))?;
    hermes.open_channels(layout, &mut d)?;
    // Each lane's relayer sees only its lane's channels.
    for lane in [Lane::Bulk, Lane::Urgent] {
        let relayer = hermes::Hermes::new(layout, lane)?;
        relayer.write_config(layout, &hermes::lane_channels(&d, lane))?;
        relayer.start(layout, &mut d)?;
    }
    step.done();
    log(format!(
        "localnet up in {:.1} s",
        started.elapsed().as_secs_f64()
    ));
    status::print(layout).await
}

/// The predicate circuit's keys, generated once from the localnet's public seed.
fn proof_keys(layout: &Layout) -> Result<VerifyingKey> {
    let dir = layout.proof_keys();
    let (pk_file, vk_file) = (dir.join("predicate.pk"), dir.join("predicate.vk"));
    if vk_file.exists() && pk_file.exists() {
        let bytes = std::fs::read(&vk_file)?;
        return VerifyingKey::from_bytes(&bytes).with_context(|| format!("{}", vk_file.display()));
    }
    let step = Step::start("proof keys (seeded setup, localnet only)");
    let pk = setup_from_seed(PROOF_SEED.as_bytes())?;
    std::fs::create_dir_all(&dir)?;
    std::fs::write(&pk_file, pk.to_bytes())?;
    let vk = pk.verifying_key();
    std::fs::write(&vk_file, vk.to_bytes())?;
    step.done();
    Ok(vk)
}

fn down(layout: &Layout) {
    let pidfiles = [Lane::Bulk, Lane::Urgent]
        .map(|lane| layout.hermes_pid(lane))
        .into_iter()
        .chain(CHAINS.iter().flat_map(|c| validators::pidfiles(layout, c)));
    for pidfile in pidfiles {
        if let Some(pid) = process::stop(&pidfile) {
            let name = pidfile
                .parent()
                .and_then(|p| p.file_name())
                .unwrap_or_default();
            log(format!("stopped {} (pid {pid})", name.to_string_lossy()));
        }
    }
}

fn reset(layout: &Layout) -> Result<()> {
    down(layout);
    if layout.home.exists() {
        std::fs::remove_dir_all(&layout.home)
            .with_context(|| format!("removing {}", layout.home.display()))?;
    }
    log(format!("removed {}", layout.home.display()));
    Ok(())
}
