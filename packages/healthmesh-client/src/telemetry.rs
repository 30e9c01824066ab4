//! Reading local Prometheus endpoints (the relayers' telemetry, the gateway's metrics) for
//! status and checks: a plain HTTP GET and Hermes' backlog per channel.

use std::collections::BTreeMap;
use std::io::{Read, Write};

use crate::ClientError;

/// `GET path` from 127.0.0.1:`port` (a relayer's telemetry); the body.
pub fn http_get(port: u16, path: &str) -> Result<String, ClientError> {
    let url = format!("http://127.0.0.1:{port}{path}");
    let failed = |e: std::io::Error| ClientError::Unreachable {
        url: url.clone(),
        reason: e.to_string(),
    };
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let timeout = std::time::Duration::from_secs(2);
    let mut stream = std::net::TcpStream::connect_timeout(&addr, timeout).map_err(failed)?;
    stream.set_read_timeout(Some(timeout)).map_err(failed)?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").map_err(failed)?;
    let mut response = String::new();
    stream.read_to_string(&mut response).map_err(failed)?;
    match response.split_once("\r\n\r\n") {
        Some((_, body)) => Ok(body.to_string()),
        None => Err(ClientError::Unreachable {
            url,
            reason: "no HTTP body".into(),
        }),
    }
}

/// Hermes' `backlog_size{chain="…",channel="…",…} N` lines: pending packets per (chain,
/// channel) on the sending end.
pub fn backlog_sizes(metrics: &str) -> BTreeMap<(String, String), u64> {
    let label = |labels: &str, key: &str| -> Option<String> {
        let start = labels.find(&format!("{key}=\""))? + key.len() + 2;
        let end = labels[start..].find('"')? + start;
        Some(labels[start..end].to_string())
    };
    metrics
        .lines()
        .filter_map(|line| {
            let rest = line.strip_prefix("backlog_size{")?;
            let (labels, value) = rest.rsplit_once("} ")?;
            let value = value.trim().parse::<f64>().ok()? as u64;
            Some(((label(labels, "chain")?, label(labels, "channel")?), value))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn backlog_lines_of_hermes_telemetry_are_read_per_channel_end() {
        let text = "# HELP backlog_size Total number of SendPacket events in the backlog\n\
            backlog_size{chain=\"genomics-1\",channel=\"channel-0\",counterparty=\"trials-1\",port=\"wasm.x\",service_name=\"unknown_service\",otel_scope_name=\"hermes\"} 3\n\
            backlog_size{chain=\"trials-1\",channel=\"channel-2\",counterparty=\"genomics-1\",port=\"wasm.y\"} 0\n\
            other_metric 5\n";
        let sizes = super::backlog_sizes(text);
        assert_eq!(sizes[&("genomics-1".into(), "channel-0".into())], 3);
        assert_eq!(sizes[&("trials-1".into(), "channel-2".into())], 0);
        assert_eq!(sizes.len(), 2);
    }
}
