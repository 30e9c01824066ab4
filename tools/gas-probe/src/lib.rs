//! A measuring contract for `make gas-profile`. Each message runs one component of what the
//! attestation contract does per attestation, `n` times, with the attestation contract's and
//! the proofs crate's own code; the profiler executes it for two values of `n` on the
//! localnet, so the chain's own gas meter prices one repetition (SDK gas, wasm execution and
//! host calls and storage included). Never deployed outside `make gas-profile`.

use bls12_381::{G1Affine, G2Affine, Scalar};
use cosmwasm_schema::cw_serde;
#[cfg(not(feature = "library"))]
use cosmwasm_std::entry_point;
use cosmwasm_std::{
    Addr, Binary, Deps, DepsMut, Empty, Env, HexBinary, MessageInfo, Response, StdError, StdResult,
    Timestamp,
};
use healthmesh_attestation::state::attestations;
use healthmesh_proofs::batch::mul_vartime;
use healthmesh_proofs::statement::{AttributeCode, Context, Operator, Predicate, Statement};
use healthmesh_types::attestation::{
    Attestation, AttestationStatus, AttestationSubmission, Origin, ProofContext,
};
use healthmesh_types::pause::PauseStatusResponse;

#[cw_serde]
pub enum ExecuteMsg {
    /// Nothing: the fixed cost of a transaction executing this contract.
    Baseline {},
    /// `n` Poseidon hashes of a statement (the proof's public input).
    Poseidon { n: u32 },
    /// `n` checked decompressions of a G1 point (a proof's A or C).
    DecompressG1 { n: u32 },
    /// `n` decompressions of a G1 point without the subgroup check (what a batch does).
    DecompressG1Unchecked { n: u32 },
    /// `n` checked decompressions of a G2 point (what verification did for B, β, γ, δ).
    DecompressG2 { n: u32 },
    /// `n` 128-bit variable-time G1 multiplications (a batch coefficient times A).
    Mul128 { n: u32 },
    /// `n` full-width (255-bit) G1 multiplications (a public input times IC).
    Mul255 { n: u32 },
    /// One pairing-equality host call with `pairs` pairs.
    Pairing { pairs: u32 },
    /// Parse these submissions (their bytes are in the transaction and the message).
    Parse {
        submissions: Vec<AttestationSubmission>,
    },
    /// Store `n` attestation records (the contract's indexed map: the record and 4 index
    /// entries).
    StoreRecords { n: u32 },
    /// `n` smart queries of a (pinned) contract: the consent contract's pause status.
    Query { n: u32, contract: String },
}

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn instantiate(_: DepsMut, _: Env, _: MessageInfo, _: Empty) -> StdResult<Response> {
    Ok(Response::new())
}

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn execute(deps: DepsMut, env: Env, _: MessageInfo, msg: ExecuteMsg) -> StdResult<Response> {
    let count = match msg {
        ExecuteMsg::Baseline {} => 0,
        ExecuteMsg::Poseidon { n } => repeat(n, |i| {
            statement(i).public_input().map(|_| ()).map_err(error)
        })?,
        ExecuteMsg::DecompressG1 { n } => {
            let bytes = G1Affine::generator().to_compressed();
            repeat(n, |_| {
                Option::<G1Affine>::from(G1Affine::from_compressed(&bytes))
                    .map(|_| ())
                    .ok_or_else(|| StdError::generic_err("point"))
            })?
        }
        ExecuteMsg::DecompressG1Unchecked { n } => {
            let bytes = G1Affine::generator().to_compressed();
            repeat(n, |_| {
                Option::<G1Affine>::from(G1Affine::from_compressed_unchecked(&bytes))
                    .map(|_| ())
                    .ok_or_else(|| StdError::generic_err("point"))
            })?
        }
        ExecuteMsg::DecompressG2 { n } => {
            let bytes = G2Affine::generator().to_compressed();
            repeat(n, |_| {
                Option::<G2Affine>::from(G2Affine::from_compressed(&bytes))
                    .map(|_| ())
                    .ok_or_else(|| StdError::generic_err("point"))
            })?
        }
        ExecuteMsg::Mul128 { n } => repeat(n, |i| {
            let k = (u128::MAX - i as u128).to_le_bytes();
            std::hint::black_box(mul_vartime(&G1Affine::generator(), &k));
            Ok(())
        })?,
        ExecuteMsg::Mul255 { n } => repeat(n, |i| {
            let k = (-Scalar::from(i as u64 + 1)).to_bytes();
            std::hint::black_box(mul_vartime(&G1Affine::generator(), &k));
            Ok(())
        })?,
        ExecuteMsg::Pairing { pairs } => pairing(deps.as_ref(), pairs)?,
        ExecuteMsg::Parse { submissions } => submissions.len() as u32,
        ExecuteMsg::StoreRecords { n } => repeat(n, |i| {
            let a = record(&env, i as u64 + 1);
            attestations().save(deps.storage, a.id, &a)
        })?,
        ExecuteMsg::Query { n, contract } => repeat(n, |_| {
            let _: PauseStatusResponse = deps.querier.query_wasm_smart(
                &contract,
                &healthmesh_types::consent::QueryMsg::PauseStatus {},
            )?;
            Ok(())
        })?,
    };
    Ok(Response::new().add_attribute("repetitions", count.to_string()))
}

fn repeat(n: u32, mut f: impl FnMut(u32) -> StdResult<()>) -> StdResult<u32> {
    for i in 0..n {
        f(i)?;
    }
    Ok(n)
}

fn error(e: healthmesh_proofs::Error) -> StdError {
    StdError::generic_err(e.to_string())
}

/// `∏ e(±G, H) = e(O, H)` with `pairs` pairs (alternating G and −G, so it holds).
fn pairing(deps: Deps, pairs: u32) -> StdResult<u32> {
    let (g, h) = (G1Affine::generator(), G2Affine::generator());
    let ps: Vec<u8> = (0..pairs)
        .flat_map(|i| if i % 2 == 0 { g } else { -g }.to_compressed())
        .collect();
    let qs: Vec<u8> = (0..pairs).flat_map(|_| h.to_compressed()).collect();
    let ok = deps.api.bls12_381_pairing_equality(
        &ps,
        &qs,
        &G1Affine::identity().to_compressed(),
        &h.to_compressed(),
    )?;
    if !ok && pairs % 2 == 0 {
        return Err(StdError::generic_err("the pairing check should hold"));
    }
    Ok(pairs)
}

fn statement(i: u32) -> Statement {
    Statement {
        attribute: AttributeCode::new("hba1c").expect("a valid code"),
        predicate: Predicate {
            op: Operator::Lt,
            values: vec![70_000 + i as u64],
        },
        commitment: [7; 32],
        context: Context {
            chain_id: "genomics-1".into(),
            consent_contract: "wasm1yyca08xqdgvjz0psg56z67ejh9xms6l436u8y58m82npdqqhmmtqas0cl7"
                .into(),
            consent_id: "12".into(),
            grantee: "wasm1qnk2n4nlkpw9xfqntladh74w6ujtulwnmxnh3k".into(),
        },
    }
}

/// A record shaped like a real one (same string lengths, a 192-byte proof).
fn record(env: &Env, id: u64) -> Attestation {
    let mut commitment = [0u8; 32];
    commitment[..8].copy_from_slice(&id.to_be_bytes());
    Attestation {
        id,
        origin: Origin::Local {
            submitter: Addr::unchecked("wasm1qnk2n4nlkpw9xfqntladh74w6ujtulwnmxnh3k"),
        },
        circuit_id: "ab".repeat(32),
        attribute: "hba1c".into(),
        predicate: Predicate {
            op: Operator::Lt,
            values: vec![70_000],
        },
        commitment: HexBinary::from(commitment),
        proof: Binary::from(vec![0x5a; 192]),
        context: ProofContext {
            chain_id: env.block.chain_id.clone(),
            consent_contract: "wasm1yyca08xqdgvjz0psg56z67ejh9xms6l436u8y58m82npdqqhmmtqas0cl7"
                .into(),
            consent_id: "12".into(),
            grantee: "wasm1qnk2n4nlkpw9xfqntladh74w6ujtulwnmxnh3k".into(),
        },
        attester: "wasm1hospitalxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx".into(),
        recorded_at: env.block.time,
        height: env.block.height,
        expires_at: Some(Timestamp::from_seconds(2_000_000_000)),
        status: AttestationStatus::Valid,
        consent_purpose: String::new(),
        patient_tag: None,
    }
}
