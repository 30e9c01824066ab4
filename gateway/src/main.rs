//! `hmesh-gateway`: index the HealthMesh chains of a deployment and serve the research API.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, Result};
use clap::Parser;
use healthmesh_client::{ChainClient, Deployment};
use healthmesh_proofs::verifier::{PreparedVerifyingKey, VerifyingKey};
use hmesh_gateway::indexer::{self, Contracts, IndexerConfig, RpcSource};
use hmesh_gateway::service::{Gateway, GatewayConfig, LiveChain};
use hmesh_gateway::store::Store;

/// HealthMesh research gateway: answers researchers' gRPC queries from on-chain attestations
/// under consent granted to them, from an index of the chains kept in an embedded database.
#[derive(Parser)]
#[command(name = "hmesh-gateway", version)]
struct Args {
    /// Deployment file listing chains, endpoints and contracts (default: HMESH_DEPLOYMENT or
    /// .localnet/deployment.json).
    #[arg(long)]
    deployment: Option<PathBuf>,
    /// Only these chains (ids or short names); default: every chain of the deployment.
    #[arg(long, value_delimiter = ',')]
    chains: Vec<String>,
    /// Address to serve gRPC on. The default sits below the kernel's ephemeral port range
    /// (32768-60999), where a busy machine's outgoing connections could already hold it.
    #[arg(long, default_value = "127.0.0.1:9390")]
    listen: SocketAddr,
    /// Index database (redb); default: gateway/index.redb beside the deployment file.
    #[arg(long)]
    db: Option<PathBuf>,
    /// Counts below k are suppressed (k-anonymity).
    #[arg(long, default_value_t = 5)]
    k: u32,
    /// Maximum clock difference of a signed request, seconds.
    #[arg(long, default_value_t = 30)]
    max_skew_secs: u64,
    /// Verifying key files (HMVK); default: proof-keys/predicate.vk beside the deployment file.
    #[arg(long)]
    vk: Vec<PathBuf>,
    /// How often to poll each chain for new blocks, milliseconds.
    #[arg(long, default_value_t = 500)]
    poll_ms: u64,
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    if let Err(e) = run(Args::parse()).await {
        eprintln!("hmesh-gateway: {e:#}");
        std::process::exit(1);
    }
}

async fn run(args: Args) -> Result<()> {
    let path = args
        .deployment
        .clone()
        .unwrap_or_else(Deployment::default_path);
    let deployment = Deployment::load(&path)?;
    let dir = path.parent().map(PathBuf::from).unwrap_or_default();
    let names: Vec<String> = if args.chains.is_empty() {
        deployment.chains.keys().cloned().collect()
    } else {
        args.chains.clone()
    };

    let mut sources = vec![];
    let mut live = BTreeMap::new();
    let mut prefix = "wasm".to_string();
    for name in &names {
        let info = deployment.chain(name)?;
        prefix = info.bech32_prefix.clone();
        let contract = |n: &str| {
            info.contracts
                .get(n)
                .cloned()
                .with_context(|| format!("{}: no {n} contract in the deployment", info.chain_id))
        };
        let contracts = Contracts {
            consent: contract("consent")?,
            attestation: contract("attestation")?,
            staking: contract("staking")?,
        };
        let client = || ChainClient::new(&info.rpc, &info.chain_id, &info.bech32_prefix);
        live.insert(
            info.chain_id.clone(),
            LiveChain {
                client: client()?,
                consent: contracts.consent.clone(),
            },
        );
        sources.push((Arc::new(RpcSource::new(client()?)), contracts));
    }

    let vk_files = if args.vk.is_empty() {
        vec![dir.join("proof-keys/predicate.vk")]
    } else {
        args.vk.clone()
    };
    let mut keys = HashMap::new();
    for file in vk_files {
        let bytes = std::fs::read(&file)
            .with_context(|| format!("reading verifying key {}", file.display()))?;
        let vk = VerifyingKey::from_bytes(&bytes)
            .map_err(|e| anyhow::anyhow!("{}: {e:?}", file.display()))?;
        keys.insert(hex::encode(vk.id()), PreparedVerifyingKey::new(&vk));
    }

    let db = args
        .db
        .clone()
        .unwrap_or_else(|| dir.join("gateway/index.redb"));
    let store = Arc::new(Store::open(&db)?);
    tracing::info!(db = %db.display(), heights = ?store.heights(), "index opened");
    let config = IndexerConfig {
        poll: Duration::from_millis(args.poll_ms),
        ..IndexerConfig::default()
    };
    let health = indexer::spawn(store.clone(), sources, config);

    let gateway = Arc::new(Gateway::new(
        store,
        health,
        GatewayConfig {
            k: args.k,
            max_skew_ms: args.max_skew_secs * 1000,
            bech32_prefix: prefix,
        },
        keys,
        live,
    ));
    let listener = hmesh_gateway::server::bind(args.listen).await?;
    // A line scripts wait for.
    println!("hmesh-gateway listening on {}", listener.local_addr()?);
    let shutdown = async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        tracing::info!("shutting down");
    };
    hmesh_gateway::server::serve(gateway, listener, shutdown).await
}
