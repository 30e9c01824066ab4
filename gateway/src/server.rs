//! Serving: the research service with gRPC reflection (v1 and v1alpha, for grpcurl and
//! grpcio clients) and the standard health service, over plaintext HTTP/2 or TLS.

use std::net::SocketAddr;
use std::sync::Arc;

use healthmesh_research::pb::research_service_server::ResearchServiceServer;
use healthmesh_research::FILE_DESCRIPTOR_SET;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::transport::{Identity, ServerTlsConfig};

use crate::service::Gateway;

/// Largest request message the research service decodes. Its requests are a few hundred
/// bytes; tonic's default (4 MiB) would let one request carry megabytes of strings.
pub const MAX_REQUEST_BYTES: usize = 64 * 1024;

/// Serves on `listener` until `shutdown` resolves; over TLS with `tls` (a certificate chain
/// and its key, PEM), else plaintext.
pub async fn serve(
    gateway: Arc<Gateway>,
    listener: tokio::net::TcpListener,
    tls: Option<Identity>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let (health_reporter, health_service) = tonic_health::server::health_reporter();
    health_reporter
        .set_serving::<ResearchServiceServer<Gateway>>()
        .await;
    tokio::spawn(report_a_stopped_index(gateway.clone(), health_reporter));
    let reflection_v1 = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()?;
    let reflection_v1alpha = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1alpha()?;
    let mut builder = tonic::transport::Server::builder();
    if let Some(identity) = tls {
        builder = builder.tls_config(ServerTlsConfig::new().identity(identity))?;
    }
    builder
        .add_service(health_service)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .add_service(
            ResearchServiceServer::from_arc(gateway).max_decoding_message_size(MAX_REQUEST_BYTES),
        )
        .serve_with_incoming_shutdown(TcpListenerStream::new(listener), shutdown)
        .await?;
    Ok(())
}

/// How often the health service looks at the index.
const HEALTH_CHECK_EVERY: std::time::Duration = std::time::Duration::from_millis(500);

/// Reports the research service and the server as a whole (service "", what
/// `grpc_health_probe` and Kubernetes probes ask by default) NOT_SERVING once the index
/// stopped, so load balancers stop routing to a gateway that answers every request
/// UNAVAILABLE.
async fn report_a_stopped_index(
    gateway: Arc<Gateway>,
    reporter: tonic_health::server::HealthReporter,
) {
    loop {
        tokio::time::sleep(HEALTH_CHECK_EVERY).await;
        if let Some(reason) = gateway.index_stopped() {
            tracing::error!("{reason}: the research service reports NOT_SERVING");
            reporter
                .set_not_serving::<ResearchServiceServer<Gateway>>()
                .await;
            reporter
                .set_service_status("", tonic_health::ServingStatus::NotServing)
                .await;
            return;
        }
    }
}

pub async fn bind(addr: SocketAddr) -> anyhow::Result<tokio::net::TcpListener> {
    Ok(tokio::net::TcpListener::bind(addr).await?)
}

/// A TLS identity from PEM files, with errors that name the file.
pub fn identity(cert: &std::path::Path, key: &std::path::Path) -> anyhow::Result<Identity> {
    use anyhow::Context as _;
    let cert_pem = std::fs::read(cert)
        .with_context(|| format!("reading TLS certificate {}", cert.display()))?;
    let key_pem =
        std::fs::read(key).with_context(|| format!("reading TLS key {}", key.display()))?;
    anyhow::ensure!(
        String::from_utf8_lossy(&cert_pem).contains("-----BEGIN CERTIFICATE-----"),
        "{}: not a PEM certificate",
        cert.display()
    );
    anyhow::ensure!(
        String::from_utf8_lossy(&key_pem).contains("PRIVATE KEY-----"),
        "{}: not a PEM private key",
        key.display()
    );
    Ok(Identity::from_pem(cert_pem, key_pem))
}
