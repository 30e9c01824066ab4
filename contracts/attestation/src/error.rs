use cosmwasm_std::{StdError, Timestamp};
use cw_ownable::OwnershipError;
use healthmesh_types::migrate::MigrateError;
use healthmesh_types::pause::PauseError;
use healthmesh_types::validate::ValidationError;
use thiserror::Error;

#[derive(Error, Debug, PartialEq)]
pub enum ContractError {
    #[error("{0}")]
    Std(#[from] StdError),

    #[error("{0}")]
    Validation(#[from] ValidationError),

    #[error("{0}")]
    Pause(#[from] PauseError),

    #[error("{0}")]
    Migrate(#[from] MigrateError),

    #[error("admin: {0}")]
    Ownership(#[from] OwnershipError),

    #[error("proof: {0}")]
    Proof(#[from] healthmesh_proofs::Error),

    #[error("funds are not accepted")]
    FundsNotAccepted,

    #[error("{0} is not an active attester")]
    NotActiveAttester(String),

    #[error("commitment {0} is already anchored with the same data")]
    AlreadyAnchored(String),

    #[error("commitment {0} is not anchored")]
    NotAnchored(String),

    #[error("anchor mismatch: {0}")]
    AnchorMismatch(String),

    #[error("consent {token_id} does not allow this attestation: {reason}")]
    ConsentDenied { token_id: String, reason: String },

    #[error("consent {0} is not revoked")]
    ConsentNotRevoked(String),

    #[error("unknown verifying key {0}")]
    UnknownCircuit(String),

    #[error("attestation {0} not found")]
    AttestationNotFound(u64),

    #[error("attestation {0} is not valid (revoked or expired) and cannot be sent")]
    AttestationNotValid(u64),

    #[error("only attestations verified on this chain can be forwarded")]
    NotLocal,

    #[error("attestation {id} is already {state} on {channel}")]
    AlreadySent {
        id: u64,
        channel: String,
        state: String,
    },

    #[error("expiry {0} is already past")]
    AlreadyExpired(Timestamp),

    #[error("timeout must be 1 to {max} seconds, got {got}")]
    InvalidTimeout { max: u64, got: u64 },

    // IBC
    #[error("only unordered channels are supported")]
    OrderedChannel,

    #[error("channel version must be {expected:?}, got {got:?}")]
    InvalidVersion { expected: String, got: String },

    #[error("counterparty port {0:?} is not a contract port (wasm.<address>)")]
    NotContractPort(String),

    #[error("connection {0} is not trusted by governance")]
    ConnectionNotAllowed(String),

    #[error("channel {0} is unknown or closed")]
    ChannelNotOpen(String),

    #[error("packet from chain {got}, but channel {channel} leads to {expected}")]
    WrongSourceChain {
        channel: String,
        expected: String,
        got: String,
    },

    #[error("malformed packet: {0}")]
    MalformedPacket(String),

    #[error("attestation {source_id} from {source_chain} was already received")]
    DuplicatePacket {
        source_chain: String,
        source_id: u64,
    },

    #[error("the attestation expired at {0}")]
    PacketExpired(Timestamp),
}
