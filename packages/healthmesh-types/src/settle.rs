//! The settlement protocol between the billing contract (billing-1) and the consent contracts
//! of the other chains: channel version `healthmesh-settle-1`, unordered, JSON packets.
//!
//! The billing contract sends a [`PurchasePacket`] with the researcher's payment escrowed;
//! the consent contract of the chain holding the offer checks the offer and mints the consent
//! token, and acknowledges with a [`PurchaseAck`] (cosmwasm `StdAck::Success`) or an error
//! (`StdAck::Error`) with the reason. Accounts travel as canonical address bytes: the same key
//! owns them on every chain, whatever each chain's address prefix.

use cosmwasm_schema::cw_serde;
use cosmwasm_std::{Binary, Coin};

pub const SETTLE_CHANNEL_VERSION: &str = "healthmesh-settle-1";

#[cw_serde]
#[serde(deny_unknown_fields)]
pub enum SettlePacket {
    Purchase(PurchasePacket),
}

#[cw_serde]
#[serde(deny_unknown_fields)]
pub struct PurchasePacket {
    /// The billing contract's purchase (escrow) id; unique per billing contract.
    pub purchase_id: u64,
    pub offer_id: u64,
    /// The buyer's account, canonical bytes: the consent token goes to the same key on the
    /// offer's chain.
    pub buyer: Binary,
    /// The escrowed payment; must equal the offer's price.
    pub paid: Coin,
    pub purpose: String,
    pub scope: Vec<String>,
    pub duration_seconds: u64,
}

/// Just the purchase id of a packet, read leniently: an ack or timeout of a packet sent by an
/// earlier version of the billing contract still finds its purchase.
#[cw_serde]
pub struct PacketPurchaseId {
    pub purchase_id: u64,
}

#[cw_serde]
pub enum SettlePacketId {
    Purchase(PacketPurchaseId),
}

/// The length of a key account's canonical address (a secp256k1 key's hash). Only such
/// accounts cross chains: a contract's (or an interchain account's) address bytes name an
/// unrelated account on another chain.
pub const ACCOUNT_ADDRESS_LEN: usize = 20;

/// The data of a success acknowledgement: the consent token minted, and who is owed what.
/// Unknown fields are ignored, so the consent side can add some without breaking settlement.
#[cw_serde]
pub struct PurchaseAck {
    pub purchase_id: u64,
    /// The consent token minted on the offer's chain.
    pub token_id: String,
    /// The token's owner there (the buyer's key on that chain).
    pub grantee: String,
    /// The patient's payout address on the billing chain, as the offer names it.
    pub patient_payout: Option<String>,
    /// The patient's account (canonical bytes): paid here if `patient_payout` is unusable.
    pub patient_account: Binary,
    /// The custodian the patient designated for the dataset, if any (canonical bytes).
    pub custodian: Option<Binary>,
    /// The relayer that delivered the packet (canonical bytes).
    pub relayer: Binary,
}
