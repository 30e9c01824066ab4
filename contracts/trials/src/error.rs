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
}
