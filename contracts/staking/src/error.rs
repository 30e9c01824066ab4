use cosmwasm_std::{Decimal, StdError, Uint128};
use cw_ownable::OwnershipError;
use cw_utils::PaymentError;
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

    #[error("payment: {0}")]
    Payment(#[from] PaymentError),

    #[error("amount must be positive")]
    ZeroAmount,

    #[error("cannot unbond {requested}: only {bonded} bonded")]
    InsufficientBond { requested: Uint128, bonded: Uint128 },

    #[error("{max} claims already pending: claim matured funds or wait before unbonding again")]
    TooManyClaims { max: u32 },

    #[error("no matured claims (next release at {next})")]
    NothingToClaim { next: String },

    #[error("no rewards to withdraw")]
    NoRewards,

    #[error("nothing is bonded: rewards cannot be distributed")]
    NothingBonded,

    #[error("slash ratio must be in (0, 1], got {0}")]
    InvalidRatio(Decimal),

    #[error("{0} has nothing to slash")]
    NothingToSlash(String),

    #[error("max_claims must be 1 to {max}, got {got}")]
    InvalidMaxClaims { max: u32, got: u32 },

    #[error(
        "unbonding period must be positive and the slashing window at most the unbonding period"
    )]
    InvalidPeriods,

    #[error("at most {0} hooks")]
    TooManyHooks(usize),

    #[error("hook {0} is already registered")]
    HookExists(String),

    #[error("hook {0} is not registered")]
    HookNotFound(String),

    #[error("{0}")]
    Migrate(#[from] MigrateError),
}
