use cosmwasm_std::{Coin, StdError};
use cw_ownable::OwnershipError;
use cw_utils::PaymentError;
use healthmesh_controllers::channels::ChannelError;
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
    Channel(#[from] ChannelError),

    #[error("payment: {0}")]
    Payment(#[from] PaymentError),

    #[error("{0}")]
    Migrate(#[from] MigrateError),

    #[error("funds are not accepted")]
    FundsNotAccepted,

    #[error("invalid revenue split: {0}")]
    InvalidSplit(String),

    #[error("invalid market setting: {0}")]
    InvalidMarket(String),

    #[error("{denom} is not accepted; pay in one of: {accepted}")]
    DenomNotAccepted { denom: String, accepted: String },

    #[error("paid {paid}, below the market's floor of {floor}")]
    BelowFloor { paid: Coin, floor: Coin },

    #[error("purchase {0} not found")]
    PurchaseNotFound(u64),

    #[error("purchase {0} is already settled or refunded")]
    PurchaseNotOpen(u64),

    #[error("not a packet of this contract: {0}")]
    ForeignPacket(String),

    #[error("nothing to withdraw")]
    NothingToWithdraw,

    #[error("the billing contract accepts no packets")]
    NoPacketsAccepted,

    #[error("{0} is not a key account: only a key's address names the same owner on the offer's chain (contracts and interchain accounts cannot buy)")]
    NotKeyAccount(String),

    #[error("purchase {0} is not disputed")]
    NotDisputed(u64),
}
