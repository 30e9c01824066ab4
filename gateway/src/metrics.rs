//! Prometheus metrics for operators (`--metrics-listen`, `GET /metrics`): every RPC counted
//! and timed by method and outcome, per chain the indexed height, the chain's latest height
//! and the lag between them, and whether the index stopped.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Instant;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder};
use tonic::Status;

pub const REQUESTS: &str = "gateway_requests_total";
pub const REQUEST_SECONDS: &str = "gateway_request_seconds";
pub const INDEX_HEIGHT: &str = "gateway_index_height";
pub const CHAIN_HEIGHT: &str = "gateway_chain_height";
pub const INDEX_LAG: &str = "gateway_index_lag_blocks";
pub const INDEX_STOPPED: &str = "gateway_index_stopped";

/// Serve the metrics on `addr` (a background HTTP listener) for the rest of the process.
pub fn install(addr: SocketAddr) -> anyhow::Result<()> {
    PrometheusBuilder::new()
        .with_http_listener(addr)
        .set_buckets_for_metric(
            Matcher::Full(REQUEST_SECONDS.into()),
            &[
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
            ],
        )?
        .install()?;
    Ok(())
}

/// Run an RPC and record its outcome (`ok` or the gRPC code) and duration.
pub async fn observed<T>(
    method: &'static str,
    rpc: impl Future<Output = Result<T, Status>>,
) -> Result<T, Status> {
    let started = Instant::now();
    let result = rpc.await;
    let code = match &result {
        Ok(_) => "ok".to_string(),
        Err(status) => format!("{:?}", status.code()).to_lowercase(),
    };
    metrics::counter!(REQUESTS, "method" => method, "code" => code).increment(1);
    metrics::histogram!(REQUEST_SECONDS, "method" => method)
        .record(started.elapsed().as_secs_f64());
    result
}

/// The chain's latest height, as the indexer last saw it.
pub fn chain_height(chain: &str, height: u64) {
    metrics::gauge!(CHAIN_HEIGHT, "chain" => chain.to_string()).set(height as f64);
}

/// The height committed to the index, and how far it trails the chain.
pub fn indexed(chain: &str, height: u64, latest: u64) {
    metrics::gauge!(INDEX_HEIGHT, "chain" => chain.to_string()).set(height as f64);
    metrics::gauge!(INDEX_LAG, "chain" => chain.to_string())
        .set(latest.saturating_sub(height) as f64);
}

/// 1 once the index stopped taking writes (a failed write: restart the gateway), else 0. The
/// heights and the lag freeze then, so an alert on lag alone would never fire.
pub fn index_stopped(stopped: bool) {
    metrics::gauge!(INDEX_STOPPED).set(if stopped { 1.0 } else { 0.0 });
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    #[tokio::test]
    async fn the_metrics_endpoint_serves_requests_heights_and_lag() {
        let addr = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        install(addr).unwrap();
        let ok: Result<(), Status> = observed("CountCohort", async { Ok(()) }).await;
        assert!(ok.is_ok());
        let refused: Result<(), Status> =
            observed("CountCohort", async { Err(Status::unauthenticated("no")) }).await;
        assert!(refused.is_err());
        chain_height("genomics-1", 120);
        indexed("genomics-1", 100, 120);
        index_stopped(true);
        // The listener starts in the background.
        let body = tokio::task::spawn_blocking(move || {
            for _ in 0..50 {
                if let Ok(mut stream) = std::net::TcpStream::connect(addr) {
                    stream
                        .write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                        .unwrap();
                    let mut body = String::new();
                    stream.read_to_string(&mut body).unwrap();
                    return body;
                }
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            panic!("no metrics listener on {addr}");
        })
        .await
        .unwrap();
        assert!(
            body.contains(r#"gateway_requests_total{method="CountCohort",code="ok"} 1"#),
            "{body}"
        );
        assert!(body.contains(r#"code="unauthenticated"} 1"#), "{body}");
        assert!(
            body.contains(r#"gateway_index_lag_blocks{chain="genomics-1"} 20"#),
            "{body}"
        );
        assert!(body.contains("gateway_request_seconds_bucket"), "{body}");
        assert!(body.contains("gateway_index_stopped 1"), "{body}");
    }
}
