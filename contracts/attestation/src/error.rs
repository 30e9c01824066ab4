use cosmwasm_std::{StdError, Timestamp};
use cw_ownable::OwnershipError;
use healthmesh_controllers::migrate::MigrateError;
use healthmesh_controllers::pause::PauseError;
use healthmesh_controllers::validate::ValidationError;
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

    #[error("a batch holds 1 to {max} attestations, got {got}")]
    BatchSize { max: usize, got: usize },
    #[error("the batch holds the same statement twice")]
    DuplicateInBatch,
    #[error("a batch packet mixes circuits ({first} and {other}): one batch, one verifying key")]
    MixedCircuits { first: String, other: String },
    #[error("the relayer fee is one coin of a positive amount; got {0}")]
    InvalidRelayerFee(String),
    #[error("the urgent lane carries at most {max} attestations per packet, got {got}")]
    UrgentBatchSize { max: usize, got: usize },
    #[error("the urgent lane takes a relayer fee of at least {required}; got {got:?}")]
    UrgentFeeTooLow { required: String, got: String },
    #[error("governance has set no urgent fee: the urgent lane takes no sends")]
    UrgentLaneClosed,
    #[error("funds are not accepted")]
    FundsNotAccepted,

    #[error("{0} is not an active attester")]
    NotActiveAttester(String),

    #[error("commitment {0} is already anchored with the same data")]
    AlreadyAnchored(String),

    #[error("commitment {commitment} is not anchored by custodian {custodian}")]
    NotAnchored {
        commitment: String,
        custodian: String,
    },

    #[error("{sender} is not the custodian the patient designated for dataset {dataset}")]
    NotDesignatedCustodian { sender: String, dataset: String },

    #[error("the patient designated no custodian for dataset {0}")]
    NoCustodian(String),

    #[error("attester {0} was slashed: its anchors and attestations are no longer valid")]
    AttesterSlashed(String),

    #[error("{0} has no slash on record")]
    NotSlashed(String),

    #[error("only the grantee of consent {token_id} or the anchoring custodian may submit; {sender} is neither")]
    NotSubmitter { token_id: String, sender: String },

    #[error("this statement is already recorded as attestation {0}")]
    DuplicateStatement(u64),

    #[error("the consent contract is paused ({0}): no attestation until it resumes")]
    ConsentPaused(String),

    #[error("expiry {requested} is after the consent's expiry {consent}")]
    ExpiryAfterConsent {
        requested: Timestamp,
        consent: Timestamp,
    },

    #[error("the consent expires at height {0}, which other chains cannot see: attestations under it stay on this chain")]
    HeightBoundConsent(u64),

    #[error("operator {op} is not allowed on attribute {attribute}")]
    OperatorNotAllowed { attribute: String, op: String },

    #[error("attestations on this commitment would narrow {attribute} to {width} values; the policy requires at least {min}")]
    RangeTooNarrow {
        attribute: String,
        width: u64,
        min: u64,
    },

    #[error("consent {consent_id} of {source_chain} is revoked")]
    ConsentRevoked {
        source_chain: String,
        consent_id: String,
    },

    #[error("{0} is this chain: a counterparty cannot share its chain id")]
    OwnChain(String),

    #[error("at most {0} trusted connections")]
    TooManyConnections(usize),

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

    #[error(
        "counterparty port must be {expected:?} (the trusted attestation contract), got {got:?}"
    )]
    UntrustedCounterparty { expected: String, got: String },

    #[error("chain {chain} already has an open channel ({channel})")]
    ChainAlreadyLinked { chain: String, channel: String },

    #[error("a channel handshake with {chain} is in progress ({channel}): complete it, or have governance re-allow the connection")]
    HandshakeInProgress { chain: String, channel: String },

    #[error("{chain} starts channels to this chain (the smaller chain id initiates)")]
    NotInitiator { chain: String },

    #[error("this contract never closes channel {0}: revocations must keep flowing")]
    CloseRefused(String),

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
