//! A small IBC relay harness over several multi-test `App`s (multi-test has no IBC of its
//! own): each chain records the packets its contracts send, and the harness performs the
//! channel handshake and moves packets, acknowledgements and timeouts by calling the
//! contracts' IBC entry points ([`IbcApp`]: attestation, the consent contract's settlement
//! end, billing) against each chain's contract storage — the calls wasmd makes when Hermes
//! relays.
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
    IbcPacketTimeoutMsg, IbcQuery, IbcReceiveResponse, IbcTimeout, Querier, QuerierWrapper,
    Storage, Timestamp, Uint128,
};
use cw_multi_test::{
    App, AppBuilder, AppResponse, BankKeeper, ContractWrapper, CosmosRouter, DistributionKeeper,
    Executor, FailingModule, Ibc, Module, StakeKeeper, WasmKeeper,
};
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
    /// The billing contract, once `settle::deploy_billing` put one on this chain.
    pub billing: Option<Addr>,
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
        let (admin, custodian, patient, researcher) = (
            app.api().addr_make("governance"),
            account(app.api(), "hospital"),
            account(app.api(), "patient"),
            account(app.api(), "researcher"),
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
                    settlement_connections: vec![],
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
            billing: None,
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
        let contract = self.attestation.clone();
        self.ibc_on(&contract, f)
    }

    /// Run an IBC entry point of `contract` as the chain would.
    pub fn ibc_on<R>(&mut self, contract: &Addr, f: impl FnOnce(DepsMut, Env) -> R) -> R {
        let api = *self.app.api();
        let env = Env {
            block: self.app.block_info(),
            contract: ContractInfo {
                address: contract.clone(),
            },
            transaction: None,
        };
        let mut storage = self.app.contract_storage_mut(contract);
        let querier: MockQuerier = MockQuerier::new(&[]);
        let deps = DepsMut {
            storage: &mut *storage,
            api: &api,
            querier: QuerierWrapper::new(&querier),
        };
        f(deps, env)
    }

    /// Run the messages of an attestation IBC entry point's response as the contract, as
    /// wasmd does (relayer fees: payments and refunds).
    pub fn dispatch(&mut self, response: IbcBasicResponse) {
        let contract = self.attestation.clone();
        self.dispatch_as(&contract, response);
    }

    /// Run the messages of `contract`'s IBC entry point response as that contract.
    pub fn dispatch_as(&mut self, contract: &Addr, response: IbcBasicResponse) {
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

/// A key account's address (20 bytes, as on a real chain; `addr_make` gives 32, a contract's
/// length): the same bytes on every harness chain.
pub fn account(api: &cosmwasm_std::testing::MockApi, name: &str) -> Addr {
    let hash = cosmwasm_std::Checksum::generate(name.as_bytes());
    api.addr_humanize(&hash.as_slice()[..20].to_vec().into())
        .expect("20 bytes humanize")
}

/// The least relayer fee of the urgent lane on every harness chain.
pub const URGENT_FEE: u128 = 50;

/// The two ends of an open channel, and the connection it runs on.
pub struct Link {
    pub a_channel: String,
    pub b_channel: String,
    pub connection: String,
}

/// The IBC entry points of one contract, as wasmd calls them.
pub trait IbcApp {
    fn open(&self, deps: DepsMut, env: Env, msg: IbcChannelOpenMsg) -> anyhow::Result<()>;
    fn connect(&self, deps: DepsMut, env: Env, msg: IbcChannelConnectMsg) -> anyhow::Result<()>;
    fn receive(&self, deps: DepsMut, env: Env, msg: IbcPacketReceiveMsg) -> IbcReceiveResponse;
    fn ack(
        &self,
        deps: DepsMut,
        env: Env,
        msg: IbcPacketAckMsg,
    ) -> anyhow::Result<IbcBasicResponse>;
    fn timeout(
        &self,
        deps: DepsMut,
        env: Env,
        msg: IbcPacketTimeoutMsg,
    ) -> anyhow::Result<IbcBasicResponse>;
}

macro_rules! ibc_app {
    ($(#[$doc:meta])* $name:ident => $($entry:ident)::+) => {
        $(#[$doc])*
        pub struct $name;

        impl IbcApp for $name {
            fn open(&self, deps: DepsMut, env: Env, msg: IbcChannelOpenMsg) -> anyhow::Result<()> {
                $($entry)::+::ibc_channel_open(deps, env, msg)?;
                Ok(())
            }
            fn connect(
                &self,
                deps: DepsMut,
                env: Env,
                msg: IbcChannelConnectMsg,
            ) -> anyhow::Result<()> {
                $($entry)::+::ibc_channel_connect(deps, env, msg)?;
                Ok(())
            }
            fn receive(
                &self,
                deps: DepsMut,
                env: Env,
                msg: IbcPacketReceiveMsg,
            ) -> IbcReceiveResponse {
                match $($entry)::+::ibc_packet_receive(deps, env, msg) {
                    Ok(response) => response,
                    Err(never) => match never {},
                }
            }
            fn ack(
                &self,
                deps: DepsMut,
                env: Env,
                msg: IbcPacketAckMsg,
            ) -> anyhow::Result<IbcBasicResponse> {
                Ok($($entry)::+::ibc_packet_ack(deps, env, msg)?)
            }
            fn timeout(
                &self,
                deps: DepsMut,
                env: Env,
                msg: IbcPacketTimeoutMsg,
            ) -> anyhow::Result<IbcBasicResponse> {
                Ok($($entry)::+::ibc_packet_timeout(deps, env, msg)?)
            }
        }
    };
}

ibc_app!(
    /// The attestation contracts' app (`healthmesh-attest-2`, and the urgent lane).
    AttestationApp => healthmesh_attestation::ibc
);
ibc_app!(
    /// The consent contract's end of the settlement channel.
    ConsentSettleApp => healthmesh_consent::settle
);
ibc_app!(
    /// The billing contract's end of the settlement channel.
    BillingApp => healthmesh_billing::ibc
);

ibc_app!(
    /// The governance contracts' app (`healthmesh-gov-1`).
    GovernanceApp => healthmesh_governance::ibc
);

ibc_app!(
    /// The trials contract's end of the milestone channel to the billing contract.
    TrialsApp => healthmesh_trials::ibc
);

/// One end of a channel: a contract on a chain and its app.
pub struct End<'a> {
    pub chain: &'a mut Chain,
    pub contract: Addr,
    pub app: &'a dyn IbcApp,
    pub channel: String,
}

impl End<'_> {
    fn port(&self) -> String {
        format!("wasm.{}", self.contract)
    }

    fn run<R>(&mut self, f: impl FnOnce(&dyn IbcApp, DepsMut, Env) -> R) -> R {
        let (app, contract) = (self.app, self.contract.clone());
        self.chain.ibc_on(&contract, |deps, env| f(app, deps, env))
    }

    fn endpoint(&self) -> IbcEndpoint {
        IbcEndpoint {
            port_id: self.port(),
            channel_id: self.channel.clone(),
        }
    }

    fn channel_to(&self, other: &End, connection: &str, version: &str) -> IbcChannel {
        IbcChannel::new(
            self.endpoint(),
            other.endpoint(),
            IbcOrder::Unordered,
            version,
            connection,
        )
    }
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

fn attestation_end<'a>(chain: &'a mut Chain, channel: &str) -> End<'a> {
    let contract = chain.attestation.clone();
    End {
        chain,
        contract,
        app: &AttestationApp,
        channel: channel.into(),
    }
}

fn open_channel(
    a: &mut Chain,
    b: &mut Chain,
    a_channel: &str,
    b_channel: &str,
    connection: &str,
    version: &str,
) -> Link {
    let mut a_end = attestation_end(a, a_channel);
    let mut b_end = attestation_end(b, b_channel);
    handshake(&mut a_end, &mut b_end, connection, version).unwrap();
    Link {
        a_channel: a_channel.into(),
        b_channel: b_channel.into(),
        connection: connection.into(),
    }
}

/// The 4-step channel handshake, started by the end whose chain has the smaller chain id
/// (HealthMesh contracts require it).
pub fn handshake<'a>(
    a: &mut End<'a>,
    b: &mut End<'a>,
    connection: &str,
    version: &str,
) -> anyhow::Result<()> {
    let (init, other) = if a.chain.chain_id < b.chain.chain_id {
        (a, b)
    } else {
        (b, a)
    };
    let init_side = init.channel_to(other, connection, version);
    let other_side = other.channel_to(init, connection, version);
    let side = init_side.clone();
    init.run(|app, deps, env| app.open(deps, env, IbcChannelOpenMsg::new_init(side)))?;
    let side = other_side.clone();
    other.run(|app, deps, env| app.open(deps, env, IbcChannelOpenMsg::new_try(side, version)))?;
    init.run(|app, deps, env| {
        app.connect(deps, env, IbcChannelConnectMsg::new_ack(init_side, version))
    })?;
    other
        .run(|app, deps, env| app.connect(deps, env, IbcChannelConnectMsg::new_confirm(other_side)))
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
    let mut from = attestation_end(from, from_channel);
    let mut to = attestation_end(to, to_channel);
    relay_between(&mut from, &mut to).unwrap()
}

/// The packets `chain` sent on `channel` and not yet relayed, taken out of its queue.
pub fn take_sent(chain: &Chain, channel: &str) -> Vec<SentPacket> {
    let mut sent = chain.recorder.sent.borrow_mut();
    let (mine, rest): (Vec<_>, Vec<_>) = sent.drain(..).partition(|p| p.channel_id == channel);
    *sent = rest;
    mine
}

/// The packet `from` sends as the chain would number it.
pub fn packet_of(from: &mut End, to: &End, sent: SentPacket) -> IbcPacket {
    let sequence = from.chain.next_sequence;
    from.chain.next_sequence += 1;
    IbcPacket::new(
        sent.data,
        from.endpoint(),
        to.endpoint(),
        sequence,
        sent.timeout,
    )
}

/// Relay every packet the `from` end sent on its channel to the `to` end and bring each
/// acknowledgement (or timeout) back, dispatching the sender's messages (payments, refunds).
pub fn relay_between(from: &mut End, to: &mut End) -> anyhow::Result<Vec<Relayed>> {
    let relayer = from.chain.app.api().addr_make("relayer");
    let mut outcomes = vec![];
    for sent in take_sent(from.chain, &from.channel) {
        let timeout = sent.timeout.clone();
        let packet = packet_of(from, to, sent);
        let timed_out = timeout
            .timestamp()
            .is_some_and(|t| to.chain.app.block_info().time >= t);
        let sender = from.contract.clone();
        if timed_out {
            let msg = IbcPacketTimeoutMsg::new(packet, relayer.clone());
            let response = from.run(|app, deps, env| app.timeout(deps, env, msg))?;
            from.chain.dispatch_as(&sender, response);
            outcomes.push(Relayed::TimedOut);
            continue;
        }
        let msg = IbcPacketReceiveMsg::new(packet.clone(), relayer.clone());
        let received = to.run(|app, deps, env| app.receive(deps, env, msg));
        let ack = received
            .acknowledgement
            .expect("synchronous acknowledgement");
        let msg = IbcPacketAckMsg::new(
            IbcAcknowledgement::new(ack.clone()),
            packet,
            relayer.clone(),
        );
        let response = from.run(|app, deps, env| app.ack(deps, env, msg))?;
        from.chain.dispatch_as(&sender, response);
        outcomes.push(Relayed::Acknowledged(ack));
    }
    Ok(outcomes)
}
