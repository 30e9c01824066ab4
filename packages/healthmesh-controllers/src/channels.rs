//! Channel trust for a single-lane HealthMesh IBC app: governance binds each allowed
//! connection to one counterparty chain and contract port; the handshake accepts only that
//! port and version, one open channel per counterparty chain, one handshake at a time, and
//! only the chain with the smaller chain id initiates; every packet is re-checked against the
//! binding in force, so disallowing a connection stops its channel at once. A close is never
//! started here (any signer may send `MsgChannelCloseInit`); a counterparty's close is recorded.

use cosmwasm_std::{
    Deps, DepsMut, Env, Event, Ibc3ChannelOpenResponse, IbcBasicResponse, IbcChannel,
    IbcChannelCloseMsg, IbcChannelConnectMsg, IbcChannelOpenMsg, IbcChannelOpenResponse, IbcOrder,
    IbcPacket, Order, Response, StdError, StdResult, Storage,
};
use cw_storage_plus::Map;
use healthmesh_types::ibc::{AllowedConnection, BoundChannel, ChannelState};
use thiserror::Error;

use crate::validate::{self, ValidationError};

#[derive(Error, Debug, PartialEq)]
pub enum ChannelError {
    #[error("{0}")]
    Std(#[from] StdError),

    #[error("{0}")]
    Validation(#[from] ValidationError),

    #[error("only unordered channels are supported")]
    OrderedChannel,

    #[error("channel version must be {expected}, got {got:?}")]
    InvalidVersion { expected: String, got: String },

    #[error("connection {0} is not trusted by governance")]
    ConnectionNotAllowed(String),

    #[error("untrusted counterparty port: expected {expected}, got {got}")]
    UntrustedCounterparty { expected: String, got: String },

    #[error("chain {chain} is already linked over channel {channel}")]
    ChainAlreadyLinked { chain: String, channel: String },

    #[error("a handshake with {chain} is already under way on {channel}")]
    HandshakeInProgress { chain: String, channel: String },

    #[error("the chain with the smaller chain id opens the channel; {chain} must initiate")]
    NotInitiator { chain: String },

    #[error("channel {0} is not open")]
    ChannelNotOpen(String),

    #[error("no open channel to chain {0}")]
    NoChannelTo(String),

    #[error("channel {0} is never closed from this end")]
    CloseRefused(String),

    #[error("at most {0} connections may be trusted")]
    TooManyConnections(usize),

    #[error("counterparty port must be wasm.<contract address>, got {0:?}")]
    InvalidPort(String),
}

/// The storage of one app's channel trust.
pub struct ChannelBindings {
    allowed: Map<&'static str, AllowedConnection>,
    channels: Map<&'static str, BoundChannel>,
    by_chain: Map<&'static str, String>,
    handshakes: Map<&'static str, String>,
    version: &'static str,
    max_connections: usize,
}

impl ChannelBindings {
    /// `keys`: the storage namespaces of the allowed connections, channels, channel per chain
    /// and pending handshakes.
    pub const fn new(
        keys: [&'static str; 4],
        version: &'static str,
        max_connections: usize,
    ) -> Self {
        Self {
            allowed: Map::new(keys[0]),
            channels: Map::new(keys[1]),
            by_chain: Map::new(keys[2]),
            handshakes: Map::new(keys[3]),
            version,
            max_connections,
        }
    }

    pub fn version(&self) -> &'static str {
        self.version
    }

    /// Trust `allowed` (replacing the binding of its connection, if any).
    pub fn allow(
        &self,
        storage: &mut dyn Storage,
        allowed: &AllowedConnection,
    ) -> Result<(), ChannelError> {
        validate::bounded_text("connection_id", &allowed.connection_id, 64)?;
        validate::bounded_text("chain_id", &allowed.chain_id, 64)?;
        let port = allowed.counterparty_port.as_str();
        if !port.starts_with("wasm.") || port.len() > 128 || port.len() <= "wasm.".len() {
            return Err(ChannelError::InvalidPort(port.into()));
        }
        let known = self.allowed.has(storage, &allowed.connection_id);
        if !known && self.allowed_connections(storage)?.len() >= self.max_connections {
            return Err(ChannelError::TooManyConnections(self.max_connections));
        }
        self.allowed
            .save(storage, &allowed.connection_id, allowed)?;
        Ok(())
    }

    pub fn disallow(&self, storage: &mut dyn Storage, connection_id: &str) {
        self.allowed.remove(storage, connection_id);
    }

    pub fn allowed_connections(&self, storage: &dyn Storage) -> StdResult<Vec<AllowedConnection>> {
        self.allowed
            .range(storage, None, None, Order::Ascending)
            .take(self.max_connections + 1)
            .map(|item| item.map(|(_, a)| a))
            .collect()
    }

    /// Every channel ever opened (bounded: one per allowed connection at a time, and a
    /// connection's channels are replaced only after a close).
    pub fn channels(&self, storage: &dyn Storage) -> StdResult<Vec<BoundChannel>> {
        self.channels
            .range(storage, None, None, Order::Ascending)
            .take(4 * self.max_connections)
            .map(|item| item.map(|(_, c)| c))
            .collect()
    }

    /// The trusted connection of a channel being opened, or why it is not acceptable.
    fn check(
        &self,
        deps: Deps,
        channel: &IbcChannel,
        counterparty_version: Option<&str>,
    ) -> Result<AllowedConnection, ChannelError> {
        if channel.order != IbcOrder::Unordered {
            return Err(ChannelError::OrderedChannel);
        }
        for version in std::iter::once(channel.version.as_str()).chain(counterparty_version) {
            if version != self.version {
                return Err(ChannelError::InvalidVersion {
                    expected: self.version.into(),
                    got: version.into(),
                });
            }
        }
        let allowed = self
            .allowed
            .may_load(deps.storage, &channel.connection_id)?
            .ok_or_else(|| ChannelError::ConnectionNotAllowed(channel.connection_id.clone()))?;
        let port = &channel.counterparty_endpoint.port_id;
        if *port != allowed.counterparty_port {
            return Err(ChannelError::UntrustedCounterparty {
                expected: allowed.counterparty_port,
                got: port.clone(),
            });
        }
        let this = &channel.endpoint.channel_id;
        if let Some(existing) = self.by_chain.may_load(deps.storage, &allowed.chain_id)? {
            let usable = self.trusted(deps.storage, &existing).is_ok();
            if usable && existing != *this {
                return Err(ChannelError::ChainAlreadyLinked {
                    chain: allowed.chain_id,
                    channel: existing,
                });
            }
        }
        if let Some(pending) = self.handshakes.may_load(deps.storage, &allowed.chain_id)? {
            if pending != *this {
                return Err(ChannelError::HandshakeInProgress {
                    chain: allowed.chain_id,
                    channel: pending,
                });
            }
        }
        Ok(allowed)
    }

    /// `ibc_channel_open`: OpenInit (only towards a chain with a larger chain id) or OpenTry.
    pub fn open(
        &self,
        deps: DepsMut,
        env: &Env,
        msg: &IbcChannelOpenMsg,
    ) -> Result<IbcChannelOpenResponse, ChannelError> {
        let allowed = self.check(deps.as_ref(), msg.channel(), msg.counterparty_version())?;
        if let IbcChannelOpenMsg::OpenInit { .. } = msg {
            if env.block.chain_id.as_str() > allowed.chain_id.as_str() {
                return Err(ChannelError::NotInitiator {
                    chain: allowed.chain_id,
                });
            }
        }
        let channel_id = &msg.channel().endpoint.channel_id;
        self.handshakes
            .save(deps.storage, &allowed.chain_id, channel_id)?;
        Ok(Some(Ibc3ChannelOpenResponse {
            version: self.version.into(),
        }))
    }

    /// `ibc_channel_connect`: records the channel as the one to its counterparty chain.
    pub fn connect(
        &self,
        deps: DepsMut,
        msg: &IbcChannelConnectMsg,
    ) -> Result<BoundChannel, ChannelError> {
        let channel = msg.channel();
        let allowed = self.check(deps.as_ref(), channel, msg.counterparty_version())?;
        let bound = BoundChannel {
            channel_id: channel.endpoint.channel_id.clone(),
            connection_id: channel.connection_id.clone(),
            counterparty_port: channel.counterparty_endpoint.port_id.clone(),
            counterparty_channel: channel.counterparty_endpoint.channel_id.clone(),
            counterparty_chain: allowed.chain_id,
            state: ChannelState::Open,
        };
        self.channels
            .save(deps.storage, &bound.channel_id, &bound)?;
        self.by_chain
            .save(deps.storage, &bound.counterparty_chain, &bound.channel_id)?;
        self.handshakes
            .remove(deps.storage, &bound.counterparty_chain);
        Ok(bound)
    }

    /// `ibc_channel_connect` answered with `event` (channel, counterparty chain and port).
    pub fn connect_response(
        &self,
        deps: DepsMut,
        msg: &IbcChannelConnectMsg,
        event: &str,
    ) -> Result<IbcBasicResponse, ChannelError> {
        let bound = self.connect(deps, msg)?;
        Ok(IbcBasicResponse::new().add_event(
            Event::new(event)
                .add_attribute("channel_id", bound.channel_id)
                .add_attribute("counterparty_chain", bound.counterparty_chain)
                .add_attribute("counterparty_port", bound.counterparty_port),
        ))
    }

    /// `ibc_channel_close` answered with `event` (the channel id).
    pub fn close_response(
        &self,
        deps: DepsMut,
        env: &Env,
        msg: &IbcChannelCloseMsg,
        event: &str,
    ) -> Result<IbcBasicResponse, ChannelError> {
        let channel_id = self.close(deps, env, msg)?;
        Ok(IbcBasicResponse::new()
            .add_event(Event::new(event).add_attribute("channel_id", channel_id)))
    }

    /// `ibc_channel_close`: refuses CloseInit, records CloseConfirm. Returns the channel id.
    pub fn close(
        &self,
        deps: DepsMut,
        env: &Env,
        msg: &IbcChannelCloseMsg,
    ) -> Result<String, ChannelError> {
        let channel_id = msg.channel().endpoint.channel_id.clone();
        if let IbcChannelCloseMsg::CloseInit { .. } = msg {
            return Err(ChannelError::CloseRefused(channel_id));
        }
        if let Some(mut bound) = self.channels.may_load(deps.storage, &channel_id)? {
            bound.state = ChannelState::Closed { at: env.block.time };
            self.channels.save(deps.storage, &channel_id, &bound)?;
            let current = self
                .by_chain
                .may_load(deps.storage, &bound.counterparty_chain)?;
            if current.as_deref() == Some(channel_id.as_str()) {
                self.by_chain
                    .remove(deps.storage, &bound.counterparty_chain);
            }
        }
        Ok(channel_id)
    }

    /// An open channel whose connection is still trusted with the same chain and port.
    pub fn trusted(
        &self,
        storage: &dyn Storage,
        channel_id: &str,
    ) -> Result<BoundChannel, ChannelError> {
        let channel = self
            .channels
            .may_load(storage, channel_id)?
            .filter(|c| c.state == ChannelState::Open)
            .ok_or_else(|| ChannelError::ChannelNotOpen(channel_id.into()))?;
        let trusted = self
            .allowed
            .may_load(storage, &channel.connection_id)?
            .is_some_and(|a| {
                a.chain_id == channel.counterparty_chain
                    && a.counterparty_port == channel.counterparty_port
            });
        if !trusted {
            return Err(ChannelError::ConnectionNotAllowed(channel.connection_id));
        }
        Ok(channel)
    }

    /// The trusted channel a received packet came in on, from the trusted port.
    pub fn packet_source(
        &self,
        storage: &dyn Storage,
        packet: &IbcPacket,
    ) -> Result<BoundChannel, ChannelError> {
        let channel = self.trusted(storage, &packet.dest.channel_id)?;
        if packet.src.port_id != channel.counterparty_port {
            return Err(ChannelError::UntrustedCounterparty {
                expected: channel.counterparty_port,
                got: packet.src.port_id.clone(),
            });
        }
        Ok(channel)
    }

    /// The trusted open channel to `chain_id`.
    pub fn channel_to(
        &self,
        storage: &dyn Storage,
        chain_id: &str,
    ) -> Result<BoundChannel, ChannelError> {
        let channel_id = self
            .by_chain
            .may_load(storage, chain_id)?
            .ok_or_else(|| ChannelError::NoChannelTo(chain_id.into()))?;
        self.trusted(storage, &channel_id)
    }
}

/// The data of a success acknowledgement (cosmwasm's `StdAck`), or the error it carries;
/// an acknowledgement that cannot be read is an error too.
pub fn ack_data(data: &cosmwasm_std::Binary) -> Result<cosmwasm_std::Binary, String> {
    match cosmwasm_std::from_json::<cosmwasm_std::StdAck>(data) {
        Ok(cosmwasm_std::StdAck::Success(data)) => Ok(data),
        Ok(cosmwasm_std::StdAck::Error(error)) => Err(error),
        Err(e) => Err(format!("unreadable acknowledgement: {e}")),
    }
}

/// The response of a governance message that trusted `allowed` (`action` names it).
pub fn allowed_response(action: &str, allowed: AllowedConnection) -> Response {
    Response::new()
        .add_attribute("action", action)
        .add_attribute("connection_id", allowed.connection_id)
        .add_attribute("chain_id", allowed.chain_id)
        .add_attribute("counterparty_port", allowed.counterparty_port)
}

/// The response of a governance message that stopped trusting `connection_id`.
pub fn disallowed_response(action: &str, connection_id: String) -> Response {
    Response::new()
        .add_attribute("action", action)
        .add_attribute("connection_id", connection_id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cosmwasm_std::testing::{mock_dependencies, mock_env};
    use cosmwasm_std::{IbcEndpoint, IbcTimeout, Timestamp};

    const BINDINGS: ChannelBindings =
        ChannelBindings::new(["t_allowed", "t_channels", "t_by_chain", "t_hs"], "v-1", 2);

    fn channel(id: &str, port: &str, version: &str) -> IbcChannel {
        IbcChannel::new(
            IbcEndpoint {
                port_id: "wasm.me".into(),
                channel_id: id.into(),
            },
            IbcEndpoint {
                port_id: port.into(),
                channel_id: "channel-9".into(),
            },
            IbcOrder::Unordered,
            version,
            "connection-0",
        )
    }

    fn allowed() -> AllowedConnection {
        AllowedConnection {
            connection_id: "connection-0".into(),
            chain_id: "zz-1".into(),
            counterparty_port: "wasm.them".into(),
        }
    }

    #[test]
    fn handshake_accepts_only_the_bound_port_and_version() {
        let mut deps = mock_dependencies();
        let env = mock_env();
        let open = |c| IbcChannelOpenMsg::new_init(c);
        assert_eq!(
            BINDINGS.open(
                deps.as_mut(),
                &env,
                &open(channel("channel-0", "wasm.them", "v-1"))
            ),
            Err(ChannelError::ConnectionNotAllowed("connection-0".into()))
        );
        BINDINGS.allow(&mut deps.storage, &allowed()).unwrap();
        assert!(matches!(
            BINDINGS.open(
                deps.as_mut(),
                &env,
                &open(channel("channel-0", "wasm.evil", "v-1"))
            ),
            Err(ChannelError::UntrustedCounterparty { .. })
        ));
        assert!(matches!(
            BINDINGS.open(
                deps.as_mut(),
                &env,
                &open(channel("channel-0", "wasm.them", "v-2"))
            ),
            Err(ChannelError::InvalidVersion { .. })
        ));
        BINDINGS
            .open(
                deps.as_mut(),
                &env,
                &open(channel("channel-0", "wasm.them", "v-1")),
            )
            .unwrap();
        // A second handshake while the first is pending is refused.
        assert!(matches!(
            BINDINGS.open(
                deps.as_mut(),
                &env,
                &open(channel("channel-1", "wasm.them", "v-1"))
            ),
            Err(ChannelError::HandshakeInProgress { .. })
        ));
        let connect =
            IbcChannelConnectMsg::new_ack(channel("channel-0", "wasm.them", "v-1"), "v-1");
        let bound = BINDINGS.connect(deps.as_mut(), &connect).unwrap();
        assert_eq!(bound.counterparty_chain, "zz-1");
        assert_eq!(BINDINGS.channel_to(&deps.storage, "zz-1").unwrap(), bound);

        // Packets are checked against the binding in force.
        let packet = |src_port: &str| {
            IbcPacket::new(
                b"{}".to_vec(),
                IbcEndpoint {
                    port_id: src_port.into(),
                    channel_id: "channel-9".into(),
                },
                IbcEndpoint {
                    port_id: "wasm.me".into(),
                    channel_id: "channel-0".into(),
                },
                1,
                IbcTimeout::with_timestamp(Timestamp::from_seconds(1)),
            )
        };
        assert!(BINDINGS
            .packet_source(&deps.storage, &packet("wasm.them"))
            .is_ok());
        assert!(matches!(
            BINDINGS.packet_source(&deps.storage, &packet("wasm.evil")),
            Err(ChannelError::UntrustedCounterparty { .. })
        ));
        BINDINGS.disallow(&mut deps.storage, "connection-0");
        assert_eq!(
            BINDINGS.packet_source(&deps.storage, &packet("wasm.them")),
            Err(ChannelError::ConnectionNotAllowed("connection-0".into()))
        );
    }

    #[test]
    fn only_the_smaller_chain_id_initiates_and_close_init_is_refused() {
        let mut deps = mock_dependencies();
        let mut env = mock_env();
        env.block.chain_id = "zzz-9".into(); // larger than zz-1
        BINDINGS.allow(&mut deps.storage, &allowed()).unwrap();
        let c = channel("channel-0", "wasm.them", "v-1");
        assert!(matches!(
            BINDINGS.open(deps.as_mut(), &env, &IbcChannelOpenMsg::new_init(c.clone())),
            Err(ChannelError::NotInitiator { .. })
        ));
        assert!(BINDINGS
            .open(
                deps.as_mut(),
                &env,
                &IbcChannelOpenMsg::new_try(c.clone(), "v-1")
            )
            .is_ok());
        assert_eq!(
            BINDINGS.close(deps.as_mut(), &env, &IbcChannelCloseMsg::new_init(c)),
            Err(ChannelError::CloseRefused("channel-0".into()))
        );
    }

    #[test]
    fn connections_are_bounded_and_ports_checked() {
        let mut deps = mock_dependencies();
        let mut a = allowed();
        a.counterparty_port = "transfer".into();
        assert!(matches!(
            BINDINGS.allow(&mut deps.storage, &a),
            Err(ChannelError::InvalidPort(_))
        ));
        for i in 0..2 {
            let mut a = allowed();
            a.connection_id = format!("connection-{i}");
            BINDINGS.allow(&mut deps.storage, &a).unwrap();
        }
        let mut third = allowed();
        third.connection_id = "connection-7".into();
        assert_eq!(
            BINDINGS.allow(&mut deps.storage, &third),
            Err(ChannelError::TooManyConnections(2))
        );
    }
}
