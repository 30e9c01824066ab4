//! Messages of the trials contract (trials-1): the trial registry — a sponsor registers a
//! trial (protocol hash, eligibility criteria as predicates over attributes, enrollment
//! window, capacity, governance-approved sites, milestones with their evidence predicate and
//! payouts); governance approves sites and suspends trials; the council pauses.

#![cfg_attr(target_arch = "wasm32", allow(unused_imports))]

use cosmwasm_schema::{cw_serde, QueryResponses};
use cosmwasm_std::{Addr, Coin, HexBinary, Timestamp};
use cw_ownable::{Action, Ownership};
pub use healthmesh_proofs::statement::{Operator, Predicate};

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
}

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
