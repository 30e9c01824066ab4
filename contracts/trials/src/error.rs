use cosmwasm_std::StdError;
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

    #[error("admin: {0}")]
    Ownership(#[from] OwnershipError),

    #[error("{0}")]
    Migrate(#[from] MigrateError),

    #[error("funds are not accepted")]
    FundsNotAccepted,

    #[error("invalid trial: {0}")]
    InvalidTrial(String),

    #[error("site {0} is not approved by governance")]
    SiteNotApproved(String),

    #[error("trial {0} not found")]
    TrialNotFound(u64),

    #[error("trial {0} is already suspended")]
    AlreadySuspended(u64),

    #[error("trial {0} is not suspended")]
    NotSuspended(u64),

    #[error("trial {trial_id} is suspended: {reason}")]
    TrialSuspended { trial_id: u64, reason: String },

    #[error("enrollment in trial {0} is not open now")]
    EnrollmentClosed(u64),

    #[error("trial {0} is full")]
    TrialFull(u64),

    #[error("{participant} is already enrolled in trial {trial_id}")]
    AlreadyEnrolled { trial_id: u64, participant: String },

    #[error("{participant} is not enrolled in trial {trial_id}")]
    NotEnrolled { trial_id: u64, participant: String },

    #[error("not eligible: {0}")]
    NotEligible(String),

    #[error("{0}")]
    Channel(#[from] healthmesh_controllers::channels::ChannelError),

    #[error("no open channel to a trusted billing contract")]
    NoBillingChannel,

    #[error("only the sponsor of trial {0} may do this")]
    NotSponsor(u64),

    #[error("trial {0} has ended")]
    TrialEnded(u64),

    #[error("the budget terms of trial {0} are already on their way to the billing chain")]
    BudgetInFlight(u64),

    #[error("the budget of trial {0} is already open on the billing chain")]
    BudgetOpen(u64),

    #[error("trial {trial_id} has no milestone {milestone:?}")]
    UnknownMilestone { trial_id: u64, milestone: String },

    #[error("{address} is not an approved site of trial {trial_id}")]
    NotASite { trial_id: u64, address: String },

    #[error("the participant of trial {trial_id} is not active: {reason}")]
    ParticipantInactive { trial_id: u64, reason: String },

    #[error("milestone {milestone} of trial {trial_id} is already paid or being paid for this participant")]
    AlreadyClaimed { trial_id: u64, milestone: String },

    #[error("attestation {attestation_id} does not show the milestone: {reason}")]
    EvidenceRefused { attestation_id: u64, reason: String },

    #[error(
        "{0} is not a key account: only a key's address names the same owner on the billing chain"
    )]
    NotKeyAccount(String),

    #[error("the trials contract accepts no packets")]
    NoPacketsAccepted,

    #[error("not a packet of this contract: {0}")]
    ForeignPacket(String),

    #[error("no packet of this contract is waiting for that answer on that channel")]
    NotInFlight,

    #[error("no claim of milestone {milestone:?} in trial {trial_id} for that participant")]
    NoClaim { trial_id: u64, milestone: String },

    #[error("invalid setting: {0}")]
    InvalidSetting(String),
}
