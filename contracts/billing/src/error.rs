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

    #[error("{0} is not a key account: only a key's address names the same owner on another chain (contracts and interchain accounts cannot be paid or buy)")]
    NotKeyAccount(String),

    #[error("purchase {0} is not disputed")]
    NotDisputed(u64),

    #[error("trial {trial_id} of {chain_id} has no budget on this chain (its trials contract has not opened one)")]
    NoBudget { chain_id: String, trial_id: u64 },

    #[error("only trial {trial_id}'s sponsor ({sponsor}) may do this")]
    NotSponsor { trial_id: u64, sponsor: String },

    #[error("trial {0} has ended: its budget takes no more funds")]
    TrialEnded(u64),

    #[error("the budget of trial {trial_id} can be reclaimed from {reclaimable} (a week after the trial's end, when every claim made before the end has arrived or timed out)")]
    TrialNotEnded { trial_id: u64, reclaimable: u64 },

    #[error("the budget of trial {0} was reclaimed: it pays no more milestones")]
    BudgetClosed(u64),

    #[error("a budget holds at most {0} denoms")]
    TooManyDenoms(usize),

    #[error("trial {0} already has a budget with other terms")]
    BudgetTermsDiffer(u64),

    #[error("milestone {milestone} of trial {trial_id} was already paid to {participant}")]
    MilestoneAlreadyPaid {
        trial_id: u64,
        milestone: String,
        participant: String,
    },

    #[error("the budget of trial {trial_id} is exhausted: the milestone needs {needed}, {left} left; nothing was paid")]
    BudgetExhausted {
        trial_id: u64,
        needed: String,
        left: String,
    },
}
