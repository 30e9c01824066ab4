//! `make bench` (gateway part): load on `CountCohort` over an index of 100,000 attestations,
//! against a bare tonic echo service served the same way in the same run.
//!
//! Both services run in this process on loopback; the load generator keeps `WORKERS`
//! requests in flight over `CONNECTIONS` HTTP/2 connections for `SECONDS` each. Research
//! requests are signed before the timed window (signing is the client's cost; the server's
//! signature check, replay check and index query are all inside the measurement).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cosmrs::crypto::secp256k1::SigningKey;
use healthmesh_research::auth::RequestSigner;
use healthmesh_research::bench_pb::echo_client::EchoClient;
use healthmesh_research::bench_pb::echo_server::{Echo, EchoServer};
use healthmesh_research::bench_pb::EchoMessage;
use healthmesh_research::pb;
use healthmesh_research::pb::research_service_client::ResearchServiceClient;
use hmesh_gateway::indexer::{ChainHealth, HealthMap};
use hmesh_gateway::service::{Gateway, GatewayConfig};
use hmesh_gateway::store::{AttestationRow, BlockBatch, Change, ConsentRow, Expiry, Store};
use tokio::sync::Mutex;
use tonic::transport::Channel;

const ATTESTATIONS: u64 = 100_000;
const RESEARCHERS: u64 = 20;
const WORKERS: usize = 16;
const CONNECTIONS: usize = 4;
const SECONDS: u64 = 5;
const CHAIN: &str = "genomics-1";
/// (attribute, op, values): each researcher's attestations cycle through these.
const PREDICATES: [(&str, &str, &[u64]); 4] = [
    ("hba1c", "lt", &[70_000]),
    ("age", "gte", &[18]),
    ("bmi", "between", &[18, 25]),
    ("ldl", "lt", &[130]),
];

struct EchoService;

#[tonic::async_trait]
impl Echo for EchoService {
    async fn echo(
        &self,
        request: tonic::Request<EchoMessage>,
    ) -> Result<tonic::Response<EchoMessage>, tonic::Status> {
        Ok(tonic::Response::new(request.into_inner()))
    }
}

/// The benchmark gateway's audience.
const AUDIENCE: &str = "bench-gateway:9390";

fn signer(researcher: u64) -> RequestSigner {
    let mut secret = [7u8; 32];
    secret[..8].copy_from_slice(&(researcher + 1).to_be_bytes());
    RequestSigner::new(SigningKey::from_slice(&secret).unwrap(), AUDIENCE).unwrap()
}

/// Patient of subject `n` (see the commitments below): two consents per subject.
fn patient(subject: &str) -> String {
    format!("wasm1patient{subject}")
}

fn build_index(store: &Store) {
    let addresses: Vec<String> = (0..RESEARCHERS)
        .map(|r| signer(r).address("wasm"))
        .collect();
    let mut batches = vec![];
    for chunk in 0..ATTESTATIONS / 1000 {
        let mut changes = vec![];
        for i in chunk * 1000..(chunk + 1) * 1000 {
            let grantee = &addresses[(i % RESEARCHERS) as usize];
            let (attribute, op, values) = PREDICATES[((i / RESEARCHERS) % 4) as usize];
            let token = i.to_string();
            // Attestations k and k+4 of a researcher (same predicate) share a subject.
            let subject = format!(
                "{:016x}{:016x}{:032x}",
                i % RESEARCHERS,
                (i / RESEARCHERS) % 4,
                i / RESEARCHERS / 8
            );
            changes.push(Change::Consent(ConsentRow {
                chain_id: CHAIN.into(),
                token_id: token.clone(),
                patient: patient(&subject),
                grantee: grantee.clone(),
                purpose: "trial-eligibility".into(),
                scope: vec![attribute.into()],
                expires: Expiry::Never,
                revoked: i % 50 == 0,
            }));
            changes.push(Change::Attestation(Box::new(AttestationRow {
                chain_id: CHAIN.into(),
                id: i,
                source_chain: CHAIN.into(),
                consent_id: token,
                grantee: grantee.clone(),
                consent_contract: "wasm1consent".into(),
                source_id: i,
                channel_id: String::new(),
                sequence: 0,
                relayer: String::new(),
                circuit_id: "c".into(),
                attribute: attribute.into(),
                op: op.into(),
                values: values.to_vec(),
                commitment: subject,
                attester: "wasm1custodian".into(),
                proof: vec![0; 192],
                recorded_at: 1,
                expires_at: None,
                revoked: false,
                height: chunk + 1,
                tx_hash: format!("{i:064X}"),
            })));
        }
        batches.push(BlockBatch {
            chain_id: CHAIN.into(),
            height: chunk + 1,
            changes,
        });
    }
    store.apply_many(&batches).unwrap();
}

struct Stats {
    qps: f64,
    p50_ms: f64,
    p99_ms: f64,
    requests: usize,
}

fn stats(mut latencies: Vec<Duration>, elapsed: Duration) -> Stats {
    latencies.sort();
    let pick = |p: f64| {
        latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)].as_secs_f64()
            * 1e3
    };
    Stats {
        qps: latencies.len() as f64 / elapsed.as_secs_f64(),
        p50_ms: pick(0.50),
        p99_ms: pick(0.99),
        requests: latencies.len(),
    }
}

/// Runs `call` from WORKERS tasks for SECONDS; returns per-request latencies.
async fn load<F, Fut>(call: F) -> Stats
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let call = Arc::new(call);
    let deadline = Instant::now() + Duration::from_secs(SECONDS);
    let start = Instant::now();
    let mut tasks = vec![];
    for worker in 0..WORKERS {
        let call = call.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = vec![];
            while Instant::now() < deadline {
                let t = Instant::now();
                if !call(worker).await {
                    break;
                }
                latencies.push(t.elapsed());
            }
            latencies
        }));
    }
    let mut all = vec![];
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    stats(all, start.elapsed())
}

async fn channels(url: &str) -> Vec<Channel> {
    let mut out = vec![];
    for _ in 0..CONNECTIONS {
        out.push(
            Channel::from_shared(url.to_string())
                .unwrap()
                .connect()
                .await
                .unwrap(),
        );
    }
    out
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(&dir.path().join("index.redb")).unwrap());
    let t = Instant::now();
    build_index(&store);
    let build = t.elapsed();

    // Direct index query cost, no gRPC: the floor under CountCohort.
    let grantee = signer(0).address("wasm");
    let universe = [CHAIN.to_string()];
    let key = |grantee: &str| -> u64 {
        let key = hmesh_gateway::index::CohortKey {
            grantee,
            attribute: "hba1c",
            op: "lt",
            values: &[70_000],
            purpose: "trial-eligibility",
        };
        store
            .index()
            .cohort(&key, &universe, 1)
            .valid
            .publishable(1, 5)
            .unwrap_or(0)
    };
    let expected = key(&grantee);
    // Each researcher's own answer, to check every gRPC response against.
    let expected_by: Vec<u64> = (0..RESEARCHERS)
        .map(|r| key(&signer(r).address("wasm")))
        .collect();
    // Cold: every count recomputed (an empty block applied before each, as when a chain
    // advances); cached: repeated with no new block.
    let mut cold = vec![];
    for i in 0..500 {
        store
            .apply(&BlockBatch {
                chain_id: CHAIN.into(),
                height: 1_000 + i,
                changes: vec![],
            })
            .unwrap();
        let t = Instant::now();
        std::hint::black_box(key(&grantee));
        cold.push(t.elapsed());
    }
    let cold_total: Duration = cold.iter().sum();
    let cold = stats(cold, cold_total);
    let mut direct = vec![];
    for _ in 0..2000 {
        let t = Instant::now();
        std::hint::black_box(key(&grantee));
        direct.push(t.elapsed());
    }
    let direct_total: Duration = direct.iter().sum();
    let direct = stats(direct, direct_total);

    // Signature check alone (the per-request cost of authentication), 2000 requests.
    let metadata: Vec<_> = (0..2000)
        .map(|i| {
            signer(0).metadata(
                "/m",
                b"request",
                healthmesh_research::auth::now_ms(),
                &format!("{i:016}"),
            )
        })
        .collect();
    let mut verify = vec![];
    for m in &metadata {
        let t = Instant::now();
        let freshness = healthmesh_research::auth::Freshness {
            now_ms: healthmesh_research::auth::now_ms(),
            max_past_ms: 30_000,
            max_future_ms: 2_000,
            not_before_ms: 0,
        };
        healthmesh_research::auth::verify(m, AUDIENCE, "/m", b"request", &freshness, "wasm")
            .unwrap();
        verify.push(t.elapsed());
    }
    let verify_total: Duration = verify.iter().sum();
    let verify = stats(verify, verify_total);

    let health: HealthMap = Arc::default();
    health.lock().unwrap().insert(
        CHAIN.into(),
        ChainHealth {
            reachable: true,
            latest: 1,
            error: None,
            stopped: false,
        },
    );
    let gateway = Arc::new(Gateway::new(
        store.clone(),
        health,
        GatewayConfig {
            audience: AUDIENCE.into(),
            // Load from 20 keys at full speed: no per-key rate limit here.
            rate_per_sec: 0,
            ..GatewayConfig::default()
        },
        HashMap::new(),
        BTreeMap::new(),
    ));
    let listener = hmesh_gateway::server::bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let gateway_url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(hmesh_gateway::server::serve(
        gateway,
        listener,
        None,
        std::future::pending(),
    ));
    let echo_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let echo_url = format!("http://{}", echo_listener.local_addr().unwrap());
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(EchoServer::new(EchoService))
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(
                echo_listener,
            )),
    );

    // Echo baseline.
    let echo_channels = channels(&echo_url).await;
    let echo = load(move |w| {
        let mut client = EchoClient::new(echo_channels[w % CONNECTIONS].clone());
        async move {
            client
                .echo(EchoMessage {
                    payload: vec![1; 64],
                })
                .await
                .is_ok()
        }
    })
    .await;

    // CountCohort, researchers round robin, pre-signed requests.
    let pool_size = ((echo.qps * SECONDS as f64) as usize).clamp(10_000, 150_000);
    let signers: Vec<RequestSigner> = (0..RESEARCHERS).map(signer).collect();
    let method = "/healthmesh.research.v1.ResearchService/CountCohort";
    let request = pb::CountCohortRequest {
        chains: vec![],
        attribute: "hba1c".into(),
        predicate: Some(pb::Predicate {
            op: "lt".into(),
            values: vec![70_000],
        }),
        purpose: "trial-eligibility".into(),
    };
    let t = Instant::now();
    let pool: Vec<(usize, tonic::Request<pb::CountCohortRequest>)> = (0..pool_size)
        .map(|i| {
            let r = i % RESEARCHERS as usize;
            (r, signers[r].request(method, request.clone()))
        })
        .collect();
    let signing = t.elapsed();
    let pool = Arc::new(Mutex::new(pool));
    let gateway_channels = channels(&gateway_url).await;
    let check = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let check_in = check.clone();
    let expected_by = Arc::new(expected_by);
    let research = load(move |w| {
        let mut client = ResearchServiceClient::new(gateway_channels[w % CONNECTIONS].clone());
        let pool = pool.clone();
        let check = check_in.clone();
        let expected_by = expected_by.clone();
        async move {
            let Some((researcher, req)) = pool.lock().await.pop() else {
                return false;
            };
            match client.count_cohort(req).await {
                Ok(r) => {
                    if r.into_inner().count != expected_by[researcher] {
                        check.store(false, std::sync::atomic::Ordering::Relaxed);
                    }
                    true
                }
                Err(e) => panic!("CountCohort failed: {e}"),
            }
        }
    })
    .await;
    assert!(
        check.load(std::sync::atomic::Ordering::Relaxed),
        "a CountCohort answer differed from the index"
    );

    println!("\nCountCohort load test: {ATTESTATIONS} attestations ({RESEARCHERS} researchers, 4 predicates, 2 attestations per subject, 2 % of consents revoked),");
    println!("{WORKERS} requests in flight over {CONNECTIONS} connections for {SECONDS} s each, client and server in one process on 2 cores.");
    println!("index build {:.2} s; {pool_size} requests pre-signed in {:.2} s; researcher 0's answer = {expected} patients (every answer checked)\n", build.as_secs_f64(), signing.as_secs_f64());
    println!("| service | requests | QPS | p50 ms | p99 ms |");
    println!("|---|---|---|---|---|");
    for (name, s) in [
        ("bare tonic echo (baseline)", &echo),
        ("CountCohort (signed, indexed)", &research),
    ] {
        println!(
            "| {name} | {} | {:.0} | {:.3} | {:.3} |",
            s.requests, s.qps, s.p50_ms, s.p99_ms
        );
    }
    println!(
        "| signature check alone (2000 runs) | {} | {:.0} | {:.3} | {:.3} |",
        verify.requests, verify.qps, verify.p50_ms, verify.p99_ms
    );
    println!(
        "| index count alone, recomputed (no gRPC, 500 runs) | {} | {:.0} | {:.3} | {:.3} |",
        cold.requests, cold.qps, cold.p50_ms, cold.p99_ms
    );
    println!(
        "| index count alone, cached (no gRPC, 2000 runs) | {} | {:.0} | {:.3} | {:.3} |",
        direct.requests, direct.qps, direct.p50_ms, direct.p99_ms
    );
    let ratio = research.qps / echo.qps;
    println!("\nCountCohort QPS / echo QPS = {ratio:.2} (target >= 0.30); CountCohort p99 = {:.2} ms (target <= 10 ms)", research.p99_ms);
}
