//! Messages of the attestation contract: anchors of record commitments by bonded
//! custodians, on-chain Groth16 verification of predicate proofs under consent, and the IBC
//! app that carries attestations and revocations between HealthMesh chains.

#![cfg_attr(target_arch = "wasm32", allow(unused_imports))]

use cosmwasm_schema::{cw_serde, QueryResponses};
use cosmwasm_std::{Addr, Binary, Coin, HexBinary, Timestamp};
use cw_ownable::{Action, Ownership};

pub use crate::ibc::{AllowedConnection, ChannelState};
use crate::pause::{PauseMsg, PauseStatusResponse};

/// The channel version of the attestation app (packets `healthmesh.attest.v2`); other
/// versions are refused.
pub const CHANNEL_VERSION: &str = "healthmesh-attest-2";
/// The version of the urgent lane: a second channel per counterparty chain, same packets,
/// relayed by its own latency-tuned relayer. Sends on it pay at least the governance-set
/// `urgent_fee` and carry at most `URGENT_MAX_BATCH` attestations, so bulk traffic has no
/// reason to use it and an urgent packet is always cheap to relay.
pub const URGENT_CHANNEL_VERSION: &str = "healthmesh-attest-2-urgent";
/// Most attestations one packet on the urgent lane may carry.
pub const URGENT_MAX_BATCH: usize = 4;
/// Packet timeout when `send_attestation` names none, and the longest allowed.
pub const DEFAULT_TIMEOUT_SECONDS: u64 = 600;
pub const MAX_TIMEOUT_SECONDS: u64 = 7 * 24 * 3600;
/// Most attestations one `submit_attestations` / `send_attestations` (hence one batch
/// packet) may carry: with ≈ 100k gas each, a received batch stays far below a relayer's
/// `max_gas`, and the batch verifier's own bound (`healthmesh_proofs::batch::MAX_BATCH`) is
/// never reached.
pub const MAX_BATCH: usize = 32;
/// Most trusted connections (hence counterparty chains): bounds every loop over them.
pub const MAX_COUNTERPARTIES: usize = 16;

#[cw_serde]
#[serde(deny_unknown_fields)]
pub struct InstantiateMsg {
    /// The consent contract of this chain.
    pub consent: String,
    /// The staking contract of this chain (active attesters).
    pub staking: String,
    /// Governance: sets verifying keys and trusted connections.
    pub admin: String,
    /// Verifying keys (`"HMVK"` encoding); each is named by its SHA-256 (`circuit_id`).
    pub verifying_keys: Vec<Binary>,
    /// IBC connections trusted from the start, each bound to the counterparty attestation
    /// contract's port (the localnet creates connections before it deploys); governance
    /// changes the list later with `allow_connection`.
    #[serde(default)]
    pub allowed_connections: Vec<AllowedConnection>,
    /// Per-attribute predicate policies from the start (see `set_predicate_policy`).
    #[serde(default)]
    pub predicate_policies: Vec<AttributePolicy>,
    #[serde(default)]
    pub pausers: Vec<String>,
    pub max_pause_seconds: Option<u64>,
    /// The least relayer fee of a send on the urgent lane (governance changes it with
    /// `set_urgent_fee`); without one the urgent lane takes no sends.
    #[serde(default)]
    pub urgent_fee: Option<Coin>,
}

/// The two lanes to a counterparty chain: one channel each, told apart by channel version.
#[cw_serde]
#[derive(Copy, Default, Eq)]
pub enum Lane {
    #[default]
    Bulk,
    Urgent,
}

impl Lane {
    pub fn version(self) -> &'static str {
        match self {
            Lane::Bulk => CHANNEL_VERSION,
            Lane::Urgent => URGENT_CHANNEL_VERSION,
        }
    }

    /// The lane a channel version names, if any.
    pub fn from_version(version: &str) -> Option<Lane> {
        [Lane::Bulk, Lane::Urgent]
            .into_iter()
            .find(|l| l.version() == version)
    }
}

/// A predicate as messages carry it — the proofs crate's own type, so a predicate has one
/// shape everywhere: `{"op": "lt", "values": [70]}`, `op` one of `eq ne lt lte gt gte between
/// nonbetween in nin`.
pub use healthmesh_proofs::statement::{Operator, Predicate};

#[cw_serde]
#[serde(deny_unknown_fields)]
pub enum ExecuteMsg {
    /// The custodian the patient designated for `dataset` (consent contract) anchors a record
    /// commitment it holds. Anchors are kept per (commitment, custodian), so nobody can
    /// squat a commitment by anchoring it first.
    Anchor {
        commitment: HexBinary,
        attribute: String,
        /// The dataset commitment consents refer to.
        dataset: HexBinary,
        /// The patient whose record it is.
        patient: String,
    },
    /// Verify a proof about an anchored commitment under a consent and record it. Only the
    /// consent's grantee or the anchoring custodian may submit; one record per statement.
    SubmitAttestation {
        circuit_id: String,
        attribute: String,
        predicate: Predicate,
        commitment: HexBinary,
        consent_token_id: String,
        /// 192-byte Groth16 proof.
        proof: Binary,
        expires_at: Option<Timestamp>,
    },
    /// Verify up to `MAX_BATCH` proofs of one circuit with one batched pairing check and
    /// record them all, or none: each follows the rules of `submit_attestation`.
    SubmitAttestations {
        circuit_id: String,
        attestations: Vec<AttestationSubmission>,
    },
    /// Forward a local, currently valid attestation over the open, trusted channel of a
    /// counterparty chain. Funds attached (one coin) are the relayer fee: paid to the relayer
    /// that delivered the packet when its success ack returns, refunded to the sender on an
    /// error ack or a timeout. On the urgent lane's channel the fee must reach the
    /// governance-set `urgent_fee`.
    SendAttestation {
        attestation_id: u64,
        channel_id: String,
        timeout_seconds: Option<u64>,
    },
    /// Forward up to `MAX_BATCH` local attestations of one circuit in one packet; the
    /// receiving chain re-verifies them together and records all or none. Funds attached are
    /// the relayer fee of the packet, as for `send_attestation`.
    SendAttestations {
        attestation_ids: Vec<u64>,
        channel_id: String,
        timeout_seconds: Option<u64>,
    },
    /// Anyone: once the consent is revoked, tombstone it here and tell every counterparty
    /// chain that was sent an attestation under it (one packet per chain). Local attestations
    /// are invalid from the revocation itself (validity reads the consent), so this only
    /// carries the news; re-running retries chains not yet acknowledged. Never paused.
    PropagateRevocation {
        consent_token_id: String,
    },
    /// Anyone: once the staking contract holds a slash of `attester`, tombstone it here (its
    /// anchors and attestations stop being valid) and tell every counterparty chain.
    /// Re-running retries chains not yet acknowledged.
    InvalidateAttester {
        attester: String,
    },
    /// Governance: remove an anchor (a wrong or disputed one; see `anchor_conflicts`).
    RemoveAnchor {
        commitment: HexBinary,
        custodian: String,
    },
    /// Governance: set (or with `policy: None` clear) the predicate policy of an attribute.
    SetPredicatePolicy {
        attribute: String,
        policy: Option<PredicatePolicy>,
    },
    /// Governance: add a verifying key.
    SetVerifyingKey {
        vk: Binary,
    },
    RemoveVerifyingKey {
        circuit_id: String,
    },
    /// Governance: trust one channel on this IBC connection, to the attestation contract
    /// behind `counterparty_port` (`wasm.<address>`) on chain `chain_id`.
    AllowConnection {
        connection_id: String,
        chain_id: String,
        counterparty_port: String,
    },
    DisallowConnection {
        connection_id: String,
    },
    /// Governance: the least relayer fee of a send on the urgent lane (`None` closes the
    /// lane to new sends).
    SetUrgentFee {
        fee: Option<Coin>,
    },
    Pausable(PauseMsg),
    UpdateOwnership(Action),
}

#[cw_serde]
#[derive(QueryResponses)]
#[serde(deny_unknown_fields)]
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
    /// (default: now)? Scans the records of exactly that claim, newest first, a page at a
    /// time: `next` is set when the page held no valid one and more records remain.
    #[returns(IsAttestedResponse)]
    IsAttested {
        commitment: HexBinary,
        attribute: String,
        predicate: Predicate,
        at: Option<Timestamp>,
        start_before: Option<u64>,
    },
    /// The anchor of `commitment` by `custodian`.
    #[returns(Option<Anchor>)]
    Anchor {
        commitment: HexBinary,
        custodian: String,
    },
    /// Every custodian's anchor of `commitment`.
    #[returns(Vec<Anchor>)]
    Anchors {
        commitment: HexBinary,
        start_after: Option<String>,
        limit: Option<u32>,
    },
    #[returns(Vec<AnchorConflict>)]
    AnchorConflicts {
        commitment: HexBinary,
        start_after: Option<u64>,
        limit: Option<u32>,
    },
    #[returns(DeliveriesResponse)]
    Deliveries {
        attestation_id: u64,
        start_after: Option<String>,
        limit: Option<u32>,
    },
    /// Whether a consent of `source_chain` is tombstoned (revoked) here, and since when.
    #[returns(Option<Timestamp>)]
    ConsentRevocation {
        source_chain: String,
        consent_id: String,
    },
    /// Whether an attester of `source_chain` is tombstoned (slashed) here, and since when.
    #[returns(Option<Timestamp>)]
    AttesterInvalidation {
        source_chain: String,
        attester: String,
    },
    /// How far news of a revocation (`subject`: consent id) or of a slash (`subject`:
    /// attester) got, per counterparty chain.
    #[returns(Vec<NoticeDelivery>)]
    Notices { kind: NoticeKind, subject: String },
    #[returns(Option<PredicatePolicy>)]
    PredicatePolicy { attribute: String },
    #[returns(ChannelsResponse)]
    Channels {
        start_after: Option<String>,
        limit: Option<u32>,
    },
    #[returns(Vec<AllowedConnection>)]
    AllowedConnections {
        start_after: Option<String>,
        limit: Option<u32>,
    },
    #[returns(Vec<String>)]
    VerifyingKeys {
        start_after: Option<String>,
        limit: Option<u32>,
    },
    /// Relayer fees escrowed for packets in flight, by fee id.
    #[returns(RelayerFeesResponse)]
    RelayerFees {
        start_after: Option<u64>,
        limit: Option<u32>,
    },
    #[returns(PauseStatusResponse)]
    PauseStatus {},
    #[returns(Ownership<Addr>)]
    Ownership {},
}

#[cw_serde]
#[serde(deny_unknown_fields)]
pub struct MigrateMsg {}

#[cw_serde]
pub struct ConfigResponse {
    pub consent: Addr,
    pub staking: Addr,
    /// The least relayer fee of a send on the urgent lane.
    #[serde(default)]
    pub urgent_fee: Option<Coin>,
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

/// The context a proof is bound to (public input): chain, consent contract, consent, grantee.
#[cw_serde]
pub struct ProofContext {
    pub chain_id: String,
    pub consent_contract: String,
    pub consent_id: String,
    pub grantee: String,
}

/// What may be proven about one attribute. Governance sets it per attribute; attributes
/// without a policy accept every operator and width.
#[cw_serde]
#[serde(deny_unknown_fields)]
pub struct PredicatePolicy {
    /// Operator names allowed on the attribute; empty = all. A sensitive attribute would
    /// leave out `eq` and `in`, which disclose the value.
    pub allowed_ops: Vec<String>,
    /// Fewest values the attestations of one commitment may together narrow the attribute
    /// to (the intersection of their ranges); 0 = no limit. Refuses `between v v`, and a
    /// `lt 70` next to a `gte 69` that would pin the value to 69.
    pub min_range: u64,
}

/// One attestation of a `submit_attestations` batch (the fields of `submit_attestation`
/// but the circuit, which the batch names once).
#[cw_serde]
#[serde(deny_unknown_fields)]
pub struct AttestationSubmission {
    pub attribute: String,
    pub predicate: Predicate,
    pub commitment: HexBinary,
    pub consent_token_id: String,
    /// 192-byte Groth16 proof.
    pub proof: Binary,
    pub expires_at: Option<Timestamp>,
}

/// A relayer fee escrowed by this contract for one packet in flight.
#[cw_serde]
pub struct RelayerFee {
    pub id: u64,
    pub payer: Addr,
    pub amount: Coin,
    pub channel_id: String,
}

#[cw_serde]
pub struct RelayerFeesResponse {
    pub fees: Vec<RelayerFee>,
}

#[cw_serde]
#[serde(deny_unknown_fields)]
pub struct AttributePolicy {
    pub attribute: String,
    pub policy: PredicatePolicy,
}

#[cw_serde]
#[derive(Copy)]
pub enum NoticeKind {
    Revocation,
    Slash,
}

/// One counterparty chain's state for a revocation or slash notice.
#[cw_serde]
pub struct NoticeDelivery {
    pub chain_id: String,
    /// The channel the latest attempt went over (none if no channel was open).
    pub channel_id: Option<String>,
    pub status: DeliveryStatus,
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

/// Stored records are `Valid`; queries answer the effective status: `Revoked` once the
/// consent is revoked (or expired) or the attester slashed.
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
    pub predicate: Predicate,
    pub commitment: HexBinary,
    pub proof: Binary,
    pub context: ProofContext,
    /// The custodian that anchored the commitment (an address on the source chain). No
    /// patient or dataset: those stay in the anchor and the consent on the source chain.
    pub attester: String,
    pub recorded_at: Timestamp,
    pub height: u64,
    pub expires_at: Option<Timestamp>,
    pub status: AttestationStatus,
    /// The purpose of the consent the proof is bound to (e.g. `trial:3`), as the source
    /// chain's consent contract records it. Empty in records made before it was carried.
    #[serde(default)]
    pub consent_purpose: String,
    /// `healthmesh_controllers::identity::patient_tag` of the consent's patient: lets another
    /// chain recognise the patient's key (e.g. a trial enrolling them) while revealing
    /// nothing the consent id does not — the source chain's consent record names the patient.
    #[serde(default)]
    pub patient_tag: Option<HexBinary>,
}

#[cw_serde]
pub struct AttestationsResponse {
    pub attestations: Vec<Attestation>,
}

#[cw_serde]
pub struct IsAttestedResponse {
    pub attested: bool,
    pub attestation_id: Option<u64>,
    /// Pass as `start_before` to scan the next page (only when not attested in this one).
    pub next: Option<u64>,
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
pub struct ChannelInfo {
    pub channel_id: String,
    pub connection_id: String,
    pub counterparty_port: String,
    pub counterparty_channel: String,
    pub counterparty_chain: String,
    pub state: ChannelState,
    #[serde(default)]
    pub lane: Lane,
}

#[cw_serde]
pub struct ChannelsResponse {
    pub channels: Vec<ChannelInfo>,
}

/// The data of a success acknowledgement.
#[cw_serde]
pub struct ReceiveAck {
    /// Id of the recorded remote attestation (the first one of a batch); 1 (new) or 0
    /// (already known) for a revocation or slash notice.
    pub value: u64,
    /// Ids of the recorded remote attestations of a batch, in packet order.
    #[serde(default)]
    pub ids: Vec<u64>,
    /// The relayer that delivered the packet (the signer of its receive), who earns the
    /// packet's relayer fee on the source chain.
    #[serde(default)]
    pub relayer: Option<String>,
}

impl ReceiveAck {
    pub fn new(value: u64) -> Self {
        ReceiveAck {
            value,
            ids: Vec::new(),
            relayer: None,
        }
    }
}
