//! Messages of the staking contract: custodians bond the chain's native denom to be allowed
//! to attest; unbonding goes through capped claims; governance slashes; rewards are shared
//! pro rata; voting power is snapshotted by height for governance.
//!
//! **Slashing rule.** A custodian's stake stays slashable until it is released: its bond,
//! and every unbonding claim until the claim matures. The `slashing_window` is the time an
//! unbonding claim is guaranteed to stay slashable; the staking contract requires
//! `slashing_window ≤ unbonding_period`, and the governing DAO requires
//! `slashing_window ≥ voting_period + timelock` (checked by governance when it is
//! instantiated, when it changes its own voting period or timelock, and after every
//! proposal, so a proposal lowering the window is refused as a whole). Together: a slash
//! proposal started when a custodian unbonds lands before that stake leaves.

#![cfg_attr(target_arch = "wasm32", allow(unused_imports))]

use cosmwasm_schema::{cw_serde, QueryResponses};
use cosmwasm_std::{Addr, Decimal, Timestamp, Uint128};
use cw_ownable::{Action, Ownership};

use crate::pause::{PauseMsg, PauseStatusResponse};

/// Upper bound for the per-address claims cap.
pub const MAX_CLAIMS_CAP: u32 = 64;
/// Most stake-change hooks.
pub const MAX_HOOKS: usize = 4;
/// Gas each hook may use; a hook that runs out or fails cannot block staking.
pub const HOOK_GAS_LIMIT: u64 = 300_000;

#[cw_serde]
#[serde(deny_unknown_fields)]
pub enum SlashDestination {
    /// Send slashed funds to this address (the DAO treasury).
    Treasury { address: String },
    /// Burn slashed funds.
    Burn {},
}

#[cw_serde]
#[serde(deny_unknown_fields)]
pub struct InstantiateMsg {
    /// The native denom bonded, e.g. `ustake`.
    pub denom: String,
    /// Bond at or above which a custodian is an active attester.
    pub min_bond: Uint128,
    /// Seconds between unbond and claim; the claim is slashable all along (at least
    /// `slashing_window`).
    pub unbonding_period: u64,
    /// Seconds an unbonding claim is guaranteed to stay slashable: at most
    /// `unbonding_period`, and at least the governing DAO's voting period plus timelock
    /// (see the module's slashing rule).
    pub slashing_window: u64,
    /// Claims one address may hold at once (≤ 64).
    pub max_claims: u32,
    pub slash_destination: SlashDestination,
    /// Governance: slashes, sets parameters, manages hooks. When governance instantiates
    /// the staking contract itself, it overrides this with its own address.
    pub admin: String,
    #[serde(default)]
    pub pausers: Vec<String>,
    pub max_pause_seconds: Option<u64>,
}

#[cw_serde]
#[serde(deny_unknown_fields)]
pub enum ExecuteMsg {
    /// Bond the attached funds (exactly one coin of `denom`).
    Bond {},
    /// Start unbonding `amount`; it becomes a claim released after the unbonding period.
    Unbond {
        amount: Uint128,
    },
    /// Withdraw every matured claim.
    Claim {},
    /// Share the attached funds (in `denom`) pro rata among bonded stake.
    DistributeRewards {},
    /// Withdraw accrued rewards.
    WithdrawRewards {},
    /// Governance only: take `ratio` of the attester's bond and of each of its claims not
    /// yet released (matured claims are the custodian's, claimed or not).
    Slash {
        attester: String,
        ratio: Decimal,
        reason: String,
    },
    /// Governance only. The slashing window stays within the unbonding period; governance
    /// refuses a proposal that leaves it shorter than its voting period plus timelock.
    /// A shorter unbonding period applies to claims made from then on.
    UpdateConfig {
        min_bond: Option<Uint128>,
        unbonding_period: Option<u64>,
        slashing_window: Option<u64>,
        max_claims: Option<u32>,
        slash_destination: Option<SlashDestination>,
    },
    /// Governance only: contracts told of every stake change (at most 4).
    AddHook {
        address: String,
    },
    RemoveHook {
        address: String,
    },
    Pausable(PauseMsg),
    UpdateOwnership(Action),
}

/// Sent to hooks; a failing hook is reported in an event and otherwise ignored.
#[cw_serde]
pub enum StakeChangedHookMsg {
    StakeChanged(StakeChange),
}

#[cw_serde]
pub struct StakeChange {
    pub address: Addr,
    /// Bond after the change.
    pub bonded: Uint128,
    /// `bond`, `unbond` or `slash`.
    pub kind: String,
}

#[cw_serde]
#[derive(QueryResponses)]
#[serde(deny_unknown_fields)]
pub enum QueryMsg {
    #[returns(ConfigResponse)]
    Config {},
    #[returns(StakeResponse)]
    Stake { address: String },
    #[returns(IsActiveAttesterResponse)]
    IsActiveAttester { address: String },
    #[returns(ClaimsResponse)]
    Claims { address: String },
    #[returns(StakersResponse)]
    Stakers {
        start_after: Option<String>,
        limit: Option<u32>,
    },
    /// Voting power at the *start* of block `height` (default: now).
    #[returns(VotingPowerResponse)]
    VotingPowerAtHeight {
        address: String,
        height: Option<u64>,
    },
    #[returns(VotingPowerResponse)]
    TotalPowerAtHeight { height: Option<u64> },
    /// Quadratic voting power, ⌊√bond⌋, at the start of block `height` (default: now).
    #[returns(VotingPowerResponse)]
    QuadraticPowerAtHeight {
        address: String,
        height: Option<u64>,
    },
    /// Σ ⌊√bond⌋ over every staker at the start of block `height`.
    #[returns(VotingPowerResponse)]
    QuadraticTotalAtHeight { height: Option<u64> },
    #[returns(SlashesResponse)]
    Slashes {
        attester: String,
        start_after: Option<u64>,
        limit: Option<u32>,
    },
    #[returns(HooksResponse)]
    Hooks {},
    #[returns(PauseStatusResponse)]
    PauseStatus {},
    #[returns(Ownership<Addr>)]
    Ownership {},
}

#[cw_serde]
#[serde(deny_unknown_fields)]
pub struct MigrateMsg {}

#[cw_serde]
pub struct Config {
    pub denom: String,
    pub min_bond: Uint128,
    pub unbonding_period: u64,
    /// Guaranteed slashable time of a claim: `≤ unbonding_period`, and `≥` the governing
    /// DAO's voting period plus timelock.
    pub slashing_window: u64,
    pub max_claims: u32,
    pub slash_destination: StoredSlashDestination,
}

#[cw_serde]
pub enum StoredSlashDestination {
    Treasury { address: Addr },
    Burn {},
}

impl Config {
    /// The one rule for who may attest: a positive bond of at least `min_bond`.
    pub fn is_active_attester(&self, bonded: Uint128) -> bool {
        !bonded.is_zero() && bonded >= self.min_bond
    }
}

pub type ConfigResponse = Config;

#[cw_serde]
pub struct StakeResponse {
    pub address: Addr,
    pub bonded: Uint128,
    pub active_attester: bool,
    pub pending_rewards: Uint128,
    pub claims: Vec<Claim>,
}

#[cw_serde]
pub struct IsActiveAttesterResponse {
    pub active: bool,
    pub bonded: Uint128,
    pub min_bond: Uint128,
}

/// Unbonded stake on its way out: slashable until `release_at`, claimable from then on.
#[cw_serde]
pub struct Claim {
    pub amount: Uint128,
    pub unbonded_at: Timestamp,
    pub release_at: Timestamp,
}

#[cw_serde]
pub struct ClaimsResponse {
    pub claims: Vec<Claim>,
}

#[cw_serde]
pub struct StakerInfo {
    pub address: Addr,
    pub bonded: Uint128,
}

#[cw_serde]
pub struct StakersResponse {
    pub stakers: Vec<StakerInfo>,
}

#[cw_serde]
pub struct VotingPowerResponse {
    pub power: Uint128,
    pub height: u64,
}

#[cw_serde]
pub struct SlashRecord {
    pub id: u64,
    pub attester: Addr,
    pub ratio: Decimal,
    pub reason: String,
    pub from_bond: Uint128,
    pub from_claims: Uint128,
    pub height: u64,
    pub time: Timestamp,
}

#[cw_serde]
pub struct SlashesResponse {
    pub slashes: Vec<SlashRecord>,
}

#[cw_serde]
pub struct HooksResponse {
    pub hooks: Vec<Addr>,
}
