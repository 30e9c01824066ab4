//! Messages of the attestation contract: anchors of record commitments by bonded
//! custodians, on-chain Groth16 verification of predicate proofs under consent, and the IBC
//! app that carries attestations and revocations between HealthMesh chains.

#![cfg_attr(target_arch = "wasm32", allow(unused_imports))]

use cosmwasm_schema::{cw_serde, QueryResponses};
use cosmwasm_std::{Addr, Binary, HexBinary, Timestamp};
use cw_ownable::{Action, Ownership};

use crate::pause::{PauseMsg, PauseStatusResponse};

/// The channel version of the attestation app; other versions are refused.
pub const CHANNEL_VERSION: &str = "healthmesh-attest-1";
/// Packet timeout when `send_attestation` names none, and the longest allowed.
pub const DEFAULT_TIMEOUT_SECONDS: u64 = 600;
pub const MAX_TIMEOUT_SECONDS: u64 = 7 * 24 * 3600;
/// Most attestations one `propagate_revocation` / revocation packet covers.
pub const MAX_REVOCATION_BATCH: usize = 50;

#[cw_serde]
pub struct InstantiateMsg {
    /// The consent contract of this chain.
    pub consent: String,
    /// The staking contract of this chain (active attesters).
    pub staking: String,
    /// Governance: sets verifying keys and trusted connections.
    pub admin: String,
    /// Verifying keys (`"HMVK"` encoding); each is named by its SHA-256 (`circuit_id`).
    pub verifying_keys: Vec<Binary>,
    /// IBC connections trusted from the start (the localnet creates connections before it
    /// deploys); governance changes the list later with `allow_connection`.
    #[serde(default)]
    pub allowed_connections: Vec<AllowedConnection>,
    #[serde(default)]
    pub pausers: Vec<String>,
    pub max_pause_seconds: Option<u64>,
}

/// A predicate as messages carry it: `op` is one of `eq ne lt lte gt gte between nonbetween
/// in nin`.
#[cw_serde]
pub struct PredicateMsg {
    pub op: String,
    pub values: Vec<u64>,
}

#[cw_serde]
pub enum ExecuteMsg {
    /// An active attester anchors a record commitment it holds.
    Anchor {
        commitment: HexBinary,
        attribute: String,
        /// The dataset commitment consents refer to.
        dataset: HexBinary,
        /// The patient whose record it is.
        patient: String,
    },
    /// Verify a proof about an anchored commitment under a consent and record it.
    SubmitAttestation {
        circuit_id: String,
        attribute: String,
        predicate: PredicateMsg,
        commitment: HexBinary,
        consent_token_id: String,
        /// 192-byte Groth16 proof.
        proof: Binary,
        expires_at: Option<Timestamp>,
    },
    /// Forward a local attestation over an open, trusted channel.
    SendAttestation {
        attestation_id: u64,
        channel_id: String,
        timeout_seconds: Option<u64>,
    },
    /// Anyone: once the consent is revoked, invalidate its local attestations and tell every
    /// chain that received them. Re-running retries channels not yet acknowledged.
    PropagateRevocation {
        consent_token_id: String,
    },
    /// Governance: add a verifying key.
    SetVerifyingKey {
        vk: Binary,
    },
    RemoveVerifyingKey {
        circuit_id: String,
    },
    /// Governance: trust channels on this IBC connection, whose counterparty is `chain_id`.
    AllowConnection {
        connection_id: String,
        chain_id: String,
    },
    DisallowConnection {
        connection_id: String,
    },
    Pausable(PauseMsg),
    UpdateOwnership(Action),
}

#[cw_serde]
#[derive(QueryResponses)]
pub enum QueryMsg {
    #[returns(ConfigResponse)]
    Config {},
    #[returns(Attestation)]
    Attestation { id: u64 },
    /// Attestations made under one consent (`source_chain` is this chain for local ones).
    #[returns(AttestationsResponse)]
    AttestationsByConsent {
        source_chain: String,
        consent_id: String,
        start_after: Option<u64>,
        limit: Option<u32>,
    },
    #[returns(AttestationsResponse)]
    AttestationsByGrantee {
        grantee: String,
        start_after: Option<u64>,
        limit: Option<u32>,
    },
    #[returns(AttestationsResponse)]
    AttestationsByCommitment {
        commitment: HexBinary,
        start_after: Option<u64>,
        limit: Option<u32>,
    },
    /// Is there a valid attestation of `attribute predicate` on `commitment` at time `at`
    /// (default: now)?
    #[returns(IsAttestedResponse)]
    IsAttested {
        commitment: HexBinary,
        attribute: String,
        predicate: PredicateMsg,
        at: Option<Timestamp>,
    },
    #[returns(Option<Anchor>)]
    Anchor { commitment: HexBinary },
    #[returns(Vec<AnchorConflict>)]
    AnchorConflicts { commitment: HexBinary },
    #[returns(DeliveriesResponse)]
    Deliveries { attestation_id: u64 },
    #[returns(ChannelsResponse)]
    Channels {},
    #[returns(Vec<AllowedConnection>)]
    AllowedConnections {},
    #[returns(Vec<String>)]
    VerifyingKeys {},
    #[returns(PauseStatusResponse)]
    PauseStatus {},
    #[returns(Ownership<Addr>)]
    Ownership {},
}

#[cw_serde]
pub struct MigrateMsg {}

#[cw_serde]
pub struct ConfigResponse {
    pub consent: Addr,
    pub staking: Addr,
}

#[cw_serde]
pub struct Anchor {
    pub commitment: HexBinary,
    pub attester: Addr,
    pub attribute: String,
    pub dataset: HexBinary,
    pub patient: Addr,
    pub height: u64,
    pub time: Timestamp,
}

/// A second, different anchor of an already anchored commitment: evidence for governance.
#[cw_serde]
pub struct AnchorConflict {
    pub existing: Anchor,
    pub attempted: Anchor,
}

#[cw_serde]
pub struct ProofContext {
    pub chain_id: String,
    pub consent_id: String,
    pub grantee: String,
}

#[cw_serde]
pub enum Origin {
    /// Verified and recorded on this chain.
    Local { submitter: Addr },
    /// Received over IBC and re-verified here.
    Remote {
        source_chain: String,
        source_id: u64,
        channel_id: String,
        sequence: u64,
        relayer: Addr,
    },
}

#[cw_serde]
pub enum AttestationStatus {
    Valid,
    Revoked { at: Timestamp, reason: String },
}

#[cw_serde]
pub struct Attestation {
    pub id: u64,
    pub origin: Origin,
    pub circuit_id: String,
    pub attribute: String,
    pub predicate: PredicateMsg,
    pub commitment: HexBinary,
    pub proof: Binary,
    pub context: ProofContext,
    /// Addresses on the source chain.
    pub attester: String,
    pub patient: String,
    pub dataset: HexBinary,
    pub recorded_at: Timestamp,
    pub height: u64,
    pub expires_at: Option<Timestamp>,
    pub status: AttestationStatus,
}

#[cw_serde]
pub struct AttestationsResponse {
    pub attestations: Vec<Attestation>,
}

#[cw_serde]
pub struct IsAttestedResponse {
    pub attested: bool,
    pub attestation_id: Option<u64>,
}

#[cw_serde]
pub enum DeliveryStatus {
    Pending,
    Delivered { remote_id: u64 },
    Failed { error: String },
    TimedOut,
}

#[cw_serde]
pub struct Delivery {
    pub channel_id: String,
    pub status: DeliveryStatus,
    pub attempts: u32,
    pub updated_at: Timestamp,
}

#[cw_serde]
pub struct DeliveriesResponse {
    pub deliveries: Vec<Delivery>,
}

#[cw_serde]
pub enum ChannelState {
    Open,
    Closed { at: Timestamp },
}

#[cw_serde]
pub struct ChannelInfo {
    pub channel_id: String,
    pub connection_id: String,
    pub counterparty_port: String,
    pub counterparty_channel: String,
    pub counterparty_chain: String,
    pub state: ChannelState,
}

#[cw_serde]
pub struct ChannelsResponse {
    pub channels: Vec<ChannelInfo>,
}

#[cw_serde]
pub struct AllowedConnection {
    pub connection_id: String,
    pub chain_id: String,
}

/// The data of a success acknowledgement.
#[cw_serde]
pub struct ReceiveAck {
    /// Id of the recorded remote attestation, or the number of attestations revoked.
    pub value: u64,
}
