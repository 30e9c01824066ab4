//! HealthMesh zero-knowledge attestations: Groth16 proofs over BLS12-381 that a value
//! committed with Poseidon satisfies a predicate (EQ, NE, LT, LTE, GT, GTE, BETWEEN,
//! NONBETWEEN, IN, NIN), bound to a context (chain, consent, grantee).
//!
//! Without default features the crate is `no_std` + `alloc` and holds what a CosmWasm
//! contract needs: statement encoding, Poseidon, and the verifier with a pluggable pairing
//! back-end. The `prover` feature adds the bellman circuit, key generation and proving; `cli`
//! adds the `hm-proofs` tool.
#![no_std]
extern crate alloc;
#[cfg(any(test, feature = "std"))]
extern crate std;

pub mod batch;
pub mod poseidon;
pub mod statement;
pub mod verifier;

#[cfg(feature = "prover")]
pub mod circuit;
#[cfg(feature = "cli")]
pub mod cli;
#[cfg(feature = "prover")]
pub mod keys;
#[cfg(feature = "prover")]
pub mod prover;

use alloc::string::String;

/// Every way an input to this crate can be wrong, with what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("{field}: expected {expected} bytes, got {got}")]
    Length {
        field: &'static str,
        expected: usize,
        got: usize,
    },
    #[error("{0} is not a canonical field element (must be below the BLS12-381 scalar modulus)")]
    NonCanonicalScalar(&'static str),
    #[error("{0} is not a valid compressed point of the prime-order subgroup")]
    InvalidPoint(&'static str),
    #[error("{what}: bad magic bytes, expected {expected:?}")]
    BadMagic {
        what: &'static str,
        expected: &'static str,
    },
    #[error("{what}: unsupported encoding version {got} (this build reads version {supported})")]
    UnsupportedVersion {
        what: &'static str,
        got: u8,
        supported: u8,
    },
    #[error("verifying key has {ic} input points but the circuit has {inputs} public input(s)")]
    InputCount { ic: usize, inputs: usize },
    #[error("unknown operator code {0} (0-9)")]
    UnknownOperator(u8),
    #[error("unknown operator {0:?} (eq, ne, lt, lte, gt, gte, between, nonbetween, in, nin)")]
    UnknownOperatorName(String),
    #[error("{op} takes {expected} value(s), got {got}")]
    OperandCount {
        op: &'static str,
        expected: &'static str,
        got: usize,
    },
    #[error("empty range: lower bound {lo} is above upper bound {hi}")]
    EmptyRange { lo: u64, hi: u64 },
    #[error("value {0} appears twice in the set")]
    DuplicateSetValue(u64),
    #[error("invalid attribute code {0:?}: 1-31 chars of a-z 0-9 - _ . : starting with a letter")]
    InvalidAttribute(String),
    #[error("pairing back-end error: {0}")]
    Backend(String),
    #[error("an empty batch has nothing to verify")]
    EmptyBatch,
    #[error("a batch holds at most {max} proofs, got {got}")]
    BatchTooLarge { max: usize, got: usize },
    #[error("the proof does not verify for this statement and key")]
    InvalidProof,
    #[error("the witness value does not satisfy the predicate")]
    Unsatisfied,
    #[error("the opening (attribute, value, salt, subject) does not match the commitment")]
    CommitmentMismatch,
    #[error("proving failed: {0}")]
    Proving(String),
    #[error("{what}: malformed encoding: {reason}")]
    Malformed { what: &'static str, reason: String },
}
