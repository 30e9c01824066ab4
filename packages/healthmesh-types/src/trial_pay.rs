//! The milestone protocol between the trials contract (trials-1) and the billing contract
//! (billing-1): channel version `healthmesh-trials-1`, unordered, JSON packets, sent only by
//! the trials contract.
//!
//! Enrollment lives on trials-1, so that is where a milestone claim is judged (participant
//! enrolled and active, the site's attestation valid and under the participant's trial
//! consent, the evidence predicate implied, once per participant and milestone). The billing
//! contract trusts only the trials contract bound to its channel, and keeps what is its own to
//! keep: each trial's budget, paid from at most once per (trial, milestone, participant).
//!
//! Accounts travel as canonical bytes (same key on every chain, whatever the prefix).

use cosmwasm_schema::cw_serde;
use cosmwasm_std::{Binary, Coin, Timestamp};

pub const TRIALS_CHANNEL_VERSION: &str = "healthmesh-trials-1";

/// A budget is reclaimed only this long after the trial's end: a claim made before the end
/// is delivered or times out within it (the trials contract's packet timeout is at most 7
/// days), so the sponsor cannot race a claim in flight.
pub const RECLAIM_GRACE_SECONDS: u64 = 7 * 24 * 3600;

#[cw_serde]
#[serde(deny_unknown_fields)]
pub enum TrialPacket {
    /// Opens the trial's budget on the billing chain (or confirms it, if the same terms were
    /// announced before): who may fund and reclaim it, and from when.
    OpenBudget(BudgetTerms),
    /// Pay a milestone from the trial's budget.
    Milestone(MilestonePayout),
}

#[cw_serde]
#[serde(deny_unknown_fields)]
pub struct BudgetTerms {
    pub trial_id: u64,
    /// The sponsor's key account (canonical bytes): funds and reclaims the budget.
    pub sponsor: Binary,
    /// The trial's end: the sponsor reclaims what is left after it.
    pub ends_at: Timestamp,
}

#[cw_serde]
#[serde(deny_unknown_fields)]
pub struct MilestonePayout {
    pub trial_id: u64,
    pub milestone: String,
    /// The participant's and the site's key accounts (canonical bytes).
    pub participant: Binary,
    pub site: Binary,
    pub participant_payout: Coin,
    pub site_payout: Coin,
    /// The attestation on the trials chain that showed the milestone (for the record).
    pub attestation_id: u64,
}

/// Success acknowledgement data of a milestone: what was paid and what is left of the budget
/// in those denoms.
#[cw_serde]
pub struct MilestoneAck {
    pub paid: Vec<Coin>,
    pub budget_left: Vec<Coin>,
}

/// A packet's identity, read leniently, so acks of packets sent by an earlier version still
/// find their claim.
#[cw_serde]
pub enum TrialPacketId {
    OpenBudget(BudgetId),
    Milestone(MilestoneId),
}

#[cw_serde]
pub struct BudgetId {
    pub trial_id: u64,
}

#[cw_serde]
pub struct MilestoneId {
    pub trial_id: u64,
    pub milestone: String,
    pub participant: Binary,
}
