use cosmwasm_std::{Addr, Timestamp, Uint128};
use cw_storage_plus::{Item, Map, SnapshotItem, SnapshotMap, Strategy};
use healthmesh_controllers::channels::ChannelBindings;
pub use healthmesh_types::governance::Config;
use healthmesh_types::governance::{CouncilActionInfo, NetworkPauseRecord, Proposal, VoteInfo};
use healthmesh_types::network::{GOVERNANCE_CHANNEL_VERSION, MAX_NETWORK_CHAINS};

pub const CONTRACT_NAME: &str = "crates.io:healthmesh-governance";
pub const CONTRACT_VERSION: &str = env!("CARGO_PKG_VERSION");

#[cosmwasm_schema::cw_serde]
pub struct Council {
    pub members: Vec<Addr>,
    pub threshold: u32,
    /// Bumped by every council change; a council action counts approvals of its epoch only.
    /// Absent (0) in councils stored before epochs existed.
    #[serde(default)]
    pub epoch: u64,
}

pub const CONFIG: Item<Config> = Item::new("config");
/// Fixed weights when voting with `VotingSource::Members`.
pub const MEMBERS: Map<&Addr, Uint128> = Map::new("members");
pub const MEMBERS_TOTAL: Item<Uint128> = Item::new("members_total");
/// Σ ⌊√weight⌋ of the fixed members (quadratic rule over `VotingSource::Members`).
pub const MEMBERS_SQRT_TOTAL: Item<Uint128> = Item::new("members_sqrt_total");

/// Holders of the membership token (1 each), snapshotted per block: a member issued during a
/// vote does not vote in it.
pub const MEMBERSHIP: SnapshotMap<&Addr, Uint128> = SnapshotMap::new(
    "membership",
    "membership__checkpoints",
    "membership__changelog",
    Strategy::EveryBlock,
);
pub const MEMBERSHIP_TOTAL: SnapshotItem<Uint128> = SnapshotItem::new(
    "membership_total",
    "membership_total__checkpoints",
    "membership_total__changelog",
    Strategy::EveryBlock,
);

pub const PROPOSALS: Map<u64, Proposal> = Map::new("proposals");
pub const PROPOSAL_COUNT: Item<u64> = Item::new("proposal_count");
pub const VOTES: Map<(u64, &Addr), VoteInfo> = Map::new("votes");

pub const COUNCIL: Item<Council> = Item::new("council");
pub const COUNCIL_ACTIONS: Map<u64, CouncilActionInfo> = Map::new("council_actions");
pub const COUNCIL_ACTION_COUNT: Item<u64> = Item::new("council_action_count");

/// Trust in the other chains' governance contracts: one binding per connection, one channel
/// per chain.
pub const GOV_CHANNELS: ChannelBindings = ChannelBindings::new(
    [
        "gov_allowed",
        "gov_channels",
        "gov_by_chain",
        "gov_handshakes",
    ],
    GOVERNANCE_CHANNEL_VERSION,
    MAX_NETWORK_CHAINS,
);
/// The contracts of this chain a network pause stops.
pub const PAUSE_TARGETS: Item<Vec<Addr>> = Item::new("pause_targets");
/// The last network pause or unpause applied here.
pub const LAST_NETWORK_PAUSE: Item<NetworkPauseRecord> = Item::new("last_network_pause");
/// Per origin (chain, governance port), the newest network pause sequence applied here: on
/// an unordered channel an older pause arriving after a newer unpause is refused. Keyed by
/// port too, so a chain re-bound to a new governance contract starts afresh.
pub const PAUSE_SEEN: Map<(&str, &str), u64> = Map::new("pause_seen");
/// This chain's network pause sequence (bumped each time its council pauses or unpauses the
/// network): orders its pause packets.
pub const PAUSE_SEQ: Item<u64> = Item::new("pause_seq");
/// The pause targets a network pause paused here (a network unpause lifts only those, not a
/// pause the council or DAO set locally).
pub const NETWORK_HELD: Item<Vec<(Addr, Timestamp)>> = Item::new("network_held");
/// Origin block time of the newest network pause or unpause applied here (from any chain,
/// this one's council included).
pub const NETWORK_PAUSE_AT: Item<Timestamp> = Item::new("network_pause_at");
/// Network proposals mirrored here: (home chain, home governance port, home proposal id) →
/// local proposal id.
pub const MIRRORS: Map<(&str, &str, u64), u64> = Map::new("mirrors");
/// The proposal whose messages are running (read by `SendRemote`).
pub const EXECUTING: Item<u64> = Item::new("executing");
