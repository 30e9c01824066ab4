//! Messages of the governance contract: a DAO whose proposals carry `CosmosMsg`s, with
//! threshold/quorum voting over stake snapshots (or a fixed member list), an optional
//! timelock, deposits, and a security council that pauses contracts and vetoes proposals.

#![cfg_attr(target_arch = "wasm32", allow(unused_imports))]

use cosmwasm_schema::{cw_serde, QueryResponses};
use cosmwasm_std::{Addr, Coin, CosmosMsg, Decimal, Timestamp, Uint128};

use crate::ibc::AllowedConnection;
use crate::staking;

/// Longest proposal title and description.
pub const MAX_TITLE_LEN: usize = 140;
pub const MAX_DESCRIPTION_LEN: usize = 4_000;
/// Most messages one proposal may carry.
pub const MAX_PROPOSAL_MSGS: usize = 16;
/// Council actions expire after this many seconds if not approved.
pub const COUNCIL_ACTION_TTL: u64 = 3 * 24 * 3600;
/// Most council members.
pub const MAX_COUNCIL: usize = 32;

/// Where voting power comes from.
#[cw_serde]
#[serde(deny_unknown_fields)]
pub enum VotingSource {
    /// Bootstrapping: fixed weights set at instantiate. No staking contract to hold to the
    /// slashing-window rule: a staking contract this DAO administers must satisfy it by
    /// its own parameters.
    Members { members: Vec<Member> },
    /// Stake snapshots of an existing staking contract (whose admin should be this DAO).
    /// Its `slashing_window` must be at least `voting_period + timelock`.
    Staking { contract: String },
    /// Instantiate a staking contract with this DAO as its admin, and vote with its stake.
    /// `msg.slashing_window` must be at least `voting_period + timelock`.
    InstantiateStaking {
        code_id: u64,
        msg: staking::InstantiateMsg,
        label: String,
    },
}

#[cw_serde]
#[serde(deny_unknown_fields)]
pub struct Member {
    pub addr: String,
    pub weight: u64,
}

/// DAO DAO's threshold semantics. Each rule also has a quorum, which a veto by votes needs:
/// for `ThresholdQuorum` its `quorum`; for the others, as much non-abstaining power as
/// passing needs in `yes` (`yes + no + veto ≥ percentage × (total − abstain)`, resp.
/// `≥ weight`).
#[cw_serde]
#[serde(deny_unknown_fields)]
pub enum Threshold {
    /// `yes ≥ percentage × (total power − abstain)`.
    AbsolutePercentage { percentage: Decimal },
    /// Turnout `≥ quorum × total power`, and `yes ≥ threshold × (yes + no + veto)`.
    ThresholdQuorum { threshold: Decimal, quorum: Decimal },
    /// `yes ≥ weight`.
    AbsoluteCount { weight: Uint128 },
}

#[cw_serde]
#[serde(deny_unknown_fields)]
pub enum RefundPolicy {
    /// Refund unless the proposal was vetoed (by votes with quorum, or by the council).
    Always,
    /// Refund only proposals that passed.
    OnlyPassed,
    Never,
}

#[cw_serde]
#[serde(deny_unknown_fields)]
pub struct DepositConfig {
    pub amount: Coin,
    pub refund: RefundPolicy,
}

/// The security council. Every change of it starts a new council epoch: approvals given
/// under an earlier council no longer count.
#[cw_serde]
#[serde(deny_unknown_fields)]
pub struct CouncilConfig {
    pub members: Vec<String>,
    /// Approvals needed, e.g. 8 of 12.
    pub threshold: u32,
}

#[cw_serde]
#[serde(deny_unknown_fields)]
pub struct InstantiateMsg {
    pub voting: VotingSource,
    pub threshold: Threshold,
    /// Seconds a proposal is open for votes. With `timelock`, at most the staking
    /// contract's `slashing_window` (so a slash lands before unbonding stake is released).
    pub voting_period: u64,
    /// Seconds between passing and execution, during which the council may veto. Fixed
    /// per proposal when it is created.
    pub timelock: u64,
    pub allow_revote: bool,
    /// Share of cast votes that, as `veto`, rejects a proposal and forfeits its deposit
    /// (default 1/3) — only once the quorum is reached (see [`Threshold`]): a handful of
    /// veto votes in a quiet vote cannot forfeit a deposit.
    pub veto_threshold: Option<Decimal>,
    pub deposit: Option<DepositConfig>,
    pub council: CouncilConfig,
    /// How power is counted (default: the voting source's stake or weight).
    #[serde(default)]
    pub voting_rule: VotingRule,
    /// Holders of the membership token from the start (required with
    /// [`VotingRule::Membership`]: someone must be able to propose).
    #[serde(default)]
    pub initial_members: Vec<String>,
    /// The governance contracts of the other chains this DAO trusts, and the contracts of
    /// this chain a network pause stops (see [`crate::network`]).
    #[serde(default)]
    pub network: Option<NetworkConfig>,
}

/// This DAO's place in the network of governance contracts.
#[cw_serde]
#[serde(deny_unknown_fields)]
pub struct NetworkConfig {
    /// One per other chain: the connection and the port (`wasm.<governance address>`) of
    /// that chain's governance contract, the only one trusted over it.
    pub connections: Vec<AllowedConnection>,
    /// The contracts of this chain a network pause stops (this DAO must be their admin or a
    /// pauser), at most [`crate::network::MAX_PAUSE_TARGETS`].
    pub pause_targets: Vec<String>,
}

/// How voting power is counted: one token one vote favours whales; the square root of stake
/// shrinks a whale's share; one member one vote ignores stake, and resists sybils as far as
/// the DAO's issuance of membership does.
#[cw_serde]
#[derive(Default, Copy, Eq)]
pub enum VotingRule {
    /// The voting source's power: bonded stake (or member weight).
    #[default]
    Stake,
    /// ⌊√stake⌋ per voter (or ⌊√weight⌋), totals kept by the staking contract.
    Quadratic,
    /// One vote per holder of this DAO's membership token: non-transferable, issued and
    /// revoked only by proposal.
    Membership,
}

#[cw_serde]
pub struct MembershipResponse {
    pub member: bool,
}

#[cw_serde]
pub struct MembershipsResponse {
    pub members: Vec<Addr>,
}

#[cw_serde]
#[serde(deny_unknown_fields)]
pub enum Vote {
    Yes,
    No,
    Abstain,
    Veto,
}

#[cw_serde]
#[serde(deny_unknown_fields)]
pub enum CouncilAction {
    /// Pause a HealthMesh contract (this DAO must be its admin or a pauser).
    Pause {
        contract: String,
        reason: String,
    },
    Unpause {
        contract: String,
    },
    /// Veto a passed proposal during its timelock; not a proposal that changes the council
    /// (the council may not keep itself in office).
    Veto {
        proposal_id: u64,
    },
    /// Pause this chain's network pause targets, and send the pause to every other chain's
    /// governance, which pauses its own.
    NetworkPause {
        reason: String,
    },
    /// Lift a network pause the same way.
    NetworkUnpause {},
}

#[cw_serde]
#[serde(deny_unknown_fields)]
pub enum ExecuteMsg {
    /// Any holder of voting power; attach the deposit if one is configured. Refused: a
    /// message calling this DAO's `ExecuteProposalMsgs`; a contract call wrapped in `Any`
    /// or `Stargate` (`/cosmwasm.wasm.v1.MsgExecuteContract`: use a `wasm` message, which
    /// this DAO can read); `UpdateCouncil` together with other messages. A staking `Slash`
    /// target's voting power is left out of the proposal's total power.
    Propose {
        title: String,
        description: String,
        msgs: Vec<CosmosMsg>,
    },
    /// With the power at the proposal's start; not by an address the proposal slashes.
    Vote { proposal_id: u64, vote: Vote },
    /// Anyone, once passed and past the timelock. The proposal's messages run atomically;
    /// if afterwards the staking contract's slashing window is shorter than the voting
    /// period plus timelock, none of them applies (the proposal's execution fails).
    Execute { proposal_id: u64 },
    /// Anyone, once rejected: settles the deposit.
    Close { proposal_id: u64 },
    /// A council member proposes an action and approves it.
    CouncilPropose { action: CouncilAction },
    /// A council member approves; at the threshold the action runs.
    CouncilApprove { action_id: u64 },
    /// Only by proposal. The staking contract's slashing window must still cover the new
    /// voting period plus timelock: raise it first (earlier in the same proposal). A new
    /// timelock applies to proposals created from then on.
    UpdateConfig {
        threshold: Option<Threshold>,
        voting_period: Option<u64>,
        timelock: Option<u64>,
        allow_revote: Option<bool>,
        /// Switching to `membership` needs at least one member.
        voting_rule: Option<VotingRule>,
    },
    /// Only by proposal: give `address` the membership token (one per address).
    IssueMembership { address: String },
    /// Only by proposal: take it back (never the last member's).
    RevokeMembership { address: String },
    /// Always refused: the membership token is soulbound (it is issued and revoked by
    /// proposal, never sold or lent).
    TransferMembership { recipient: String },
    /// Only by proposal, alone in it; the council cannot veto it. Starts a new council
    /// epoch: pending council actions of the old council can no longer be approved.
    UpdateCouncil { council: CouncilConfig },
    /// Internal: runs a proposal's messages atomically (sender must be this contract). Never
    /// a proposal message: it would run another proposal's messages again.
    ExecuteProposalMsgs { proposal_id: u64 },
    /// Only as a message of a proposal being executed: send `msgs` to `chain_id`'s
    /// governance, which runs them atomically on arrival; the proposal records the result.
    SendRemote {
        chain_id: String,
        msgs: Vec<CosmosMsg>,
    },
    /// A network proposal: open on this chain (its home) and on every chain this DAO is
    /// linked to, voted on each chain by its own voters, decided here on the sum of the
    /// tallies with quorum over the network's total power. Same rules as `Propose`.
    NetworkPropose {
        title: String,
        description: String,
        msgs: Vec<CosmosMsg>,
    },
    /// Anyone, once a network proposal mirrored here has ended: send this chain's tally to
    /// its home chain (again, if an earlier send failed or timed out).
    SendTally { proposal_id: u64 },
    /// Only by proposal: trust `chain_id`'s governance contract over `connection_id`.
    AllowConnection {
        connection_id: String,
        chain_id: String,
        counterparty_port: String,
    },
    /// Only by proposal.
    DisallowConnection { connection_id: String },
    /// Only by proposal: the contracts a network pause stops on this chain.
    SetPauseTargets { contracts: Vec<String> },
    /// Internal (sender must be this contract): pause (or unpause) the pause targets that
    /// are not so already, on a network pause packet.
    ApplyNetworkPause { pause: bool, reason: String },
    /// Internal (sender must be this contract): a remote proposal's messages, run
    /// atomically on a packet's arrival.
    ExecuteRemoteMsgs { msgs: Vec<CosmosMsg> },
}

#[cw_serde]
#[derive(QueryResponses)]
#[serde(deny_unknown_fields)]
pub enum QueryMsg {
    #[returns(ConfigResponse)]
    Config {},
    #[returns(ProposalResponse)]
    Proposal { proposal_id: u64 },
    /// Newest first when `reverse` is true.
    #[returns(ProposalsResponse)]
    ListProposals {
        start_after: Option<u64>,
        limit: Option<u32>,
        reverse: Option<bool>,
    },
    #[returns(VotesResponse)]
    Votes {
        proposal_id: u64,
        start_after: Option<String>,
        limit: Option<u32>,
    },
    #[returns(VoteResponse)]
    Vote { proposal_id: u64, voter: String },
    #[returns(staking::VotingPowerResponse)]
    VotingPowerAtHeight {
        address: String,
        height: Option<u64>,
    },
    #[returns(staking::VotingPowerResponse)]
    TotalPowerAtHeight { height: Option<u64> },
    /// Whether `address` holds the membership token now.
    #[returns(MembershipResponse)]
    Membership { address: String },
    #[returns(MembershipsResponse)]
    Memberships {
        start_after: Option<String>,
        limit: Option<u32>,
    },
    #[returns(CouncilResponse)]
    Council {},
    #[returns(CouncilActionResponse)]
    CouncilAction { action_id: u64 },
    /// Governance channels, trusted connections, pause targets and the last network pause.
    #[returns(NetworkResponse)]
    Network {},
}

#[cw_serde]
pub struct NetworkResponse {
    pub connections: Vec<AllowedConnection>,
    pub channels: Vec<crate::ibc::BoundChannel>,
    pub pause_targets: Vec<Addr>,
    /// The last network pause or unpause this chain took part in.
    pub last_network_pause: Option<NetworkPauseRecord>,
}

#[cw_serde]
pub struct NetworkPauseRecord {
    pub pause: bool,
    /// The chain whose council decided it, and its council action.
    pub origin_chain: String,
    pub action_id: u64,
    pub reason: String,
    pub at: Timestamp,
    pub at_height: u64,
    /// On the origin chain: each other chain's answer.
    pub answers: Vec<PauseAnswer>,
}

#[cw_serde]
pub struct PauseAnswer {
    pub chain_id: String,
    /// `None` while the packet is in flight; `Ok` or the error (or "timeout").
    pub result: Option<Result<(), String>>,
}

#[cw_serde]
#[serde(deny_unknown_fields)]
pub struct MigrateMsg {}

#[cw_serde]
pub enum StoredVotingSource {
    Members {},
    Staking { contract: Addr },
}

/// The DAO's parameters (stored as such and returned by the `config` query).
#[cw_serde]
pub struct Config {
    pub voting: StoredVotingSource,
    pub threshold: Threshold,
    pub voting_period: u64,
    pub timelock: u64,
    pub allow_revote: bool,
    pub veto_threshold: Decimal,
    pub deposit: Option<DepositConfig>,
    /// Absent (stake) in configs stored before voting rules existed.
    #[serde(default)]
    pub voting_rule: VotingRule,
}

pub type ConfigResponse = Config;

#[cw_serde]
pub enum Status {
    /// Accepting votes.
    Open,
    /// Passed; executable from `executable_at`.
    Passed,
    Rejected,
    /// Vetoed by the council or by `veto` votes.
    Vetoed,
    Executed,
    /// Its messages failed; state is as before execution.
    ExecutionFailed,
    /// Rejected or vetoed and its deposit settled.
    Closed,
    /// A network proposal whose voting ended, waiting for the other chains' tallies (on its
    /// home chain) or for its tally to be sent and acknowledged (on the others).
    Tallying,
    /// A network proposal's mirror whose tally the home chain accepted.
    Counted,
}

#[cw_serde]
#[derive(Default)]
pub struct Tally {
    pub yes: Uint128,
    pub no: Uint128,
    pub abstain: Uint128,
    pub veto: Uint128,
}

#[cw_serde]
pub struct Proposal {
    pub id: u64,
    pub title: String,
    pub description: String,
    pub proposer: Addr,
    pub msgs: Vec<CosmosMsg>,
    pub start_height: u64,
    pub start_time: Timestamp,
    pub expires: Timestamp,
    /// Total voting power at `start_height`, less the power of the addresses the proposal
    /// slashes (they may not vote on it).
    pub total_power: Uint128,
    pub threshold: Threshold,
    pub tally: Tally,
    pub status: Status,
    pub passed_at: Option<Timestamp>,
    /// `passed_at` plus `timelock`.
    pub executable_at: Option<Timestamp>,
    /// Seconds between passing and execution, fixed when the proposal is created (like its
    /// threshold): a config change cannot move the execution of a proposal under way,
    /// however late its outcome is recorded. `None` only for proposals created before this
    /// field existed; they use the config's timelock.
    #[serde(default)]
    pub timelock: Option<u64>,
    /// The voting rule when the proposal was created: its votes are counted by it, as its
    /// total power was, whatever rule a later proposal sets. Stake in proposals stored
    /// before rules existed.
    #[serde(default)]
    pub voting_rule: VotingRule,
    pub deposit: Option<Coin>,
    pub deposit_refunded: bool,
    /// A network proposal: its part in the network vote.
    #[serde(default)]
    pub network: Option<NetworkVote>,
    /// Messages sent to other chains' governance by `SendRemote`, and their results.
    #[serde(default)]
    pub remote: Vec<RemoteExecution>,
}

#[cw_serde]
pub enum NetworkVote {
    /// Decided here on the sum of every chain's tally: a chain that did not open the vote
    /// rejects it; a chain whose tally is missing at `tally_deadline` counts as present
    /// power that did not vote (its total stays in the quorum's denominator).
    Home {
        chains: Vec<ChainVote>,
        tally_deadline: Timestamp,
    },
    /// Voted here; decided on `home_chain`.
    Mirror {
        home_chain: String,
        home_proposal_id: u64,
        tally: TallyDelivery,
    },
}

#[cw_serde]
pub struct ChainVote {
    pub chain_id: String,
    pub status: ChainVoteStatus,
}

#[cw_serde]
pub enum ChainVoteStatus {
    /// The opening packet is in flight.
    Opening,
    /// Open there as proposal `mirror_id`, over `total_power`.
    Open {
        mirror_id: u64,
        total_power: Uint128,
    },
    /// Refused or timed out: the network proposal cannot pass.
    NotOpened { reason: String },
    /// Its tally arrived.
    Tallied {
        mirror_id: u64,
        total_power: Uint128,
        tally: Tally,
        at: Timestamp,
    },
}

#[cw_serde]
pub enum TallyDelivery {
    NotSent,
    InFlight,
    Accepted { at: Timestamp },
    Refused { reason: String },
}

#[cw_serde]
pub struct RemoteExecution {
    pub chain_id: String,
    /// The messages' count (they are in this proposal's `SendRemote` message).
    pub msgs: u32,
    pub result: RemoteResult,
}

#[cw_serde]
pub enum RemoteResult {
    InFlight,
    Executed {
        at: Timestamp,
    },
    /// The remote chain ran none of them: the error it acknowledged, or "timeout".
    Failed {
        error: String,
        at: Timestamp,
    },
}

#[cw_serde]
pub struct ProposalResponse {
    /// The stored proposal with its status brought up to date for the current block.
    pub proposal: Proposal,
}

#[cw_serde]
pub struct ProposalsResponse {
    pub proposals: Vec<Proposal>,
}

#[cw_serde]
pub struct VoteInfo {
    pub voter: Addr,
    pub vote: Vote,
    pub power: Uint128,
}

#[cw_serde]
pub struct VotesResponse {
    pub votes: Vec<VoteInfo>,
}

#[cw_serde]
pub struct VoteResponse {
    pub vote: Option<VoteInfo>,
}

#[cw_serde]
pub struct CouncilResponse {
    pub members: Vec<Addr>,
    pub threshold: u32,
    /// Bumped by every council change.
    pub epoch: u64,
}

#[cw_serde]
pub struct CouncilActionInfo {
    pub id: u64,
    pub action: CouncilAction,
    /// Approvals by members of the council of `epoch`; they count only while that council
    /// is in office.
    pub approvals: Vec<Addr>,
    /// The council epoch the action was proposed in.
    #[serde(default)]
    pub epoch: u64,
    pub expires: Timestamp,
    pub executed: bool,
}

#[cw_serde]
pub struct CouncilActionResponse {
    pub action: CouncilActionInfo,
}
