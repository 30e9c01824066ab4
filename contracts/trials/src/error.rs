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
}
