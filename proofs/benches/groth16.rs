//! `make bench`: constraint count, key generation, proving per operator and verification of
//! the predicate circuit, each beside a baseline in the same run — a trivial circuit with the
//! same number of constraints (a chain of squarings) proved by the same prover and verified
//! by the same groth16 code — so the cost of our gadgets shows as a ratio. Also the
//! `groth16` crate's own prover on the predicate circuit (what `prove` used before the
//! precomputing [`Prover`]), for comparison; and the native Poseidon permutation beside the
//! dense reference permutation. Ends with a summary table.

use std::path::PathBuf;
use std::time::Duration;

use bellman::gadgets::test::TestConstraintSystem;
use bellman::{Circuit, ConstraintSystem, SynthesisError};
use bls12_381::{Bls12, Scalar};
use std::hint::black_box;

use criterion::Criterion;
use healthmesh_proofs::circuit::{Assignment, PredicateCircuit};
use healthmesh_proofs::keys::setup_from_seed;
use healthmesh_proofs::poseidon;
use healthmesh_proofs::prover::{prove, Opening, Prover, ProverCircuit};
use healthmesh_proofs::statement::{
    commit, subject_key, AttributeCode, Context, Operator, Predicate, Statement,
};
use healthmesh_proofs::verifier::{verify_statement, NativePairing, PreparedVerifyingKey, Proof};
use rand::rng;

/// A chain of `n` squarings with the result as one public input: the cheapest circuit of a
/// given size.
#[derive(Clone)]
struct Squarings {
    n: usize,
    x: Option<Scalar>,
}

impl Circuit<Scalar> for Squarings {
    fn synthesize<CS: ConstraintSystem<Scalar>>(self, cs: &mut CS) -> Result<(), SynthesisError> {
        let mut value = self.x;
        let mut var = cs.alloc(|| "x", || value.ok_or(SynthesisError::AssignmentMissing))?;
        for i in 0..self.n - 1 {
            let next_value = value.map(|v| v.square());
            let next = cs.alloc(
                || format!("x{i}"),
                || next_value.ok_or(SynthesisError::AssignmentMissing),
            )?;
            cs.enforce(
                || format!("square {i}"),
                |lc| lc + var,
                |lc| lc + var,
                |lc| lc + next,
            );
            var = next;
            value = next_value;
        }
        let out = cs.alloc_input(|| "out", || value.ok_or(SynthesisError::AssignmentMissing))?;
        cs.enforce(|| "out", |lc| lc + var, |lc| lc + CS::one(), |lc| lc + out);
        Ok(())
    }
}

impl ProverCircuit for Squarings {}

fn case(op: Operator) -> (Statement, Opening) {
    let values = match op {
        Operator::Eq | Operator::Lte | Operator::Gte => vec![69],
        Operator::Ne | Operator::Lt => vec![70],
        Operator::Gt => vec![68],
        Operator::Between => vec![60, 70],
        Operator::NonBetween => vec![70, 90],
        Operator::In => vec![1, 2, 3, 4, 5, 6, 7, 69],
        Operator::Nin => vec![1, 2, 3, 4, 5, 6, 7, 8],
    };
    let attribute = AttributeCode::new("hba1c").unwrap();
    let opening = Opening {
        value: 69,
        salt: Scalar::from(12345u64),
        subject: subject_key("wasm1patient"),
    };
    let statement = Statement {
        commitment: commit(&attribute, 69, &opening.salt, &opening.subject),
        attribute,
        predicate: Predicate::new(op, values).unwrap(),
        context: Context {
            chain_id: "trials-1".into(),
            consent_contract: "wasm1consentcontract".into(),
            consent_id: "1".into(),
            grantee: "wasm1r".into(),
        },
    };
    (statement, opening)
}

fn constraint_count() -> usize {
    let (statement, opening) = case(Operator::Lt);
    let mut cs = TestConstraintSystem::<Scalar>::new();
    PredicateCircuit {
        assignment: Some(Assignment::new(
            &statement,
            69,
            opening.salt,
            opening.subject,
        )),
    }
    .synthesize(&mut cs)
    .unwrap();
    cs.num_constraints()
}

/// Where criterion writes its results, as criterion finds it.
fn criterion_home() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return home.into();
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            [env!("CARGO_MANIFEST_DIR"), "..", "target"]
                .iter()
                .collect()
        });
    target.join("criterion")
}

fn mean_ns(group: &str, id: &str) -> Option<f64> {
    let dir: PathBuf = criterion_home()
        .join(group)
        .join(id)
        .join("new")
        .join("estimates.json");
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(dir).ok()?).ok()?;
    json["mean"]["point_estimate"].as_f64()
}

fn main() {
    let constraints = constraint_count();
    let baseline = Squarings {
        n: constraints,
        x: Some(Scalar::from(3u64)),
    };
    let mut criterion = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();

    let pk = setup_from_seed(b"bench").unwrap();
    let vk = pk.verifying_key();
    let base_params = groth16::generate_random_parameters::<Bls12, _, _>(
        Squarings {
            n: constraints,
            x: None,
        },
        &mut rng(),
    )
    .unwrap();
    let base_pvk = groth16::prepare_verifying_key(&base_params.vk);
    // Built once per key, outside the timings (see keygen/prover for its cost).
    pk.prover().unwrap();
    let base_prover = Prover::new(
        &base_params,
        Squarings {
            n: constraints,
            x: None,
        },
    )
    .unwrap();

    {
        let mut g = criterion.benchmark_group("keygen");
        g.bench_function("predicate", |b| {
            b.iter(|| setup_from_seed(black_box(b"bench")).unwrap())
        });
        g.bench_function("baseline", |b| {
            b.iter(|| {
                groth16::generate_random_parameters::<Bls12, _, _>(
                    Squarings {
                        n: constraints,
                        x: None,
                    },
                    &mut rng(),
                )
                .unwrap()
            })
        });
        g.bench_function("prover", |b| {
            b.iter(|| Prover::new(pk.params(), PredicateCircuit::default()).unwrap())
        });
        g.finish();
    }
    {
        let mut g = criterion.benchmark_group("prove");
        for op in Operator::ALL {
            let (statement, opening) = case(op);
            g.bench_function(op.name(), |b| {
                b.iter(|| prove(&pk, &statement, &opening, &mut rng()).unwrap())
            });
        }
        g.bench_function("baseline", |b| {
            b.iter(|| {
                base_prover
                    .create_random_proof(baseline.clone(), &mut rng())
                    .unwrap()
            })
        });
        let (statement, opening) = case(Operator::Lt);
        g.bench_function("groth16_crate", |b| {
            b.iter(|| {
                let circuit = PredicateCircuit {
                    assignment: Some(Assignment::new(
                        &statement,
                        opening.value,
                        opening.salt,
                        opening.subject,
                    )),
                };
                groth16::create_random_proof(circuit, pk.params(), &mut rng()).unwrap()
            })
        });
        g.finish();
    }
    {
        let mut g = criterion.benchmark_group("verify");
        let (statement, opening) = case(Operator::Lt);
        let proof = prove(&pk, &statement, &opening, &mut rng()).unwrap();
        g.bench_function("predicate", |b| {
            b.iter(|| verify_statement(&NativePairing, &vk, black_box(&proof), &statement).unwrap())
        });
        let pvk = PreparedVerifyingKey::new(&vk);
        g.bench_function("prepared", |b| {
            b.iter(|| pvk.verify_statement(black_box(&proof), &statement).unwrap())
        });
        g.bench_function("decode_proof", |b| {
            b.iter(|| Proof::from_bytes(black_box(&proof)).unwrap())
        });
        g.bench_function("statement_hash", |b| {
            b.iter(|| black_box(&statement).public_input().unwrap())
        });
        let base_proof =
            groth16::create_random_proof(baseline.clone(), &base_params, &mut rng()).unwrap();
        let mut out_value = Scalar::from(3u64);
        for _ in 0..constraints - 1 {
            out_value = out_value.square();
        }
        g.bench_function("baseline", |b| {
            b.iter(|| {
                groth16::verify_proof(&base_pvk, black_box(&base_proof), &[out_value]).unwrap()
            })
        });
        g.finish();
    }
    {
        let mut g = criterion.benchmark_group("poseidon");
        let input = [0u64, 1, 2, 3, 4].map(Scalar::from);
        g.bench_function("permute", |b| {
            b.iter(|| {
                let mut state = black_box(input);
                poseidon::permute(&mut state);
                state
            })
        });
        g.bench_function("reference", |b| {
            b.iter(|| {
                let mut state = black_box(input);
                poseidon::permute_reference(&mut state);
                state
            })
        });
        g.finish();
    }
    criterion.final_summary();
    print_table(constraints, pk.to_bytes().len(), vk.to_bytes().len());
}

fn print_table(constraints: usize, pk_len: usize, vk_len: usize) {
    let ms = |g: &str, id: &str| mean_ns(g, id).map(|ns| ns / 1e6);
    let row = |label: &str, value: Option<f64>, base: Option<f64>, target: &str| {
        let ratio = value
            .zip(base)
            .map(|(v, b)| format!("{:.2}x", v / b))
            .unwrap_or_else(|| "-".into());
        let value = value
            .map(|v| format!("{v:.2}"))
            .unwrap_or_else(|| "n/a".into());
        println!("| {label:<22} | {value:>10} | {ratio:>12} | {target:<8} |");
    };
    println!();
    println!("HealthMesh predicate circuit: {constraints} constraints, 1 public input");
    println!("proof 192 bytes, verifying key {vk_len} bytes, proving key {pk_len} bytes");
    println!();
    println!(
        "| {:<22} | {:>10} | {:>12} | {:<8} |",
        "benchmark (mean)", "ms", "vs baseline", "target"
    );
    println!("|{:-<24}|{:->12}|{:->14}|{:-<10}|", "", "", "", "");
    row(
        "keygen",
        ms("keygen", "predicate"),
        ms("keygen", "baseline"),
        "",
    );
    row("  prover, once per key", ms("keygen", "prover"), None, "");
    for op in Operator::ALL {
        row(
            &format!("prove {}", op.name()),
            ms("prove", op.name()),
            ms("prove", "baseline"),
            "<= 50 ms",
        );
    }
    row(
        "prove baseline",
        ms("prove", "baseline"),
        ms("prove", "baseline"),
        "",
    );
    row(
        "groth16 crate, lt",
        ms("prove", "groth16_crate"),
        ms("prove", "baseline"),
        "",
    );
    row(
        "verify (native)",
        ms("verify", "predicate"),
        ms("verify", "baseline"),
        "<= 3 ms",
    );
    row(
        "verify (prepared key)",
        ms("verify", "prepared"),
        ms("verify", "baseline"),
        "<= 3 ms",
    );
    row(
        "  proof decoding",
        ms("verify", "decode_proof"),
        ms("verify", "baseline"),
        "",
    );
    row(
        "  statement hash",
        ms("verify", "statement_hash"),
        ms("verify", "baseline"),
        "",
    );
    let us = |id: &str| ms("poseidon", id).map(|ms| ms * 1e3);
    row("poseidon permute (us)", us("permute"), us("reference"), "");
    println!("\nbaseline: a chain of {constraints} squarings with 1 public input, same prover;");
    if let Some((ours, crate_)) = ms("prove", "lt").zip(ms("prove", "groth16_crate")) {
        println!(
            "groth16 crate: its create_random_proof on the predicate circuit, {:.1}x this prover;",
            crate_ / ours
        );
    }
    println!("verify baseline: groth16::verify_proof with a prepared key;");
    println!("poseidon permute: in microseconds, beside the dense reference permutation.");
}
