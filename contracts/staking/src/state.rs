use cosmwasm_std::{Addr, Decimal256, Uint128};
use cw_ownable::OwnershipStore;
use cw_storage_plus::{Item, Map, SnapshotItem, SnapshotMap, Strategy};
use healthmesh_controllers::pause::Pausable;
use healthmesh_types::staking::{Claim, Config, SlashRecord};

pub const CONTRACT_NAME: &str = "crates.io:healthmesh-staking";
pub const CONTRACT_VERSION: &str = env!("CARGO_PKG_VERSION");

pub const CONFIG: Item<Config> = Item::new("config");
/// Governance.
pub const ADMIN: OwnershipStore = OwnershipStore::new("admin");
pub const PAUSE: Pausable = Pausable::new("pausers", "paused", "max_pause");

/// Bonded stake per address, snapshotted every block: governance reads it at a proposal's
/// start height, so stake bought during a vote does not count.
pub const BONDS: SnapshotMap<&Addr, Uint128> = SnapshotMap::new(
    "bonds",
    "bonds__checkpoints",
    "bonds__changelog",
    Strategy::EveryBlock,
);
pub const TOTAL_BONDED: SnapshotItem<Uint128> = SnapshotItem::new(
    "total_bonded",
    "total_bonded__checkpoints",
    "total_bonded__changelog",
    Strategy::EveryBlock,
);

/// Σ ⌊√bond⌋ over every staker, kept with each bond change: the total of quadratic voting
/// power (a DAO voting by √stake needs the total at a proposal's start in O(1)).
pub const TOTAL_SQRT_BONDED: SnapshotItem<Uint128> = SnapshotItem::new(
    "total_sqrt_bonded",
    "total_sqrt_bonded__checkpoints",
    "total_sqrt_bonded__changelog",
    Strategy::EveryBlock,
);

/// Pending claims per address, at most `Config::max_claims`.
pub const CLAIMS: Map<&Addr, Vec<Claim>> = Map::new("claims");

/// Rewards distributed per bonded unit since the start (lazy accounting: no loops).
pub const REWARD_INDEX: Item<Decimal256> = Item::new("reward_index");

#[cosmwasm_schema::cw_serde]
#[derive(Default)]
pub struct StakerRewards {
    /// `REWARD_INDEX` when the staker's rewards were last settled.
    pub index: Decimal256,
    /// Settled, not yet withdrawn.
    pub pending: Uint128,
}

pub const STAKER_REWARDS: Map<&Addr, StakerRewards> = Map::new("staker_rewards");

pub const SLASHES: Map<(&Addr, u64), SlashRecord> = Map::new("slashes");
pub const SLASH_COUNT: Item<u64> = Item::new("slash_count");

pub const HOOKS: Item<Vec<Addr>> = Item::new("hooks");
