//! What every HealthMesh IBC app shares: the governance binding of a connection to one
//! counterparty chain and contract port, and the record of a channel opened under it.

use cosmwasm_schema::cw_serde;
use cosmwasm_std::Timestamp;

/// Governance trusts `connection_id` to reach `chain_id`, and on it only the contract whose
/// port is `counterparty_port` (`wasm.<address>`).
#[cw_serde]
#[serde(deny_unknown_fields)]
pub struct AllowedConnection {
    pub connection_id: String,
    pub chain_id: String,
    /// `wasm.<address of the counterparty contract>`: the only port trusted.
    pub counterparty_port: String,
}

#[cw_serde]
pub enum ChannelState {
    Open,
    Closed { at: Timestamp },
}

/// A channel opened under an [`AllowedConnection`].
#[cw_serde]
pub struct BoundChannel {
    pub channel_id: String,
    pub connection_id: String,
    pub counterparty_port: String,
    pub counterparty_channel: String,
    pub counterparty_chain: String,
    pub state: ChannelState,
}
