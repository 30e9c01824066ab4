//! A small IBC relay harness over several multi-test `App`s (multi-test has no IBC of its
//! own): each chain records the packets its contracts send, and the harness performs the
//! channel handshake and moves packets, acknowledgements and timeouts by calling the
//! attestation contracts' IBC entry points against each chain's contract storage — the
//! calls wasmd makes when Hermes relays.
//!
//! Limitation: a packet is recorded when the `SendPacket` message is dispatched; the flows
//! tested here never roll that message back.

use std::cell::RefCell;
use std::rc::Rc;

use anyhow::bail;
use cosmwasm_std::testing::MockQuerier;
use cosmwasm_std::{
    coins, Addr, Api, Binary, BlockInfo, ContractInfo, CustomMsg, CustomQuery, DepsMut, Empty, Env,
    IbcAcknowledgement, IbcBasicResponse, IbcChannel, IbcChannelConnectMsg, IbcChannelOpenMsg,
    IbcEndpoint, IbcMsg, IbcOrder, IbcPacket, IbcPacketAckMsg, IbcPacketReceiveMsg,
    IbcPacketTimeoutMsg, IbcQuery, IbcTimeout, Querier, QuerierWrapper, Storage, Timestamp,
    Uint128,
};
use cw_multi_test::{
    App, AppBuilder, AppResponse, BankKeeper, ContractWrapper, CosmosRouter, DistributionKeeper,
    Executor, FailingModule, Ibc, Module, StakeKeeper, WasmKeeper,
};
use healthmesh_attestation::ibc as entry;
use healthmesh_types::attestation::{self as att, CHANNEL_VERSION};
use healthmesh_types::staking;
use serde::de::DeserializeOwned;

use crate::consent::consent_code;
use crate::dao::{staking_code, DENOM};

/// A packet a contract asked its chain to send.
#[derive(Clone, Debug)]
pub struct SentPacket {
    pub sender: Addr,
    pub channel_id: String,
    pub data: Binary,
    pub timeout: IbcTimeout,
}

/// The IBC module of a test chain: accepts `SendPacket` and records it.
#[derive(Clone, Default)]
pub struct PacketRecorder {
    pub sent: Rc<RefCell<Vec<SentPacket>>>,
}

impl Module for PacketRecorder {
    type ExecT = IbcMsg;
    type QueryT = IbcQuery;
    type SudoT = Empty;

    fn execute<ExecC, QueryC>(
        &self,
        _api: &dyn Api,
        _storage: &mut dyn Storage,
        _router: &dyn CosmosRouter<ExecC = ExecC, QueryC = QueryC>,
        _block: &BlockInfo,
        sender: Addr,
        msg: IbcMsg,
    ) -> anyhow::Result<AppResponse>
    where
        ExecC: CustomMsg + DeserializeOwned + 'static,
        QueryC: CustomQuery + DeserializeOwned + 'static,
    {
        match msg {
            IbcMsg::SendPacket {
                channel_id,
                data,
                timeout,
            } => {
                self.sent.borrow_mut().push(SentPacket {
                    sender,
                    channel_id,
                    data,
                    timeout,
                });
                Ok(AppResponse::default())
            }
            other => bail!("the harness only relays SendPacket, not {other:?}"),
        }
    }

    fn query(
        &self,
        _: &dyn Api,
        _: &dyn Storage,
        _: &dyn Querier,
        _: &BlockInfo,
        q: IbcQuery,
    ) -> anyhow::Result<Binary> {
        bail!("IBC queries are not simulated: {q:?}")
    }

    fn sudo<ExecC, QueryC>(
        &self,
        _: &dyn Api,
        _: &mut dyn Storage,
        _: &dyn CosmosRouter<ExecC = ExecC, QueryC = QueryC>,
        _: &BlockInfo,
        _: Empty,
    ) -> anyhow::Result<AppResponse>
    where
        ExecC: CustomMsg + DeserializeOwned + 'static,
        QueryC: CustomQuery + DeserializeOwned + 'static,
    {
        bail!("no IBC sudo")
    }
}

impl Ibc for PacketRecorder {}

pub type ChainApp = App<
    BankKeeper,
    cosmwasm_std::testing::MockApi,
    cosmwasm_std::testing::MockStorage,
    FailingModule<Empty, Empty, Empty>,
    WasmKeeper<Empty, Empty>,
    StakeKeeper,
    DistributionKeeper,
    PacketRecorder,
>;

pub fn attestation_code() -> Box<dyn cw_multi_test::Contract<Empty>> {
    use healthmesh_attestation::contract::{execute, instantiate, migrate, query};
    Box::new(ContractWrapper::new(execute, instantiate, query).with_migrate(migrate))
}

/// One HealthMesh chain: staking, consent and attestation, administered by `admin`.
pub struct Chain {
    pub chain_id: String,
    pub app: ChainApp,
    pub recorder: PacketRecorder,
    pub admin: Addr,
    pub custodian: Addr,
    pub patient: Addr,
    pub researcher: Addr,
    pub staking: Addr,
    pub consent: Addr,
    pub attestation: Addr,
    next_sequence: u64,
}

impl Chain {
    pub fn new(chain_id: &str, verifying_key: &[u8]) -> Self {
        let recorder = PacketRecorder::default();
        let block = BlockInfo {
            height: 100,
            time: Timestamp::from_seconds(1_800_000_000),
            chain_id: chain_id.into(),
        };
        let mut app = AppBuilder::new()
            .with_ibc(recorder.clone())
            .with_block(block)
            .build(|_, _, _| {});
        let addr = |app: &ChainApp, n: &str| app.api().addr_make(n);
        let (admin, custodian, patient, researcher) = (
            addr(&app, "governance"),
            addr(&app, "hospital"),
            addr(&app, "patient"),
            addr(&app, "researcher"),
        );
        app.init_modules(|router, _, storage| {
            for funded in [&custodian, &researcher] {
                router
                    .bank
                    .init_balance(storage, funded, coins(10_000, DENOM))
                    .unwrap();
            }
        });
        let staking_id = app.store_code(staking_code());
        let consent_id = app.store_code(consent_code());
        let attestation_id = app.store_code(attestation_code());
        let staking = app
            .instantiate_contract(
                staking_id,
                admin.clone(),
                &staking::InstantiateMsg {
                    denom: DENOM.into(),
                    min_bond: Uint128::new(1_000),
                    unbonding_period: 86_400,
                    slashing_window: 86_400,
                    max_claims: 8,
                    slash_destination: staking::SlashDestination::Burn {},
                    admin: admin.to_string(),
                    pausers: vec![],
                    max_pause_seconds: None,
                },
                &[],
                "staking",
                None,
            )
            .unwrap();
        let consent = app
            .instantiate_contract(
                consent_id,
                admin.clone(),
                &healthmesh_types::consent::InstantiateMsg {
                    name: format!("consent {chain_id}"),
                    symbol: "HMC".into(),
                    admin: admin.to_string(),
                    pausers: vec![],
                    max_pause_seconds: None,
                },
                &[],
                "consent",
                None,
            )
            .unwrap();
        let attestation = app
            .instantiate_contract(
                attestation_id,
                admin.clone(),
                &att::InstantiateMsg {
                    consent: consent.to_string(),
                    staking: staking.to_string(),
                    admin: admin.to_string(),
                    verifying_keys: vec![Binary::from(verifying_key)],
                    allowed_connections: vec![],
                    predicate_policies: vec![],
                    pausers: vec![],
                    max_pause_seconds: None,
                    urgent_fee: Some(cosmwasm_std::coin(URGENT_FEE, DENOM)),
                },
                &[],
                "attestation",
                None,
            )
            .unwrap();
        app.execute_contract(
            custodian.clone(),
            staking.clone(),
            &staking::ExecuteMsg::Bond {},
            &coins(1_000, DENOM),
        )
        .unwrap();
        Chain {
            chain_id: chain_id.into(),
            app,
            recorder,
            admin,
            custodian,
            patient,
            researcher,
            staking,
            consent,
            attestation,
            next_sequence: 1,
        }
    }

    /// The patient names the chain's custodian as the holder of `dataset`.
    pub fn designate_custodian(&mut self, dataset: &cosmwasm_std::HexBinary) {
        let msg = healthmesh_types::consent::ExecuteMsg::DesignateCustodian {
            dataset: dataset.clone(),
            custodian: Some(self.custodian.to_string()),
        };
        let (patient, consent) = (self.patient.clone(), self.consent.clone());
        self.app
            .execute_contract(patient, consent, &msg, &[])
            .unwrap();
    }

    pub fn port(&self) -> String {
        format!("wasm.{}", self.attestation)
    }

    pub fn execute(&mut self, sender: &Addr, msg: &att::ExecuteMsg) -> anyhow::Result<AppResponse> {
        let contract = self.attestation.clone();
        self.app
            .execute_contract(sender.clone(), contract, msg, &[])
    }

    pub fn query<T: DeserializeOwned>(&self, msg: &att::QueryMsg) -> T {
        self.app
            .wrap()
            .query_wasm_smart(&self.attestation, msg)
            .unwrap()
    }

    /// Run an IBC entry point of the attestation contract as the chain would.
    pub fn ibc<R>(&mut self, f: impl FnOnce(DepsMut, Env) -> R) -> R {
        let api = *self.app.api();
        let env = Env {
            block: self.app.block_info(),
            contract: ContractInfo {
                address: self.attestation.clone(),
            },
            transaction: None,
        };
        let contract = self.attestation.clone();
        let mut storage = self.app.contract_storage_mut(&contract);
        let querier: MockQuerier = MockQuerier::new(&[]);
        let deps = DepsMut {
            storage: &mut *storage,
            api: &api,
            querier: QuerierWrapper::new(&querier),
        };
        f(deps, env)
    }

    /// Run the messages of an IBC entry point's response as the contract, as wasmd does
    /// (relayer fees: payments and refunds).
    pub fn dispatch(&mut self, response: IbcBasicResponse) {
        let contract = self.attestation.clone();
        for sub in response.messages {
            self.app.execute(contract.clone(), sub.msg).unwrap();
        }
    }

    /// `denom` balance of `address` on this chain.
    pub fn balance(&self, address: &Addr) -> u128 {
        self.app
            .wrap()
            .query_balance(address, DENOM)
            .unwrap()
            .amount
            .u128()
    }

    pub fn advance(&mut self, seconds: u64) {
        self.app.update_block(|b| {
            b.height += 1 + seconds / 5;
            b.time = b.time.plus_seconds(seconds);
        });
    }
}

/// The least relayer fee of the urgent lane on every harness chain.
pub const URGENT_FEE: u128 = 50;

/// The two ends of an open channel, and the connection it runs on.
pub struct Link {
    pub a_channel: String,
    pub b_channel: String,
    pub connection: String,
}

fn channel(
    own: &Chain,
    own_channel: &str,
    other: &Chain,
    other_channel: &str,
    connection: &str,
    version: &str,
) -> IbcChannel {
    IbcChannel::new(
        IbcEndpoint {
            port_id: own.port(),
            channel_id: own_channel.into(),
        },
        IbcEndpoint {
            port_id: other.port(),
            channel_id: other_channel.into(),
        },
        IbcOrder::Unordered,
        version,
        connection,
    )
}

/// Governance on each side trusts the connection, then the 4-step channel handshake runs.
pub fn connect(a: &mut Chain, b: &mut Chain, a_channel: &str, b_channel: &str) -> Link {
    let connection = format!("connection-{a_channel}-{b_channel}");
    let (a_id, b_id) = (a.chain_id.clone(), b.chain_id.clone());
    let (a_port, b_port) = (a.port(), b.port());
    for (chain, other, port) in [(&mut *a, b_id, b_port), (&mut *b, a_id, a_port)] {
        let admin = chain.admin.clone();
        chain
            .execute(
                &admin,
                &att::ExecuteMsg::AllowConnection {
                    connection_id: connection.clone(),
                    chain_id: other,
                    counterparty_port: port,
                },
            )
            .unwrap();
    }
    open_channel(a, b, a_channel, b_channel, &connection, CHANNEL_VERSION)
}

/// The urgent lane between the chains of `bulk`, on the same connection.
pub fn connect_urgent(
    a: &mut Chain,
    b: &mut Chain,
    bulk: &Link,
    a_channel: &str,
    b_channel: &str,
) -> Link {
    open_channel(
        a,
        b,
        a_channel,
        b_channel,
        &bulk.connection,
        att::URGENT_CHANNEL_VERSION,
    )
}

fn open_channel(
    a: &mut Chain,
    b: &mut Chain,
    a_channel: &str,
    b_channel: &str,
    connection: &str,
    version: &str,
) -> Link {
    // The chain with the smaller chain id starts the handshake (the contracts require it).
    if a.chain_id < b.chain_id {
        handshake(a, a_channel, b, b_channel, connection, version);
    } else {
        handshake(b, b_channel, a, a_channel, connection, version);
    }
    Link {
        a_channel: a_channel.into(),
        b_channel: b_channel.into(),
        connection: connection.into(),
    }
}

/// The 4-step channel handshake started by `init`.
fn handshake(
    init: &mut Chain,
    init_channel: &str,
    other: &mut Chain,
    other_channel: &str,
    connection: &str,
    version: &str,
) {
    let init_side = channel(
        init,
        init_channel,
        other,
        other_channel,
        connection,
        version,
    );
    let other_side = channel(
        other,
        other_channel,
        init,
        init_channel,
        connection,
        version,
    );
    init.ibc(|deps, env| {
        entry::ibc_channel_open(deps, env, IbcChannelOpenMsg::new_init(init_side.clone()))
    })
    .unwrap();
    other
        .ibc(|deps, env| {
            entry::ibc_channel_open(
                deps,
                env,
                IbcChannelOpenMsg::new_try(other_side.clone(), version),
            )
        })
        .unwrap();
    init.ibc(|deps, env| {
        entry::ibc_channel_connect(deps, env, IbcChannelConnectMsg::new_ack(init_side, version))
    })
    .unwrap();
    other
        .ibc(|deps, env| {
            entry::ibc_channel_connect(deps, env, IbcChannelConnectMsg::new_confirm(other_side))
        })
        .unwrap();
}

/// What happened to one relayed packet.
#[derive(Debug)]
pub enum Relayed {
    Acknowledged(Binary),
    TimedOut,
}

/// Relay every packet `from` sent on `from_channel` to `to`: deliver it (or time it out if
/// `to`'s clock passed its timeout) and bring the acknowledgement back.
pub fn relay(
    from: &mut Chain,
    to: &mut Chain,
    from_channel: &str,
    to_channel: &str,
) -> Vec<Relayed> {
    let relayer = from.app.api().addr_make("relayer");
    let packets: Vec<SentPacket> = {
        let mut sent = from.recorder.sent.borrow_mut();
        let (mine, rest): (Vec<_>, Vec<_>) =
            sent.drain(..).partition(|p| p.channel_id == from_channel);
        *sent = rest;
        mine
    };
    let mut outcomes = vec![];
    for sent in packets {
        let sequence = from.next_sequence;
        from.next_sequence += 1;
        let packet = IbcPacket::new(
            sent.data,
            IbcEndpoint {
                port_id: from.port(),
                channel_id: from_channel.into(),
            },
            IbcEndpoint {
                port_id: to.port(),
                channel_id: to_channel.into(),
            },
            sequence,
            sent.timeout.clone(),
        );
        let timed_out = sent
            .timeout
            .timestamp()
            .is_some_and(|t| to.app.block_info().time >= t);
        if timed_out {
            let response = from
                .ibc(|deps, env| {
                    entry::ibc_packet_timeout(
                        deps,
                        env,
                        IbcPacketTimeoutMsg::new(packet, relayer.clone()),
                    )
                })
                .unwrap();
            from.dispatch(response);
            outcomes.push(Relayed::TimedOut);
            continue;
        }
        let received = to
            .ibc(|deps, env| {
                entry::ibc_packet_receive(
                    deps,
                    env,
                    IbcPacketReceiveMsg::new(packet.clone(), relayer.clone()),
                )
            })
            .unwrap();
        let ack = received
            .acknowledgement
            .expect("synchronous acknowledgement");
        let response = from
            .ibc(|deps, env| {
                entry::ibc_packet_ack(
                    deps,
                    env,
                    IbcPacketAckMsg::new(
                        IbcAcknowledgement::new(ack.clone()),
                        packet,
                        relayer.clone(),
                    ),
                )
            })
            .unwrap();
        from.dispatch(response);
        outcomes.push(Relayed::Acknowledged(ack));
    }
    outcomes
}
