//! The governance protocol between the chains' governance contracts: channel version
//! `healthmesh-gov-1`, unordered, JSON packets acknowledged with cosmwasm's `StdAck`. Each
//! governance contract trusts, per connection, only the governance contract of the chain
//! bound to it; every packet is re-checked against that binding.

use cosmwasm_schema::cw_serde;
use cosmwasm_std::{CosmosMsg, Timestamp, Uint128};

use crate::governance::Tally;

pub const GOVERNANCE_CHANNEL_VERSION: &str = "healthmesh-gov-1";
/// Governance packets time out after this long: a network pause cannot arrive late and
/// outlive the pause lapse rule by more than this.
pub const NETWORK_PACKET_TIMEOUT_SECONDS: u64 = 600;
/// Most contracts one chain's network pause stops.
pub const MAX_PAUSE_TARGETS: usize = 16;
/// Most other chains one governance contract trusts.
pub const MAX_NETWORK_CHAINS: usize = 8;

#[cw_serde]
#[serde(deny_unknown_fields)]
pub enum GovPacket {
    /// The sending chain's council decided a network pause (its council action `action_id`);
    /// `seq` orders the sending chain's network pauses and unpauses (an older one arriving
    /// after a newer one is refused).
    /// `at` is the decision's block time there: across chains, an older decision arriving
    /// after a newer one is refused too.
    Pause {
        action_id: u64,
        seq: u64,
        at: Timestamp,
        reason: String,
    },
    /// The sending chain's council lifted the network pause.
    Unpause {
        action_id: u64,
        seq: u64,
        at: Timestamp,
    },
    /// Messages of a proposal passed on the sending chain, for this chain's governance to run
    /// atomically; `index` tells the proposal's remote executions apart.
    Execute {
        proposal_id: u64,
        index: u32,
        msgs: Vec<CosmosMsg>,
    },
    /// Open a network proposal here, voted on until `voting_end`.
    OpenVote {
        proposal_id: u64,
        title: String,
        description: String,
        voting_end: Timestamp,
    },
    /// This chain's final tally of the home chain's network proposal `proposal_id`.
    Tally {
        proposal_id: u64,
        mirror_id: u64,
        tally: Tally,
        total_power: Uint128,
    },
}

/// Success data of an `OpenVote`: the proposal opened there and its total power.
#[cw_serde]
pub struct OpenVoteAck {
    pub mirror_id: u64,
    pub total_power: Uint128,
}
