//! Step 5: a burst of attestations under one consent, sent back to back; each one's relay
//! latency is read from the chains (send block → receive block), so a packet is not charged
//! for the sends after it; packets lost are counted.

use anyhow::{ensure, Result};

use super::attest::{attest, grant, remote_records, send, wait_remote, Grant, Prover};
use super::REMOTE;
use crate::evidence::Evidence;
use crate::net::Net;

pub struct Burst {
    pub grant: Grant,
    pub size: usize,
    /// Seconds, sorted.
    pub latencies: Vec<f64>,
    pub lost: usize,
}

pub fn run(net: &Net, prover: &Prover, ev: &mut Evidence, size: usize) -> Result<Burst> {
    println!("== 5. burst of {size} attestations");
    let grant = grant(net, ev)?;
    let ids: Vec<u64> = (1..=size as u64)
        .map(|i| attest(net, prover, ev, &grant, i, false))
        .collect::<Result<_>>()?;
    let sent: Vec<(u64, u64)> = ids
        .iter()
        .map(|id| Ok((*id, send(net, ev, *id, false)?)))
        .collect::<Result<_>>()?;
    let mut latencies = wait_remote(net, &grant.token, &sent)?;
    latencies.sort_by(f64::total_cmp);
    let lost = size.saturating_sub(remote_records(net, &grant.token)?.len());
    ensure!(lost == 0, "{lost} of {size} packets lost");
    println!(
        "   {size} attestations on {REMOTE}, 0 lost; latency send block → receive block p50 {:.1} s, p95 {:.1} s",
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.95)
    );
    Ok(Burst {
        grant,
        size,
        latencies,
        lost,
    })
}

pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}
