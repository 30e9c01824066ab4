//! Step 5: batches. N attestations under one consent: anchored in one transaction, submitted
//! in batches of up to 30 (one transaction and one batched pairing check each), and sent in
//! the same batches (one packet each, re-verified together on trials-1) with a relayer fee
//! that Hermes' key earns when the ack returns. Each attestation's latency is read from the
//! chains (send block → receive block); packets lost are counted. Then a send the receiver
//! refuses gets its fee back.

use anyhow::{ensure, Context, Result};
use healthmesh_client::deployment::contract;
use healthmesh_types::attestation::{
    ConfigResponse, DeliveryStatus, ExecuteMsg, QueryMsg as AttQuery,
};
use healthmesh_types::events;
use healthmesh_types::pause::{PausableQueryMsg, PauseStatusResponse};

use super::attest::{
    grant, prepare, recorded_ids, remote_records, send, send_batch, wait_remote, Grant, Prover,
    RELAYER_FEE,
};
use super::{REMOTE, SOURCE};
use crate::evidence::Evidence;
use crate::net::{wait_for, Net};

/// Attestations per `submit_attestations` and per packet.
pub const BATCH: usize = 30;

pub struct Burst {
    pub grant: Grant,
    pub size: usize,
    /// Seconds, sorted.
    pub latencies: Vec<f64>,
    pub lost: usize,
    pub submit_gas_per_attestation: u64,
    pub receive_gas_per_attestation: u64,
    pub fees_earned: u128,
    /// Send block → receive block of the attestation sent on the urgent lane while the
    /// batches were in flight.
    pub urgent_latency: f64,
    pub urgent_fee_earned: u128,
}

pub fn run(net: &Net, prover: &Prover, ev: &mut Evidence, size: usize) -> Result<Burst> {
    println!("== 5. {size} attestations in batches of {BATCH}");
    let grant = grant(net, ev)?;
    let prepared = (1..=size as u64)
        .map(|i| prepare(net, prover, ev, &grant, i))
        .collect::<Result<Vec<_>>>()?;
    let anchors: Vec<ExecuteMsg> = prepared.iter().map(|p| p.anchor.clone()).collect();
    let tx = net.execute_all(SOURCE, "custodian", contract::ATTESTATION, &anchors, 0)?;
    ev.see_tx(&tx);

    let mut ids = vec![];
    let mut submit_gas = 0;
    for chunk in prepared.chunks(BATCH) {
        let msg = ExecuteMsg::SubmitAttestations {
            circuit_id: prover.circuit_id().into(),
            attestations: chunk.iter().map(|p| p.submission.clone()).collect(),
        };
        let tx = net.execute(SOURCE, "researcher", contract::ATTESTATION, &msg)?;
        ev.measure(
            &format!("submit_attestations (batch of {})", chunk.len()),
            &tx,
        );
        submit_gas += tx.gas_used;
        ids.extend(recorded_ids(&tx)?);
    }
    ensure!(
        ids.len() == size,
        "{} of {size} attestations recorded",
        ids.len()
    );

    let payee = net.account(REMOTE, "relayer")?;
    let paid_before = net.balance(SOURCE, &payee)?;
    let urgent_payee = net.account(REMOTE, "relayer-urgent")?;
    let urgent_paid_before = net.balance(SOURCE, &urgent_payee)?;
    // The last attestation goes on the urgent lane, sent right after the batches.
    let (urgent_id, bulk_ids) = ids.split_last().context("no attestations")?;
    let mut sent = vec![];
    for chunk in bulk_ids.chunks(BATCH) {
        let tx = send_batch(net, ev, chunk)?;
        ev.measure(
            &format!("send_attestations (batch of {}, relayer fee)", chunk.len()),
            &tx,
        );
        sent.extend(chunk.iter().map(|id| (*id, tx.height)));
    }
    let urgent = send_urgent(net, ev, *urgent_id)?;
    let mut latencies = wait_remote(net, &grant.token, &sent)?;
    latencies.sort_by(f64::total_cmp);
    let urgent_latency = wait_remote(net, &grant.token, &[(*urgent_id, urgent.height)])?[0];
    let lost = size.saturating_sub(remote_records(net, &grant.token)?.len());
    ensure!(lost == 0, "{lost} of {size} packets lost");

    let key = format!(
        "{}.{}",
        events::tx::ATTESTATION_RECEIVED,
        events::attr::CONSENT_ID
    );
    let receives = net.search_txs(REMOTE, &key, &grant.token)?;
    let receive_gas: u64 = receives.iter().map(|tx| tx.gas_used).sum();
    for tx in &receives {
        ev.measure(
            "remote receive of a batch packet (Hermes tx: client update + receive)",
            tx,
        );
    }
    let packets = (size - 1).div_ceil(BATCH) as u128;
    let expected = paid_before + packets * RELAYER_FEE;
    let paid = wait_for(
        "the relayer fees",
        std::time::Duration::from_secs(60),
        || {
            let now = net.balance(SOURCE, &payee)?;
            Ok((now >= expected).then_some(now))
        },
    )?;
    let fees_earned = paid - paid_before;
    ensure!(
        fees_earned == packets * RELAYER_FEE,
        "the relayer earned {fees_earned}, expected {}",
        packets * RELAYER_FEE
    );
    let urgent_fee = urgent_fee(net)?;
    let urgent_paid = wait_for(
        "the urgent relayer's fee",
        std::time::Duration::from_secs(60),
        || {
            let now = net.balance(SOURCE, &urgent_payee)?;
            Ok((now >= urgent_paid_before + urgent_fee).then_some(now))
        },
    )?;
    let urgent_fee_earned = urgent_paid - urgent_paid_before;
    ensure!(
        urgent_fee_earned == urgent_fee,
        "the urgent relayer earned {urgent_fee_earned}, expected {urgent_fee}"
    );
    let burst = Burst {
        grant,
        size,
        submit_gas_per_attestation: submit_gas / size as u64,
        receive_gas_per_attestation: receive_gas / size as u64,
        latencies,
        lost,
        fees_earned,
        urgent_latency,
        urgent_fee_earned,
    };
    println!(
        "   {size} attestations in {} packets on {REMOTE}, 0 lost; latency send block → receive block p50 {:.1} s, p95 {:.1} s; gas per attestation: submit {}, receive {}; Hermes' key earned {fees_earned} in relayer fees",
        packets,
        percentile(&burst.latencies, 0.5),
        percentile(&burst.latencies, 0.95),
        burst.submit_gas_per_attestation,
        burst.receive_gas_per_attestation,
    );
    println!(
        "   attestation {urgent_id} sent on the urgent lane (hmesh attest send --urgent) behind {} batch packets: received {urgent_latency:.1} s after its send; relayer-urgent earned the urgent fee {urgent_fee_earned}",
        packets
    );
    refund_on_error_ack(net, ev, ids[0])?;
    Ok(burst)
}

/// `hmesh attest send ID --to trials-1 --urgent` as the researcher: the urgent channel, the
/// fee governance set attached by hmesh.
fn send_urgent(net: &Net, ev: &mut Evidence, id: u64) -> Result<healthmesh_client::TxOutcome> {
    let id = id.to_string();
    let args = ["attest", "send", &id, "--to", REMOTE, "--urgent"];
    let tx = net.hmesh_tx(SOURCE, "researcher", &args)?;
    ev.measure(
        "send_attestation on the urgent lane (hmesh, urgent fee)",
        &tx,
    );
    let channel = tx
        .attr(events::tx::ATTESTATION_SENT, events::attr::CHANNEL_ID)
        .context("the urgent send names no channel")?;
    let urgent = net
        .deployment
        .urgent_channel(SOURCE, REMOTE)
        .context("no urgent channel")?;
    ensure!(
        channel == urgent,
        "hmesh sent on {channel}, not the urgent channel {urgent}"
    );
    Ok(tx)
}

/// The urgent premium governance set on the source chain.
fn urgent_fee(net: &Net) -> Result<u128> {
    let config: ConfigResponse = net.query(SOURCE, contract::ATTESTATION, &AttQuery::Config {})?;
    let fee = config.urgent_fee.context("the urgent lane is closed")?;
    Ok(fee.amount.u128())
}

/// A packet the receiver refuses gets its relayer fee back: billing-1's security council
/// pauses its attestation contract (hmesh council transactions), a paid send to billing-1
/// comes back with an error ack, the fee returns to the sender; then the council unpauses.
/// (A timeout cannot be provoked reliably here: with 0.5 s blocks Hermes delivers within the
/// shortest timeout, 1 s; timeouts and their refunds are covered by the relay-harness tests.)
fn refund_on_error_ack(net: &Net, ev: &mut Evidence, id: u64) -> Result<()> {
    let to = "billing-1";
    let reason = "e2e: show a refused packet's fee refunded";
    council(
        net,
        ev,
        to,
        contract::ATTESTATION,
        &["council", "pause", "attestation", "--reason", reason],
        true,
    )?;
    let tx = send(net, ev, id, to, 600)?;
    let fee_id = tx
        .attr("wasm-relayer_fee_escrowed", "fee_id")
        .context("the send escrowed no fee")?;
    let refund = wait_for(
        "the refund of a refused packet's fee",
        std::time::Duration::from_secs(120),
        || {
            let found = net.search_txs(SOURCE, "wasm-relayer_fee_refunded.fee_id", &fee_id)?;
            Ok(found.into_iter().next())
        },
    )?;
    ev.see_tx(&refund);
    let deliveries = super::attest::deliveries(net, id)?;
    let channel = net.channel(SOURCE, to)?;
    let failed = deliveries.iter().find_map(|d| match &d.status {
        DeliveryStatus::Failed { error } if d.channel_id == channel => Some(error.clone()),
        _ => None,
    });
    let error = failed.with_context(|| {
        format!("the delivery to {to} is not recorded as failed: {deliveries:?}")
    })?;
    council(
        net,
        ev,
        to,
        contract::ATTESTATION,
        &["council", "unpause", "attestation"],
        false,
    )?;
    println!("   {to} paused by its council refused a packet ({error}); its relayer fee (fee {fee_id}) was refunded to the sender; unpaused");
    Ok(())
}

/// A council action on `chain` by hmesh: council-1 proposes it, the others approve until the
/// `target` contract's pause state is `paused`.
pub fn council(
    net: &Net,
    ev: &mut Evidence,
    chain: &str,
    target: &str,
    args: &[&str],
    paused: bool,
) -> Result<()> {
    let is_done = || -> Result<bool> {
        let status: PauseStatusResponse =
            net.query(chain, target, &PausableQueryMsg::PauseStatus {})?;
        Ok(status.paused.is_some() == paused)
    };
    let tx = net.hmesh_tx(chain, "council-1", args)?;
    ev.see_tx(&tx);
    let action = tx
        .attr(events::tx::COUNCIL_ACTION_PROPOSED, "action_id")
        .context("the council action's id")?;
    for member in 2..=12 {
        if is_done()? {
            return Ok(());
        }
        let member = format!("council-{member}");
        ev.see_tx(&net.hmesh_tx(chain, &member, &["council", "approve", &action])?);
    }
    ensure!(
        is_done()?,
        "{chain}: the council action {action} did not take effect"
    );
    Ok(())
}

pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}
