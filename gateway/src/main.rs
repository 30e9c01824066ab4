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
    /// This gateway's name in signed requests: clients sign for it and requests signed for
    /// another gateway are refused. Default: the --listen address (required when that is
    /// 0.0.0.0 or [::]); behind a proxy or DNS name, the host:port clients dial.
    #[arg(long)]
    audience: Option<String>,
    /// Serve over TLS with this certificate chain (PEM); needs --tls-key.
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The TLS certificate's private key (PEM); needs --tls-cert.
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Counts below k are suppressed (k-anonymity), and so is any count that adds up a group
    /// of fewer than k patients (complementary suppression across chains). At least 1.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..))]
    k: u32,
    /// How far a signed request's timestamp may lag the gateway's clock, seconds.
    #[arg(long, default_value_t = 30)]
    max_skew_secs: u64,
    /// How far it may run ahead, milliseconds. Requests dated before the gateway's start plus
    /// this are refused (none signed before a restart is accepted after it).
    #[arg(long, default_value_t = 2000)]
    max_future_ms: u64,
    /// Requests per second per researcher key, sustained (RESOURCE_EXHAUSTED beyond); 0 = no
    /// limit.
    #[arg(long, default_value_t = 20)]
    rate_limit: u32,
    /// Requests a key may send in a burst before --rate-limit applies.
    #[arg(long, default_value_t = 40)]
    burst: u32,
    /// Cohorts kept in the count cache (least recently used evicted).
    #[arg(long, default_value_t = hmesh_gateway::index::DEFAULT_COHORT_CACHE)]
    cohort_cache: usize,
    /// Verifying key files (HMVK); default: proof-keys/predicate.vk beside the deployment file.
    #[arg(long)]
    vk: Vec<PathBuf>,
    /// How often to poll each chain for new blocks, milliseconds.
    #[arg(long, default_value_t = 500)]
    poll_ms: u64,
    /// Serve Prometheus metrics (`GET /metrics`: requests, latency, index height and lag per
    /// chain) on this address.
    #[arg(long, default_value = "127.0.0.1:9464")]
    metrics_listen: SocketAddr,
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

    anyhow::ensure!(
        names.len() <= 64,
        "at most 64 chains per gateway ({} given)",
        names.len()
    );
    let audience = match &args.audience {
        Some(a) => a.clone(),
        None if args.listen.ip().is_unspecified() => anyhow::bail!(
            "--listen {} accepts connections on every address: give --audience, the host:port clients dial",
            args.listen
        ),
        None => args.listen.to_string(),
    };
    healthmesh_research::auth::check_audience(&audience)
        .map_err(|e| anyhow::anyhow!("--audience {audience:?}: {e}"))?;
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(hmesh_gateway::server::identity(cert, key)?),
        _ => None,
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
            max_skew_ms: args.max_skew_secs.saturating_mul(1000),
            max_future_ms: args.max_future_ms,
            bech32_prefix: prefix,
            audience: audience.clone(),
            rate_per_sec: args.rate_limit,
            burst: args.burst,
            cohort_cache: args.cohort_cache,
        },
        keys,
        live,
    ));
    hmesh_gateway::metrics::install(args.metrics_listen)?;
    hmesh_gateway::metrics::index_stopped(gateway.index_stopped().is_some());
    let listener = hmesh_gateway::server::bind(args.listen).await?;
    // A line scripts wait for.
    println!(
        "hmesh-gateway listening on {} ({}, audience {audience})",
        listener.local_addr()?,
        if tls.is_some() { "TLS" } else { "plaintext" }
    );
    let shutdown = async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        tracing::info!("shutting down");
    };
    hmesh_gateway::server::serve(gateway, listener, tls, shutdown).await
}

#[cfg(test)]
mod tests {
    use super::Args;
    use clap::{CommandFactory, Parser};

    #[test]
    fn flags_are_consistent() {
        Args::command().debug_assert();
        let args = Args::try_parse_from(["hmesh-gateway"]).unwrap();
        assert_eq!((args.k, args.rate_limit, args.burst), (5, 20, 40));
        assert_eq!(args.max_future_ms, 2000);
        assert!(Args::try_parse_from(["hmesh-gateway", "--k", "0"]).is_err());
        assert!(Args::try_parse_from(["hmesh-gateway", "--tls-cert", "c.pem"]).is_err());
        assert!(Args::try_parse_from([
            "hmesh-gateway",
            "--tls-cert",
            "c.pem",
            "--tls-key",
            "k.pem"
        ])
        .is_ok());
    }
}
