//! Messages of the trials contract (trials-1): the trial registry — a sponsor registers a
//! trial (protocol hash, eligibility criteria as predicates over attributes, enrollment
//! window, capacity, governance-approved sites, milestones with their evidence predicate and
//! payouts); governance approves sites and suspends trials; the council pauses.

#![cfg_attr(target_arch = "wasm32", allow(unused_imports))]

use cosmwasm_schema::{cw_serde, QueryResponses};
use cosmwasm_std::{Addr, Coin, HexBinary, Timestamp};
use cw_ownable::{Action, Ownership};
pub use healthmesh_proofs::statement::{Operator, Predicate};

pub use crate::ibc::{AllowedConnection, BoundChannel};
use crate::pause::{PauseMsg, PauseStatusResponse};

/// Most eligibility criteria and milestones per trial, sites per trial.
pub const MAX_CRITERIA: usize = 16;
pub const MAX_MILESTONES: usize = 16;
pub const MAX_TRIAL_SITES: usize = 32;
/// Longest enrollment window and trial (from registration to end): 10 years.
pub const MAX_TRIAL_SECONDS: u64 = 10 * 365 * 24 * 3600;
/// Most attestations one enrollment points to.
pub const MAX_ENROLL_ATTESTATIONS: usize = 32;

#[cw_serde]
#[serde(deny_unknown_fields)]
pub struct InstantiateMsg {
    /// Governance: approves sites, suspends trials.
    pub admin: String,
    /// This chain's attestation contract: enrollment reads the attestations it holds.
    pub attestation: String,
    /// Sites approved from the start (governance approves more with `approve_site`).
    #[serde(default)]
    pub sites: Vec<String>,
    #[serde(default)]
    pub pausers: Vec<String>,
    pub max_pause_seconds: Option<u64>,
    /// The billing contract trusted from the start (at most one connection): milestones are
    /// paid there from each trial's budget.
    #[serde(default)]
    pub billing_connections: Vec<AllowedConnection>,
    /// Timeout of packets to the billing chain; 600 s when not set.
    pub packet_timeout_seconds: Option<u64>,
}

/// Timeout of packets to the billing chain when none is set, and its bounds.
pub const DEFAULT_PACKET_TIMEOUT_SECONDS: u64 = 600;
pub const MIN_PACKET_TIMEOUT_SECONDS: u64 = 10;
pub const MAX_PACKET_TIMEOUT_SECONDS: u64 = 7 * 24 * 3600;

/// An eligibility criterion or a milestone's evidence: a predicate over one attribute, as the
/// attestations prove it (`{"attribute":"hba1c","predicate":{"op":"lt","values":[70]}}`).
#[cw_serde]
#[serde(deny_unknown_fields)]
pub struct Criterion {
    pub attribute: String,
    pub predicate: Predicate,
}

#[cw_serde]
#[serde(deny_unknown_fields)]
pub struct Milestone {
    /// An identifier, e.g. `visit-3` or `adherence-28d`.
    pub name: String,
    /// What a site's attestation must prove, e.g. `visits_completed gte 3`.
    pub evidence: Criterion,
    /// Paid on the billing chain per participant reaching it, to the participant and the site.
    pub participant_payout: Coin,
    pub site_payout: Coin,
}

#[cw_serde]
#[serde(deny_unknown_fields)]
pub struct TrialTerms {
    /// SHA-256 of the protocol document (never the document).
    pub protocol_hash: HexBinary,
    /// Every one must be covered by a participant's attestations.
    pub criteria: Vec<Criterion>,
    pub enrollment_opens: Timestamp,
    pub enrollment_closes: Timestamp,
    /// After it, no milestone is paid and the sponsor reclaims what is left of the budget.
    pub ends_at: Timestamp,
    pub capacity: u32,
    /// Sites running the trial; each must be approved by governance.
    pub sites: Vec<String>,
    pub milestones: Vec<Milestone>,
}

#[cw_serde]
#[serde(deny_unknown_fields)]
pub enum ExecuteMsg {
    /// The sender (sponsor) registers a trial; its id is returned as data and in the event.
    RegisterTrial(TrialTerms),
    /// The sender (the patient) enrolls: `attestation_ids` are attestations this chain's
    /// attestation contract holds, all under one consent the sender granted to this contract
    /// for `trial:<trial_id>`, together covering every eligibility criterion. No value is
    /// recorded.
    Enroll {
        trial_id: u64,
        attestation_ids: Vec<u64>,
    },
    /// The participant leaves the trial. Never paused.
    Withdraw {
        trial_id: u64,
    },
    /// The sender (a site of the trial) claims `milestone` for `participant`, showing it with
    /// `attestation_id`: an attestation this chain holds, made by the sender, under the consent
    /// the participant enrolled with, proving the milestone's evidence. The payout is sent to
    /// the billing chain; once paid it is never paid again.
    ClaimMilestone {
        trial_id: u64,
        milestone: String,
        participant: String,
        attestation_id: u64,
    },
    /// The sponsor (re)sends the trial's budget terms to the billing chain (registration sends
    /// them when a billing channel is open). Idempotent there.
    AnnounceBudget {
        trial_id: u64,
    },
    /// Governance: trust the billing contract at `counterparty_port` over `connection_id`.
    AllowBilling(AllowedConnection),
    /// Governance: stop trusting a billing connection.
    DisallowBilling {
        connection_id: String,
    },
    /// Governance: a site (an address) may run trials.
    ApproveSite {
        site: String,
    },
    /// Governance: the site may no longer be named by new trials.
    RevokeSite {
        site: String,
    },
    /// Governance: stop a trial (no enrollment, no milestone) until resumed.
    SuspendTrial {
        trial_id: u64,
        reason: String,
    },
    ResumeTrial {
        trial_id: u64,
    },
    Pausable(PauseMsg),
    UpdateOwnership(Action),
}

#[cw_serde]
#[derive(QueryResponses)]
#[serde(deny_unknown_fields)]
pub enum QueryMsg {
    #[returns(Trial)]
    Trial { trial_id: u64 },
    /// Trials, newest first after `start_before`; only `sponsor`'s if named.
    #[returns(TrialsResponse)]
    Trials {
        sponsor: Option<String>,
        start_before: Option<u64>,
        limit: Option<u32>,
    },
    /// One participant, with whether their enrollment holds now (consent live, attestations
    /// valid).
    #[returns(ParticipantResponse)]
    Participant { trial_id: u64, participant: String },
    #[returns(ParticipantsResponse)]
    Participants {
        trial_id: u64,
        start_after: Option<String>,
        limit: Option<u32>,
    },
    /// A participant's milestone claim and its fate.
    #[returns(MilestoneClaim)]
    MilestoneClaim {
        trial_id: u64,
        milestone: String,
        participant: String,
    },
    /// A trial's milestone claims, by (milestone, participant) after `start_after`.
    #[returns(MilestoneClaimsResponse)]
    MilestoneClaims {
        trial_id: u64,
        start_after: Option<(String, String)>,
        limit: Option<u32>,
    },
    /// What the billing chain answered to the trial's budget terms.
    #[returns(BudgetLink)]
    BudgetLink { trial_id: u64 },
    #[returns(Vec<BoundChannel>)]
    BillingChannels {},
    #[returns(Vec<AllowedConnection>)]
    BillingConnections {},
    #[returns(SitesResponse)]
    Sites {
        start_after: Option<String>,
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
pub enum TrialStatus {
    Active,
    Suspended { at: Timestamp, reason: String },
}

#[cw_serde]
pub struct Trial {
    pub id: u64,
    pub sponsor: Addr,
    pub protocol_hash: HexBinary,
    pub criteria: Vec<Criterion>,
    pub enrollment_opens: Timestamp,
    pub enrollment_closes: Timestamp,
    pub ends_at: Timestamp,
    pub capacity: u32,
    pub sites: Vec<Addr>,
    pub milestones: Vec<Milestone>,
    pub registered_at: Timestamp,
    pub status: TrialStatus,
}

impl Trial {
    /// The consent purpose a patient grants to this trial.
    pub fn purpose(&self) -> String {
        trial_purpose(self.id)
    }
}

/// `trial:<id>`: the purpose of a consent granted to trial `id`.
pub fn trial_purpose(id: u64) -> String {
    format!("trial:{id}")
}

#[cw_serde]
pub struct TrialsResponse {
    pub trials: Vec<Trial>,
}

#[cw_serde]
pub enum EnrollmentStatus {
    Enrolled,
    Withdrawn { at: Timestamp },
}

/// A participant: who, under which consent, on which attestations — never a value.
#[cw_serde]
pub struct Enrollment {
    pub trial_id: u64,
    pub participant: Addr,
    pub source_chain: String,
    pub consent_id: String,
    pub attestation_ids: Vec<u64>,
    pub enrolled_at: Timestamp,
    pub status: EnrollmentStatus,
}

#[cw_serde]
pub struct ParticipantResponse {
    pub enrollment: Enrollment,
    /// Enrolled, and every attestation of the enrollment still valid (the consent live).
    pub active: bool,
    /// Why not, when not.
    pub reason: Option<String>,
}

#[cw_serde]
pub struct ParticipantsResponse {
    pub participants: Vec<Enrollment>,
    /// Enrolled (not withdrawn) participants.
    pub enrolled: u32,
}

#[cw_serde]
pub struct SitesResponse {
    pub sites: Vec<Addr>,
}

#[cw_serde]
pub enum ClaimStatus {
    /// Sent to the billing chain; waiting for its answer.
    InFlight {
        channel_id: String,
    },
    Paid {
        at: Timestamp,
    },
    /// Refused there (e.g. the budget is exhausted) or timed out: nothing was paid, and the
    /// site may claim again.
    Unpaid {
        reason: String,
        at: Timestamp,
    },
}

#[cw_serde]
pub struct MilestoneClaim {
    pub trial_id: u64,
    pub milestone: String,
    pub participant: Addr,
    pub site: Addr,
    pub attestation_id: u64,
    pub participant_payout: Coin,
    pub site_payout: Coin,
    pub claimed_at: Timestamp,
    pub status: ClaimStatus,
}

#[cw_serde]
pub struct MilestoneClaimsResponse {
    pub claims: Vec<MilestoneClaim>,
}

#[cw_serde]
pub enum BudgetLinkStatus {
    /// No channel to the billing chain when the trial was registered: announce it.
    NotAnnounced,
    Announced {
        channel_id: String,
    },
    Open {
        at: Timestamp,
    },
    Refused {
        reason: String,
        at: Timestamp,
    },
}

#[cw_serde]
pub struct BudgetLink {
    pub trial_id: u64,
    pub status: BudgetLinkStatus,
}
