//! `make gas-profile`: what one attestation costs, component by component, priced by the
//! chain's own gas meter. The measuring contract (`tools/gas-probe`) runs each component —
//! with the attestation contract's and the proofs crate's own code — `n` times; each is
//! executed for two values of `n` on genomics-1, and the difference divided by the difference
//! in `n` is the SDK gas of one repetition (wasm execution, host calls, storage, transaction
//! bytes). Prints a table and writes it as JSON.

use std::path::Path;

use anyhow::{Context, Result};
use cosmwasm_std::{Binary, HexBinary};
use healthmesh_client::deployment::contract;
use healthmesh_proofs::statement::{Operator, Predicate};
use healthmesh_types::attestation::AttestationSubmission;
use serde::Serialize;
use serde_json::json;

use crate::net::Net;
use crate::steps::SOURCE;

#[derive(Serialize)]
struct Row {
    component: &'static str,
    gas_per_repetition: u64,
    repetitions: [u32; 2],
}

pub fn run(wasm: &Path, out: &Path) -> Result<()> {
    let net = Net::load()?;
    let bytes = std::fs::read(wasm).with_context(|| format!("reading {}", wasm.display()))?;
    println!(
        "== gas profile on {SOURCE}: deploying the measuring contract ({} KB)",
        bytes.len() / 1024
    );
    let probe = net.deploy(SOURCE, "validator", bytes, "healthmesh-gas-probe")?;
    let consent = net.contract(SOURCE, contract::CONSENT)?;
    let gas = |msg: serde_json::Value| -> Result<u64> {
        Ok(net
            .execute_on(SOURCE, "validator", &probe, &[msg], 0)?
            .gas_used)
    };
    let submission = AttestationSubmission {
        attribute: "hba1c".into(),
        predicate: Predicate::new(Operator::Lt, vec![70_000])?,
        commitment: HexBinary::from([7u8; 32]),
        consent_token_id: "12".into(),
        proof: Binary::from(vec![0x5a; 192]),
        expires_at: None,
    };
    type Msg = Box<dyn Fn(u32) -> serde_json::Value>;
    let components: Vec<(&'static str, [u32; 2], Msg)> = vec![
        (
            "Poseidon of the statement (public input)",
            [1, 11],
            Box::new(|n| json!({"poseidon": {"n": n}})),
        ),
        (
            "G1 decompression with subgroup check (A or C)",
            [1, 21],
            Box::new(|n| json!({"decompress_g1": {"n": n}})),
        ),
        (
            "G1 decompression without subgroup check (batches)",
            [1, 21],
            Box::new(|n| json!({"decompress_g1_unchecked": {"n": n}})),
        ),
        (
            "G2 decompression with subgroup check (B, β, γ, δ before)",
            [1, 6],
            Box::new(|n| json!({"decompress_g2": {"n": n}})),
        ),
        (
            "G1 × 128-bit coefficient (variable time)",
            [1, 21],
            Box::new(|n| json!({"mul128": {"n": n}})),
        ),
        (
            "G1 × 255-bit scalar (variable time)",
            [1, 11],
            Box::new(|n| json!({"mul255": {"n": n}})),
        ),
        (
            "pairing host call, per pair",
            [4, 34],
            Box::new(|n| json!({"pairing": {"pairs": n}})),
        ),
        ("submission bytes: tx size + JSON parse", [1, 21], {
            let s = submission.clone();
            Box::new(move |n| json!({"parse": {"submissions": vec![s.clone(); n as usize]}}))
        }),
        (
            "attestation record + 4 index entries (storage)",
            [1, 11],
            Box::new(|n| json!({"store_records": {"n": n}})),
        ),
        ("smart query of a pinned contract (consent)", [1, 11], {
            let consent = consent.clone();
            Box::new(move |n| json!({"query": {"n": n, "contract": consent}}))
        }),
    ];
    let mut rows = vec![];
    let baseline = gas(json!({"baseline": {}}))?;
    println!("   baseline transaction on the (unpinned) probe: {baseline} gas");
    for (component, [lo, hi], msg) in components {
        let (g_lo, g_hi) = (gas(msg(lo))?, gas(msg(hi))?);
        let per = g_hi.saturating_sub(g_lo) / u64::from(hi - lo);
        println!("   {component}: {per}");
        rows.push(Row {
            component,
            gas_per_repetition: per,
            repetitions: [lo, hi],
        });
    }
    println!("\n| component | SDK gas per repetition |\n|---|---|");
    for r in &rows {
        println!("| {} | {} |", r.component, r.gas_per_repetition);
    }
    std::fs::write(
        out,
        serde_json::to_vec_pretty(&json!({"baseline_tx": baseline, "components": rows}))?,
    )?;
    println!("written to {}", out.display());
    Ok(())
}
