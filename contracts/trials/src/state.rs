use cosmwasm_std::{Addr, Timestamp};
use cw_ownable::OwnershipStore;
use cw_storage_plus::{Index, IndexList, IndexedMap, Item, Map, MultiIndex};
use healthmesh_controllers::channels::ChannelBindings;
use healthmesh_controllers::pause::Pausable;
use healthmesh_types::trial_pay::TRIALS_CHANNEL_VERSION;
use healthmesh_types::trials::{BudgetLinkStatus, Enrollment, MilestoneClaim, Trial};

pub const CONTRACT_NAME: &str = "crates.io:healthmesh-trials";
pub const CONTRACT_VERSION: &str = env!("CARGO_PKG_VERSION");
pub const STATE_LAYOUT: u16 = 1;

/// Governance: approves sites, suspends trials.
pub const ADMIN: OwnershipStore = OwnershipStore::new("admin");
pub const PAUSE: Pausable = Pausable::new("pausers", "paused", "max_pause");
pub const TRIAL_COUNT: Item<u64> = Item::new("trial_count");
/// This chain's attestation contract.
pub const ATTESTATION: Item<Addr> = Item::new("attestation");
/// Each trial's participants (withdrawn ones kept).
pub const ENROLLMENTS: Map<(u64, &Addr), Enrollment> = Map::new("enrollments");
/// Which participant a consent enrolled, per trial: one enrollment per consent.
pub const CONSENTS_ENROLLED: Map<(u64, &str, &str), Addr> = Map::new("consents_enrolled");
/// Participants enrolled and not withdrawn, per trial (capacity).
pub const ENROLLED_COUNT: Map<u64, u32> = Map::new("enrolled_count");
/// Approved sites and when governance approved them.
pub const SITES: Map<&Addr, Timestamp> = Map::new("sites");

/// The channel to the billing contract (one billing chain).
pub const BILLING: ChannelBindings = ChannelBindings::new(
    [
        "billing_allowed",
        "billing_channels",
        "billing_channel_by_chain",
        "billing_handshakes",
    ],
    TRIALS_CHANNEL_VERSION,
    1,
);
pub const PACKET_TIMEOUT: Item<u64> = Item::new("packet_timeout");
/// Milestone claims by (trial, milestone, participant).
pub const CLAIMS: Map<(u64, &str, &Addr), MilestoneClaim> = Map::new("milestone_claims");
/// What the billing chain answered to each trial's budget terms.
pub const BUDGET_LINKS: Map<u64, BudgetLinkStatus> = Map::new("budget_links");

pub struct TrialIndexes<'a> {
    pub sponsor: MultiIndex<'a, Addr, Trial, u64>,
}

impl IndexList<Trial> for TrialIndexes<'_> {
    fn get_indexes(&'_ self) -> Box<dyn Iterator<Item = &'_ dyn Index<Trial>> + '_> {
        let v: Vec<&dyn Index<Trial>> = vec![&self.sponsor];
        Box::new(v.into_iter())
    }
}

pub fn trials<'a>() -> IndexedMap<u64, Trial, TrialIndexes<'a>> {
    let indexes = TrialIndexes {
        sponsor: MultiIndex::new(|_, t| t.sponsor.clone(), "trials", "trials__sponsor"),
    };
    IndexedMap::new("trials", indexes)
}
