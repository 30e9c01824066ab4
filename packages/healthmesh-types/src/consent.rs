//! Messages of the consent contract: non-transferable, cw721-compatible consent tokens.
//!
//! A patient grants a grantee (researcher) access to a dataset commitment for one purpose and
//! a scope of attribute codes until an expiry; the token is owned by the grantee, never moves,
//! and is kept (marked revoked) when the patient withdraws consent.
//!
//! The cw721 variants below carry the same JSON as `cw721::msg::Cw721ExecuteMsg` and
//! `Cw721QueryMsg` and answer with the cw721 crate's response types, so cw721 wallets and
//! indexers read consent tokens unchanged.

// The response types are named only in `#[returns]`, which cosmwasm-schema drops on wasm.
#![cfg_attr(target_arch = "wasm32", allow(unused_imports))]

use cosmwasm_schema::{cw_serde, QueryResponses};
use cosmwasm_std::{Addr, Binary, Coin, Empty, HexBinary, Timestamp};
use cw721::msg::{
    AllNftInfoResponse, ApprovalsResponse, CollectionInfoAndExtensionResponse, MinterResponse,
    NftInfoResponse, NumTokensResponse, OperatorsResponse, OwnerOfResponse, TokensResponse,
};
use cw_ownable::{Action, Ownership};
use cw_utils::Expiration;

pub use crate::ibc::{AllowedConnection, BoundChannel};
use crate::pause::{PauseMsg, PauseStatusResponse};

/// Longest purpose identifier, e.g. `trial-eligibility`.
pub const MAX_PURPOSE_LEN: usize = 64;
/// Longest attribute code, e.g. `hba1c` or `genotype:brca1`.
pub const MAX_ATTRIBUTE_LEN: usize = 32;
/// Most attribute codes one grant may cover.
pub const MAX_SCOPE: usize = 32;
/// Longest free-text revocation reason or access reference.
pub const MAX_NOTE_LEN: usize = 256;
/// Most recent grants of one (grantee, dataset) pair that `check_access` without a token id
/// examines; naming the token id checks exactly that grant.
pub const MAX_ACCESS_SCAN: usize = 50;

/// Most grantees an offer may list as its only buyers.
pub const MAX_OFFER_BUYERS: usize = 32;
/// Most purposes one offer allows.
pub const MAX_OFFER_PURPOSES: usize = 8;
/// Longest access an offer may sell (a year).
pub const MAX_OFFER_DURATION_SECONDS: u64 = 365 * 24 * 3600;
/// Longest denom or payout address an offer names.
pub const MAX_OFFER_TEXT: usize = 128;

/// The cw721 collection extension of the consent contract: none.
pub type CollectionExtension = Option<Empty>;

#[cw_serde]
#[serde(deny_unknown_fields)]
pub struct InstantiateMsg {
    /// cw721 collection name, e.g. "HealthMesh Consent (genomics-1)".
    pub name: String,
    /// cw721 collection symbol, e.g. "HMCONSENT".
    pub symbol: String,
    /// The governance contract: may revoke any consent, manage pausers and unpause. It is the
    /// collection's cw721 "creator" (`get_creator_ownership`).
    pub admin: String,
    /// Who besides the admin may pause (the security council). At most 8.
    #[serde(default)]
    pub pausers: Vec<String>,
    /// Longest a pause lasts before it lapses by itself (default 14 days, 1 h to 365 d).
    pub max_pause_seconds: Option<u64>,
    /// Billing contracts trusted from the start to sell this chain's offers (settlement
    /// channel `healthmesh-settle-1`), one per connection.
    #[serde(default)]
    pub settlement_connections: Vec<AllowedConnection>,
}

#[cw_serde]
#[serde(deny_unknown_fields)]
pub enum ExecuteMsg {
    /// Patient (sender) grants `grantee` access: mints a token owned by the grantee.
    GrantConsent {
        grantee: String,
        /// 32-byte commitment of the dataset (hex). Never data.
        dataset: HexBinary,
        /// What the access is for, e.g. `genomics-research`, `trial-eligibility`.
        purpose: String,
        /// Attribute codes that may be attested under this consent, e.g. `["hba1c","age"]`.
        scope: Vec<String>,
        /// When the consent lapses; must be in the future.
        expires: Expiration,
    },
    /// The patient (sender) names the custodian (a bonded attester) that holds `dataset` for
    /// them, or with `custodian: None` withdraws the designation. Only the designated custodian
    /// may anchor commitments of the patient's dataset, and attestations are accepted only over
    /// its anchors: a bonded stranger cannot attest about this patient.
    DesignateCustodian {
        dataset: HexBinary,
        custodian: Option<String>,
    },
    /// The issuing patient (or the admin) withdraws consent. The record is kept, marked
    /// revoked with when, by whom and why. Never paused: withdrawing consent always works.
    RevokeConsent {
        token_id: String,
        reason: Option<String>,
    },
    /// The grantee records one use of the grant (audit trail); refused unless the grant is
    /// valid now and covers `attribute`.
    RecordAccess {
        token_id: String,
        attribute: String,
        /// Caller's reference for the use, e.g. a query id. No PHI.
        reference: Option<String>,
    },
    /// The patient (sender) publishes a standing offer: access to `dataset` for one of
    /// `purposes`, within `scope`, for at most `max_duration_seconds`, at `price` paid on the
    /// billing chain to `payout` (default: the patient's own key there). `buyers` limits who
    /// may buy (grantee addresses on this chain; none: anyone); `max_sales` caps the sales.
    PublishOffer {
        dataset: HexBinary,
        purposes: Vec<String>,
        scope: Vec<String>,
        max_duration_seconds: u64,
        price: Coin,
        payout: Option<String>,
        buyers: Option<Vec<String>>,
        max_sales: Option<u32>,
    },
    /// The patient withdraws an offer; purchases arriving later are refused (and refunded on
    /// the billing chain). Never paused.
    WithdrawOffer {
        offer_id: u64,
    },
    /// Governance: trust the billing contract at `counterparty_port` over `connection_id`.
    AllowSettlement(AllowedConnection),
    /// Governance: stop trusting a settlement connection.
    DisallowSettlement {
        connection_id: String,
    },
    /// Pause, unpause, manage pausers.
    Pausable(PauseMsg),
    /// Two-step transfer of the admin role (cw-ownable action), cw721's creator ownership.
    UpdateCreatorOwnership(Action),

    // cw721 messages that a non-transferable consent token refuses with
    // `ContractError::NonTransferable`.
    TransferNft {
        recipient: String,
        token_id: String,
    },
    SendNft {
        contract: String,
        token_id: String,
        msg: Binary,
    },
    Approve {
        spender: String,
        token_id: String,
        expires: Option<Expiration>,
    },
    /// cw721's revoke of an *approval* (not of consent: see `RevokeConsent`).
    Revoke {
        spender: String,
        token_id: String,
    },
    ApproveAll {
        operator: String,
        expires: Option<Expiration>,
    },
    RevokeAll {
        operator: String,
    },
    /// Consent records are never deleted; use `RevokeConsent`.
    Burn {
        token_id: String,
    },
}

#[cw_serde]
#[derive(QueryResponses)]
#[serde(deny_unknown_fields)]
pub enum QueryMsg {
    /// May `grantee` use `dataset` for `purpose` on `attribute` now? With `token_id`, checks
    /// that grant only; otherwise the grantee's most recent grants on the dataset (optionally
    /// only those issued by `patient`).
    #[returns(CheckAccessResponse)]
    CheckAccess {
        grantee: String,
        dataset: HexBinary,
        purpose: String,
        attribute: String,
        token_id: Option<String>,
        patient: Option<String>,
    },
    /// One consent record with its effective status.
    #[returns(ConsentResponse)]
    Consent { token_id: String },
    /// The custodian the patient designated for a dataset, if any.
    #[returns(CustodianResponse)]
    Custodian { patient: String, dataset: HexBinary },
    #[returns(ConsentsResponse)]
    GrantsByPatient {
        patient: String,
        start_after: Option<String>,
        limit: Option<u32>,
    },
    #[returns(ConsentsResponse)]
    GrantsByGrantee {
        grantee: String,
        start_after: Option<String>,
        limit: Option<u32>,
    },
    #[returns(ConsentsResponse)]
    GrantsByDataset {
        dataset: HexBinary,
        start_after: Option<String>,
        limit: Option<u32>,
    },
    #[returns(PauseStatusResponse)]
    PauseStatus {},
    #[returns(Offer)]
    Offer { offer_id: u64 },
    /// Offers (open and withdrawn), newest first after `start_before`; only `patient`'s if
    /// named.
    #[returns(OffersResponse)]
    Offers {
        patient: Option<String>,
        start_before: Option<u64>,
        limit: Option<u32>,
    },
    #[returns(Vec<BoundChannel>)]
    SettlementChannels {},
    #[returns(Vec<AllowedConnection>)]
    SettlementConnections {},

    // cw721 0.22 queries, same JSON as `cw721::msg::Cw721QueryMsg`.
    #[returns(OwnerOfResponse)]
    OwnerOf {
        token_id: String,
        include_expired: Option<bool>,
    },
    /// Always empty: consent tokens cannot be approved.
    #[returns(ApprovalsResponse)]
    Approvals {
        token_id: String,
        include_expired: Option<bool>,
    },
    /// Always empty: consent tokens cannot be approved.
    #[returns(OperatorsResponse)]
    AllOperators {
        owner: String,
        include_expired: Option<bool>,
        start_after: Option<String>,
        limit: Option<u32>,
    },
    #[returns(NumTokensResponse)]
    NumTokens {},
    #[returns(CollectionInfoAndExtensionResponse<CollectionExtension>)]
    ContractInfo {},
    #[returns(CollectionInfoAndExtensionResponse<CollectionExtension>)]
    GetCollectionInfoAndExtension {},
    /// `minter: None`: every patient mints (issues) their own consent.
    #[returns(MinterResponse)]
    Minter {},
    /// `owner: None`: every patient mints (issues) their own consent.
    #[returns(Ownership<Addr>)]
    GetMinterOwnership {},
    /// The admin (governance).
    #[returns(Ownership<Addr>)]
    GetCreatorOwnership {},
    #[returns(NftInfoResponse<ConsentRecord>)]
    NftInfo { token_id: String },
    #[returns(AllNftInfoResponse<ConsentRecord>)]
    AllNftInfo {
        token_id: String,
        include_expired: Option<bool>,
    },
    /// Tokens held by `owner`, i.e. grants to that grantee.
    #[returns(TokensResponse)]
    Tokens {
        owner: String,
        start_after: Option<String>,
        limit: Option<u32>,
    },
    #[returns(TokensResponse)]
    AllTokens {
        start_after: Option<String>,
        limit: Option<u32>,
    },
}

#[cw_serde]
#[serde(deny_unknown_fields)]
pub struct MigrateMsg {}

/// A consent grant as stored; also the token's cw721 `extension`.
#[cw_serde]
pub struct ConsentRecord {
    /// The patient who issued the consent.
    pub patient: Addr,
    /// The researcher who holds the token.
    pub grantee: Addr,
    pub dataset: HexBinary,
    pub purpose: String,
    pub scope: Vec<String>,
    pub issued_at: Timestamp,
    pub issued_height: u64,
    pub expires: Expiration,
    pub status: ConsentStatus,
    /// How many times the grantee recorded a use.
    pub uses: u64,
    pub last_used_at: Option<Timestamp>,
}

#[cw_serde]
pub enum ConsentStatus {
    Active,
    Revoked {
        at: Timestamp,
        height: u64,
        by: Addr,
        reason: Option<String>,
    },
}

/// Status at the current block: a stored `Active` consent past its expiry is `Expired`.
#[cw_serde]
pub enum EffectiveStatus {
    Active,
    Expired,
    Revoked,
}

#[cw_serde]
pub struct ConsentResponse {
    pub token_id: String,
    pub effective_status: EffectiveStatus,
    pub record: ConsentRecord,
}

#[cw_serde]
pub struct ConsentsResponse {
    pub consents: Vec<ConsentResponse>,
}

/// Why access is refused.
#[cw_serde]
pub enum DenialReason {
    /// No grant from this patient to this grantee covers the dataset.
    Unknown,
    /// The grant is for another purpose.
    WrongPurpose,
    /// The attribute is not in the grant's scope.
    OutOfScope,
    Revoked,
    Expired,
}

/// A patient's standing access offer.
#[cw_serde]
pub struct Offer {
    pub id: u64,
    pub patient: Addr,
    pub dataset: HexBinary,
    pub purposes: Vec<String>,
    pub scope: Vec<String>,
    pub max_duration_seconds: u64,
    /// Paid on the billing chain.
    pub price: Coin,
    /// The patient's payout address on the billing chain; `None`: the patient's own key.
    pub payout: Option<String>,
    /// Grantees allowed to buy; `None`: anyone.
    pub buyers: Option<Vec<Addr>>,
    pub max_sales: Option<u32>,
    pub sales: u32,
    pub created_at: Timestamp,
    pub status: OfferStatus,
}

#[cw_serde]
pub enum OfferStatus {
    Open,
    Withdrawn { at: Timestamp },
}

#[cw_serde]
pub struct OffersResponse {
    pub offers: Vec<Offer>,
}

#[cw_serde]
pub struct CustodianResponse {
    pub custodian: Option<Addr>,
}

#[cw_serde]
pub struct CheckAccessResponse {
    pub allowed: bool,
    /// The grant that allows access, or the closest one that does not.
    pub token_id: Option<String>,
    /// The issuing patient of that grant.
    pub patient: Option<Addr>,
    /// `None` when allowed.
    pub reason: Option<DenialReason>,
}
