use cosmwasm_std::{Addr, StdResult, Storage, Uint128};
use cw_ownable::OwnershipStore;
use cw_storage_plus::{Index, IndexList, IndexedMap, Item, Map, MultiIndex};
use healthmesh_controllers::channels::ChannelBindings;
use healthmesh_controllers::pause::Pausable;
use healthmesh_types::billing::{
    HistoryEntry, MarketResponse, MilestonePaid, Purchase, TrialBudget, MAX_MARKETS,
    MAX_TRIALS_LINKS,
};
use healthmesh_types::settle::SETTLE_CHANNEL_VERSION;
use healthmesh_types::trial_pay::TRIALS_CHANNEL_VERSION;

pub const CONTRACT_NAME: &str = "crates.io:healthmesh-billing";
pub const CONTRACT_VERSION: &str = env!("CARGO_PKG_VERSION");
pub const STATE_LAYOUT: u16 = 1;

/// Governance: the market's rules and trusted consent contracts.
pub const ADMIN: OwnershipStore = OwnershipStore::new("admin");
pub const PAUSE: Pausable = Pausable::new("pausers", "paused", "max_pause");
pub const MARKET: Item<MarketResponse> = Item::new("market");
/// The settlement channels to the consent contracts of the other chains.
pub const MARKETS: ChannelBindings = ChannelBindings::new(
    ["allowed", "channels", "channel_by_chain", "handshakes"],
    SETTLE_CHANNEL_VERSION,
    MAX_MARKETS,
);

/// The milestone channels from the trials contracts of the other chains.
pub const TRIAL_LINKS: ChannelBindings = ChannelBindings::new(
    [
        "trials_allowed",
        "trials_channels",
        "trials_channel_by_chain",
        "trials_handshakes",
    ],
    TRIALS_CHANNEL_VERSION,
    MAX_TRIALS_LINKS,
);
/// Trial budgets by (trials chain, trial id).
pub const BUDGETS: Map<(&str, u64), TrialBudget> = Map::new("trial_budgets");
/// ((trials chain, trial), milestone, participant's canonical bytes).
pub type MilestoneKey<'a> = ((&'a str, u64), &'a str, &'a [u8]);
/// Milestones paid, once each.
pub const MILESTONES_PAID: Map<MilestoneKey, MilestonePaid> = Map::new("milestones_paid");
/// Funds left in trial budgets, per denom (part of the ledger's invariant).
pub const BUDGETED: Map<&str, Uint128> = Map::new("budgeted");

pub const PURCHASE_COUNT: Item<u64> = Item::new("purchase_count");
/// Unclaimed balance of each payee, by denom.
pub const BALANCES: Map<(&Addr, &str), Uint128> = Map::new("balances");
/// Each address's credits, refunds and withdrawals, by a contract-wide entry number.
pub const HISTORY: Map<(&Addr, u64), HistoryEntry> = Map::new("history");
pub const HISTORY_COUNT: Item<u64> = Item::new("history_count");
/// Totals per denom, kept with every change so the invariant is one query.
pub const OPEN_ESCROW: Map<&str, Uint128> = Map::new("open_escrow");
pub const UNCLAIMED: Map<&str, Uint128> = Map::new("unclaimed");
pub const OPEN_PURCHASES: Item<u64> = Item::new("open_purchases");

pub struct PurchaseIndexes<'a> {
    pub buyer: MultiIndex<'a, Addr, Purchase, u64>,
}

impl IndexList<Purchase> for PurchaseIndexes<'_> {
    fn get_indexes(&'_ self) -> Box<dyn Iterator<Item = &'_ dyn Index<Purchase>> + '_> {
        let v: Vec<&dyn Index<Purchase>> = vec![&self.buyer];
        Box::new(v.into_iter())
    }
}

pub fn purchases<'a>() -> IndexedMap<u64, Purchase, PurchaseIndexes<'a>> {
    let indexes = PurchaseIndexes {
        buyer: MultiIndex::new(|_, p| p.buyer.clone(), "purchases", "purchases__buyer"),
    };
    IndexedMap::new("purchases", indexes)
}

/// The next number of a counter that starts at 1.
pub fn next(storage: &mut dyn Storage, counter: &Item<u64>) -> StdResult<u64> {
    let id = counter.may_load(storage)?.unwrap_or_default() + 1;
    counter.save(storage, &id)?;
    Ok(id)
}
