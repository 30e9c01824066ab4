//! Messages of the billing contract (billing-1): researchers buy access to patients' standing
//! offers on the other chains; the payment is escrowed, a purchase packet goes to the offer's
//! consent contract over the settlement channel (`crate::settle`), and the acknowledgement
//! either splits the payment (patient, custodian, treasury, relayer) or refunds it in full.
//!
//! Payouts are credited to each payee's balance in the contract and withdrawn with
//! `withdraw`, so a payee that cannot receive never blocks a settlement; refunds go straight
//! back to the buyer. The contract's bank balance always equals the open escrows plus the
//! unclaimed balances (`ledger`).

#![cfg_attr(target_arch = "wasm32", allow(unused_imports))]

use cosmwasm_schema::{cw_serde, QueryResponses};
use cosmwasm_std::{Addr, Coin, Timestamp, Uint128};
use cw_ownable::{Action, Ownership};

pub use crate::ibc::{AllowedConnection, BoundChannel};
use crate::pause::{PauseMsg, PauseStatusResponse};

/// Basis points in a whole.
pub const BPS: u16 = 10_000;
/// The patient's share is always within 70–90 %.
pub const MIN_PATIENT_BPS: u16 = 7_000;
pub const MAX_PATIENT_BPS: u16 = 9_000;
/// Packet timeout when governance sets none, and the bounds it may set.
pub const DEFAULT_PACKET_TIMEOUT_SECONDS: u64 = 600;
pub const MIN_PACKET_TIMEOUT_SECONDS: u64 = 10;
pub const MAX_PACKET_TIMEOUT_SECONDS: u64 = 7 * 24 * 3600;
/// Longest access one purchase buys (a year) and most accepted denoms.
pub const MAX_ACCESS_SECONDS: u64 = 365 * 24 * 3600;
pub const MAX_PRICE_FLOORS: usize = 8;
/// Most trusted consent contracts (chains): bounds the channel list.
pub const MAX_MARKETS: usize = 16;

/// How a settled payment is divided, in basis points summing to [`BPS`]. Each share but the
/// patient's is rounded down; the patient gets the remainder, so no coin is created or lost.
#[cw_serde]
#[derive(Copy, Eq)]
pub struct RevenueSplit {
    pub patient_bps: u16,
    pub custodian_bps: u16,
    pub treasury_bps: u16,
    pub relayer_bps: u16,
}

#[cw_serde]
#[serde(deny_unknown_fields)]
pub struct InstantiateMsg {
    /// Governance (the billing chain's DAO): sets the market's rules and trusted channels.
    pub admin: String,
    /// Who besides the admin may pause (the security council). At most 8.
    #[serde(default)]
    pub pausers: Vec<String>,
    pub max_pause_seconds: Option<u64>,
    pub split: RevenueSplit,
    /// The DAO treasury's payout address.
    pub treasury: String,
    /// Accepted payment denoms, each with its least price per purchase.
    pub price_floors: Vec<Coin>,
    /// Consent contracts trusted from the start, one per connection (chain).
    #[serde(default)]
    pub allowed_connections: Vec<AllowedConnection>,
    pub packet_timeout_seconds: Option<u64>,
    /// Trials contracts trusted from the start to pay milestones from trial budgets.
    #[serde(default)]
    pub trials_connections: Vec<AllowedConnection>,
}

/// Most trusted trials contracts (chains).
pub const MAX_TRIALS_LINKS: usize = 4;

#[cw_serde]
#[serde(deny_unknown_fields)]
pub enum ExecuteMsg {
    /// Buy access to `offer_id` on `chain_id`'s consent contract, paying the offer's price
    /// (exactly one coin attached). The consent token is minted to the sender's key there.
    Buy {
        chain_id: String,
        offer_id: u64,
        purpose: String,
        scope: Vec<String>,
        duration_seconds: u64,
    },
    /// Pay out the sender's unclaimed balance (every denom). Never paused.
    Withdraw {},
    /// Governance: the market's rules. Fields left out keep their value; a changed split
    /// applies to purchases made after it.
    UpdateMarket {
        split: Option<RevenueSplit>,
        treasury: Option<String>,
        price_floors: Option<Vec<Coin>>,
        packet_timeout_seconds: Option<u64>,
    },
    /// Governance: trust the consent contract at `counterparty_port` over `connection_id`.
    AllowConnection(AllowedConnection),
    /// Governance: stop trusting a connection (its channel takes no new purchases; packets
    /// in flight still settle or refund).
    DisallowConnection {
        connection_id: String,
    },
    /// The sponsor adds the attached coin (exactly one) to the budget of trial `trial_id` of
    /// `chain_id`'s trials contract; the budget must have been opened by that contract, and
    /// the sender must be the trial's sponsor (same key) before the trial's end.
    FundTrial {
        chain_id: String,
        trial_id: u64,
    },
    /// The sponsor takes back what is left of the budget after the trial's end; the budget is
    /// closed (later milestones are refused). Never paused.
    ReclaimTrialBudget {
        chain_id: String,
        trial_id: u64,
    },
    /// Governance: trust the trials contract at `counterparty_port` over `connection_id`.
    AllowTrials(AllowedConnection),
    DisallowTrials {
        connection_id: String,
    },
    Pausable(PauseMsg),
    /// Governance: refund the buyer of a disputed purchase (one whose acknowledgement could
    /// not be read). Disputed escrows stay in the contract until resolved.
    ResolveDispute {
        purchase_id: u64,
    },
    /// Two-step transfer of the admin role.
    UpdateOwnership(Action),
}

#[cw_serde]
#[derive(QueryResponses)]
#[serde(deny_unknown_fields)]
pub enum QueryMsg {
    #[returns(MarketResponse)]
    Market {},
    #[returns(Purchase)]
    Purchase { purchase_id: u64 },
    /// A buyer's purchases, newest first after `start_before`.
    #[returns(PurchasesResponse)]
    PurchasesByBuyer {
        buyer: String,
        start_before: Option<u64>,
        limit: Option<u32>,
    },
    /// Credits, refunds and withdrawals of `address`, newest first after `start_before`.
    #[returns(HistoryResponse)]
    History {
        address: String,
        start_before: Option<u64>,
        limit: Option<u32>,
    },
    /// What `address` may withdraw now.
    #[returns(BalanceResponse)]
    Balance { address: String },
    /// Totals per denom: open escrows and unclaimed balances (their sum is the contract's
    /// bank balance).
    #[returns(LedgerResponse)]
    Ledger {},
    #[returns(Vec<BoundChannel>)]
    Channels {},
    /// A trial's budget: sponsor, end, funds left, paid out.
    #[returns(TrialBudget)]
    TrialBudget { chain_id: String, trial_id: u64 },
    /// Whether a milestone was paid to a participant (canonical bytes are the participant's
    /// key: pass their address on this chain).
    #[returns(Option<MilestonePaid>)]
    MilestonePaid {
        chain_id: String,
        trial_id: u64,
        milestone: String,
        participant: String,
    },
    #[returns(Vec<BoundChannel>)]
    TrialsChannels {},
    #[returns(Vec<AllowedConnection>)]
    TrialsConnections {},
    #[returns(Vec<AllowedConnection>)]
    AllowedConnections {},
    #[returns(PauseStatusResponse)]
    PauseStatus {},
    #[returns(Ownership<Addr>)]
    Ownership {},
}

#[cw_serde]
#[serde(deny_unknown_fields)]
pub struct MigrateMsg {}

#[cw_serde]
pub struct MarketResponse {
    pub split: RevenueSplit,
    pub treasury: Addr,
    pub price_floors: Vec<Coin>,
    pub packet_timeout_seconds: u64,
}

#[cw_serde]
#[derive(Copy, Eq)]
pub enum PayoutRole {
    Patient,
    Custodian,
    Treasury,
    Relayer,
    /// A trial participant paid for a milestone.
    Participant,
    /// A trial site paid for a participant's milestone.
    Site,
}

#[cw_serde]
pub struct Payout {
    pub role: PayoutRole,
    pub address: Addr,
    pub amount: Coin,
}

#[cw_serde]
pub enum PurchaseStatus {
    /// Escrowed, packet in flight.
    Open,
    Settled {
        token_id: String,
        grantee: String,
        at: Timestamp,
        payouts: Vec<Payout>,
    },
    Refunded {
        reason: String,
        at: Timestamp,
    },
    /// The acknowledgement could not be read or named another purchase: the escrow is held
    /// until governance resolves it (`resolve_dispute`).
    Disputed {
        reason: String,
        at: Timestamp,
    },
}

#[cw_serde]
pub struct Purchase {
    pub id: u64,
    pub buyer: Addr,
    pub chain_id: String,
    pub channel_id: String,
    pub offer_id: u64,
    pub purpose: String,
    pub scope: Vec<String>,
    pub duration_seconds: u64,
    pub paid: Coin,
    /// The split in force when the purchase was made.
    pub split: RevenueSplit,
    pub created_at: Timestamp,
    pub status: PurchaseStatus,
}

#[cw_serde]
pub struct PurchasesResponse {
    pub purchases: Vec<Purchase>,
}

/// One line of an address's history.
#[cw_serde]
pub enum HistoryKind {
    /// A share of a settled purchase credited to the address.
    Credit { purchase_id: u64, role: PayoutRole },
    /// A purchase of the address refunded to it.
    Refund { purchase_id: u64, reason: String },
    /// Unclaimed balance paid out.
    Withdrawal {},
    /// A milestone payout credited to the address (participant or site).
    Milestone {
        chain_id: String,
        trial_id: u64,
        milestone: String,
        role: PayoutRole,
    },
    /// The sponsor funded a trial's budget.
    TrialFunding { chain_id: String, trial_id: u64 },
    /// The sponsor took back what was left of a trial's budget.
    TrialReclaim { chain_id: String, trial_id: u64 },
}

#[cw_serde]
pub struct HistoryEntry {
    pub id: u64,
    pub kind: HistoryKind,
    pub amount: Vec<Coin>,
    pub at: Timestamp,
}

#[cw_serde]
pub struct HistoryResponse {
    pub entries: Vec<HistoryEntry>,
}

#[cw_serde]
pub struct BalanceResponse {
    pub balance: Vec<Coin>,
}

#[cw_serde]
pub struct DenomTotals {
    pub denom: String,
    pub open_escrow: Uint128,
    pub unclaimed: Uint128,
    /// Funds left in trial budgets.
    #[serde(default)]
    pub trial_budgets: Uint128,
}

#[cw_serde]
pub struct LedgerResponse {
    pub totals: Vec<DenomTotals>,
    pub open_purchases: u64,
}

#[cw_serde]
pub enum TrialBudgetStatus {
    Open,
    Reclaimed { at: Timestamp },
}

/// A trial's milestone budget, opened by the trials contract of `chain_id`.
#[cw_serde]
pub struct TrialBudget {
    pub chain_id: String,
    pub trial_id: u64,
    /// The sponsor's address here (same key as on the trials chain).
    pub sponsor: Addr,
    pub ends_at: Timestamp,
    /// What is left, per denom.
    pub funds: Vec<Coin>,
    pub funded: Vec<Coin>,
    pub paid_out: Vec<Coin>,
    pub payouts: u32,
    pub opened_at: Timestamp,
    pub status: TrialBudgetStatus,
}

#[cw_serde]
pub struct MilestonePaid {
    pub participant: Addr,
    pub site: Addr,
    pub paid: Vec<Coin>,
    pub attestation_id: u64,
    pub at: Timestamp,
}
