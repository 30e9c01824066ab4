use cosmwasm_std::{Coin, StdError, Timestamp};
use cw_utils::PaymentError;
use healthmesh_controllers::channels::ChannelError;
use healthmesh_controllers::migrate::MigrateError;
use healthmesh_controllers::validate::ValidationError;
use healthmesh_types::governance::Status;
use thiserror::Error;

#[derive(Error, Debug, PartialEq)]
pub enum ContractError {
    #[error("{0}")]
    Std(#[from] StdError),

    #[error("{0}")]
    Validation(#[from] ValidationError),

    #[error("{0}")]
    Migrate(#[from] MigrateError),

    #[error("{0}")]
    Channel(#[from] ChannelError),

    #[error("payment: {0}")]
    Payment(#[from] PaymentError),

    #[error("a deposit of exactly {0} is required")]
    WrongDeposit(Coin),

    #[error("{0} has no voting power at height {1}")]
    NoVotingPower(String, u64),

    #[error("proposal {0} not found")]
    ProposalNotFound(u64),

    #[error("proposal {id} is {status:?}, voting is closed")]
    VotingClosed { id: u64, status: Status },

    #[error("already voted on proposal {0} and revoting is disabled")]
    AlreadyVoted(u64),

    #[error("proposal {id} is {status:?}, not passed")]
    NotPassed { id: u64, status: Status },

    #[error("proposal {id} is timelocked until {until}")]
    Timelocked { id: u64, until: Timestamp },

    #[error("proposal {id} is {status:?}: only rejected or vetoed proposals can be closed")]
    NotClosable { id: u64, status: Status },

    #[error("proposal {0} is not in its timelock: the council can only veto passed proposals before execution")]
    NotInTimelock(u64),

    #[error("only this DAO itself (by proposal) may do this")]
    NotSelf,

    #[error("{0} already holds the membership token")]
    AlreadyMember(String),

    #[error("{0} holds no membership token")]
    NotMember(String),

    #[error("the last member's token cannot be revoked while the DAO votes by membership")]
    LastMember,

    #[error("the membership token is soulbound: it is issued and revoked by proposal, never transferred")]
    MembershipSoulbound,

    #[error("{0} is not a council member")]
    NotCouncilMember(String),

    #[error("council action {0} not found")]
    CouncilActionNotFound(u64),

    #[error("council action {0} expired")]
    CouncilActionExpired(u64),

    #[error("council action {0} already executed")]
    CouncilActionDone(u64),

    #[error("{0} already approved council action {1}")]
    AlreadyApproved(String, u64),

    #[error("invalid config: {0}")]
    InvalidConfig(String),

    #[error("a proposal carries at most {0} messages")]
    TooManyMessages(usize),

    #[error("the staking contract's slashing window ({window} s) is shorter than the voting period plus timelock ({required} s): unbonding stake could leave before a slash lands")]
    SlashingWindowTooShort { window: u64, required: u64 },

    #[error("council action {id} was proposed by the council of epoch {epoch}, which has changed (now epoch {current}): propose it again")]
    CouncilActionStale { id: u64, epoch: u64, current: u64 },

    #[error("proposal {0} changes the council: the council cannot veto it")]
    CouncilChangeNotVetoable(u64),

    #[error(
        "a proposal that changes the council carries nothing else (the council cannot veto it)"
    )]
    CouncilChangeNotAlone,

    #[error("proposal message {index} calls this DAO's ExecuteProposalMsgs: a proposal cannot run other proposals' messages")]
    NestedExecution { index: usize },

    #[error("proposal message {index} is a contract call wrapped as {type_url}: use a wasm execute message, which this DAO can read")]
    OpaqueContractCall { index: usize, type_url: String },

    #[error("{voter} is slashed by proposal {id} and cannot vote on it")]
    SlashTargetCannotVote { voter: String, id: u64 },

    #[error("this DAO is linked to no other chain: a network proposal needs governance channels")]
    NoNetwork,

    #[error("proposal {0} is not a network proposal of this kind")]
    NotNetworkProposal(u64),

    #[error("network proposal {id}: voting ends at {end}, the tally can be sent after that")]
    VotingNotEnded { id: u64, end: Timestamp },

    #[error("network proposal {0}: its tally was already sent or accepted")]
    TallyAlreadySent(u64),

    #[error("remote message {index} is refused here: {reason}")]
    RemoteMsgRefused { index: usize, reason: String },

    #[error("SendRemote runs only as a message of a proposal being executed")]
    NotExecuting,

    #[error("at most {0} pause targets")]
    TooManyPauseTargets(usize),

    #[error("unreadable governance packet: {0}")]
    InvalidPacket(String),

    #[error("the acknowledged packet is not in flight on this channel")]
    NotInFlight,

    #[error(
        "network proposal {home_chain}/{proposal_id} is already open here as proposal {mirror_id}"
    )]
    AlreadyMirrored {
        home_chain: String,
        proposal_id: u64,
        mirror_id: u64,
    },

    #[error("voting would end at {0}, which has passed")]
    VotingEndPassed(Timestamp),

    #[error("tally of {chain} for proposal {id} refused: {reason}")]
    TallyRefused {
        chain: String,
        id: u64,
        reason: String,
    },

    #[error("proposal message {index} is a raw IBC message: only token transfers (a packet from this DAO's port would speak for its governance)")]
    RawIbcMsg { index: usize },

    #[error("a network proposal cannot slash: the attester's stake is on this chain only, and the other chains' voters would vote on it unseen")]
    NetworkSlash,

    #[error("stale network pause: sequence {seq} arrived after {seen} was applied from the same governance")]
    StalePause { seq: u64, seen: u64 },

    #[error(
        "older network pause decision: taken at {at}, but one taken at {newest} was applied here"
    )]
    OlderNetworkPause { at: Timestamp, newest: Timestamp },
}
