//! Every IBC entry point with cosmwasm-std's `mock_ibc_*` helpers.

use std::sync::OnceLock;

use cosmwasm_std::testing::{
    message_info, mock_dependencies, mock_env, mock_ibc_channel, mock_ibc_channel_close_init,
    mock_ibc_channel_connect_ack, mock_ibc_channel_open_init, mock_ibc_packet_ack,
    mock_ibc_packet_recv, mock_ibc_packet_timeout, MockApi, MockQuerier, MockStorage,
};
use cosmwasm_std::{
    from_json, Binary, Empty, Env, IbcAcknowledgement, IbcChannel, IbcOrder, OwnedDeps, StdAck,
};
use healthmesh_proofs::keys::{setup_from_seed, ProvingKey};
use healthmesh_proofs::prover::{prove, Opening};
use healthmesh_proofs::statement::{
    commit, AttributeCode, Context, Operator, Predicate, Statement,
};
use healthmesh_proto::attest::v2 as pb;
use healthmesh_types::attestation::{
    AttestationStatus, AttestationsResponse, ChannelsResponse, DeliveryStatus, ExecuteMsg,
    InstantiateMsg, IsAttestedResponse, Lane, QueryMsg, ReceiveAck, CHANNEL_VERSION, MAX_BATCH,
    URGENT_CHANNEL_VERSION,
};

use crate::contract::{execute, instantiate, query};
use crate::ibc::{
    ibc_channel_close, ibc_channel_connect, ibc_channel_open, ibc_packet_ack, ibc_packet_receive,
    ibc_packet_timeout,
};
use crate::packet::encode;
use crate::state::DELIVERIES;
use crate::ContractError;
use healthmesh_types::attestation::Delivery;

type Deps = OwnedDeps<MockStorage, MockApi, MockQuerier, Empty>;

const CONNECTION: &str = "connection-2";
/// The attestation contract on genomics-1 that governance trusts on `CONNECTION`.
const GENOMICS_PORT: &str = "wasm.cosmwasm1genomicsattestation";

fn keys() -> &'static ProvingKey {
    static KEYS: OnceLock<ProvingKey> = OnceLock::new();
    KEYS.get_or_init(|| setup_from_seed(b"ibc-unit").unwrap())
}

fn circuit_id() -> String {
    hex::encode(keys().verifying_key().id())
}

fn trusted_channel(id: &str) -> IbcChannel {
    let mut channel = mock_ibc_channel(id, IbcOrder::Unordered, CHANNEL_VERSION);
    channel.counterparty_endpoint.port_id = GENOMICS_PORT.into();
    channel
}

/// A contract on trials-1 that trusts genomics-1's attestation contract on `CONNECTION`,
/// with no channel yet.
fn bound() -> (Deps, Env) {
    let mut deps = mock_dependencies();
    let env = mock_env();
    let admin = deps.api.addr_make("governance");
    let msg = InstantiateMsg {
        consent: deps.api.addr_make("consent").to_string(),
        staking: deps.api.addr_make("staking").to_string(),
        admin: admin.to_string(),
        verifying_keys: vec![Binary::from(keys().verifying_key().to_bytes())],
        allowed_connections: vec![],
        predicate_policies: vec![],
        pausers: vec![],
        max_pause_seconds: None,
        urgent_fee: None,
    };
    instantiate(deps.as_mut(), env.clone(), message_info(&admin, &[]), msg).unwrap();
    let allow = ExecuteMsg::AllowConnection {
        connection_id: CONNECTION.into(),
        chain_id: "genomics-1".into(),
        counterparty_port: GENOMICS_PORT.into(),
    };
    execute(deps.as_mut(), env.clone(), message_info(&admin, &[]), allow).unwrap();
    (deps, env)
}

/// A contract on trials-1 with one open channel (`channel-0`) to genomics-1.
fn setup() -> (Deps, Env) {
    let (mut deps, env) = bound();
    let mut open = mock_ibc_channel_open_init("channel-0", IbcOrder::Unordered, CHANNEL_VERSION);
    if let cosmwasm_std::IbcChannelOpenMsg::OpenInit { channel } = &mut open {
        *channel = trusted_channel("channel-0");
    }
    ibc_channel_open(deps.as_mut(), env.clone(), open).unwrap();
    let mut connect =
        mock_ibc_channel_connect_ack("channel-0", IbcOrder::Unordered, CHANNEL_VERSION);
    if let cosmwasm_std::IbcChannelConnectMsg::OpenAck { channel, .. } = &mut connect {
        *channel = trusted_channel("channel-0");
    }
    ibc_channel_connect(deps.as_mut(), env.clone(), connect).unwrap();
    (deps, env)
}

/// A genomics-1 attestation packet carrying a real proof of "hba1c < 70".
fn attestation_packet() -> pb::AttestationPacket {
    packet_proving(12, Operator::Lt, vec![70])
}

/// Attestation `id` of genomics-1 with a real proof of `hba1c <op> <values>` (HbA1c 64).
fn packet_proving(id: u64, op: Operator, values: Vec<u64>) -> pb::AttestationPacket {
    let attribute = AttributeCode::new("hba1c").unwrap();
    let opening = Opening {
        value: 64,
        salt: bls12_381::Scalar::from(5u64),
        subject: bls12_381::Scalar::from(9u64),
    };
    let commitment = commit(&attribute, 64, &opening.salt, &opening.subject);
    let context = Context {
        chain_id: "genomics-1".into(),
        consent_contract: "cosmwasm1genomicsconsent".into(),
        consent_id: "4".into(),
        grantee: "cosmwasm1researcher".into(),
    };
    let statement = Statement {
        attribute,
        predicate: Predicate::new(op, values.clone()).unwrap(),
        commitment,
        context: context.clone(),
    };
    let proof = prove(keys(), &statement, &opening, &mut rand::rng()).unwrap();
    pb::AttestationPacket {
        attestation_id: id,
        source_chain: "genomics-1".into(),
        circuit_id: circuit_id(),
        attribute: "hba1c".into(),
        predicate: Some(pb::Predicate {
            op: op.code() as u32,
            values,
        }),
        commitment: commitment.to_vec(),
        proof: proof.to_vec(),
        context: Some(pb::Context {
            chain_id: context.chain_id,
            consent_contract: context.consent_contract,
            consent_id: context.consent_id,
            grantee: context.grantee,
        }),
        attester: "cosmwasm1hospital".into(),
        expires_at: 0,
        consent_purpose: "trial-eligibility".into(),
        patient_tag: vec![7; 32],
    }
}

/// Deliver raw packet bytes on `channel` and decode the acknowledgement.
fn receive(deps: &mut Deps, env: &Env, channel: &str, data: Binary) -> StdAck {
    receive_from(deps, env, channel, GENOMICS_PORT, data)
}

/// Deliver raw packet bytes sent from `port` on `channel`.
fn receive_from(deps: &mut Deps, env: &Env, channel: &str, port: &str, data: Binary) -> StdAck {
    let mut msg = mock_ibc_packet_recv(channel, &"placeholder").unwrap();
    msg.packet.data = data;
    msg.packet.src.port_id = port.into();
    let res = ibc_packet_receive(deps.as_mut(), env.clone(), msg).unwrap();
    from_json(res.acknowledgement.unwrap()).unwrap()
}

fn stored(deps: &Deps, env: &Env) -> usize {
    let res: AttestationsResponse = from_json(
        query(
            deps.as_ref(),
            env.clone(),
            QueryMsg::AttestationsByConsent {
                source_chain: "genomics-1".into(),
                consent_id: "4".into(),
                start_after: None,
                limit: None,
            },
        )
        .unwrap(),
    )
    .unwrap();
    res.attestations.len()
}

fn error_of(ack: StdAck) -> String {
    match ack {
        StdAck::Error(e) => e,
        StdAck::Success(_) => panic!("expected an error acknowledgement"),
    }
}

#[test]
fn handshake_refuses_wrong_version_order_port_and_connection() {
    let (mut deps, env) = setup();
    let open = |channel: IbcChannel| cosmwasm_std::IbcChannelOpenMsg::new_init(channel);
    let mut wrong_version = trusted_channel("channel-1");
    wrong_version.version = "ics20-1".into();
    let mut ordered = trusted_channel("channel-1");
    ordered.order = IbcOrder::Ordered;
    let mut not_contract = trusted_channel("channel-1");
    not_contract.counterparty_endpoint.port_id = "transfer".into();
    let mut untrusted = trusted_channel("channel-1");
    untrusted.connection_id = "connection-9".into();
    let cases = [
        (
            wrong_version,
            ContractError::InvalidVersion {
                expected: format!("{CHANNEL_VERSION} or {URGENT_CHANNEL_VERSION}"),
                got: "ics20-1".into(),
            },
        ),
        (ordered, ContractError::OrderedChannel),
        (
            not_contract,
            ContractError::UntrustedCounterparty {
                expected: GENOMICS_PORT.into(),
                got: "transfer".into(),
            },
        ),
        (
            untrusted,
            ContractError::ConnectionNotAllowed("connection-9".into()),
        ),
    ];
    for (channel, expected) in cases {
        assert_eq!(
            ibc_channel_open(deps.as_mut(), env.clone(), open(channel)).unwrap_err(),
            expected
        );
    }
    let try_wrong = cosmwasm_std::IbcChannelOpenMsg::new_try(
        trusted_channel("channel-1"),
        "healthmesh-attest-1",
    );
    assert!(matches!(
        ibc_channel_open(deps.as_mut(), env.clone(), try_wrong).unwrap_err(),
        ContractError::InvalidVersion { .. }
    ));
    // genomics-1 already has its channel: a second one is refused.
    assert_eq!(
        ibc_channel_open(
            deps.as_mut(),
            env.clone(),
            open(trusted_channel("channel-1"))
        )
        .unwrap_err(),
        ContractError::ChainAlreadyLinked {
            chain: "genomics-1".into(),
            channel: "channel-0".into(),
        }
    );
    let ok = ibc_channel_open(
        deps.as_mut(),
        env.clone(),
        open(trusted_channel("channel-0")),
    )
    .unwrap();
    assert_eq!(ok.unwrap().version, CHANNEL_VERSION);

    // Only the channel from `setup` exists.
    let channels: ChannelsResponse = from_json(
        query(
            deps.as_ref(),
            env,
            QueryMsg::Channels {
                start_after: None,
                limit: None,
            },
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(channels.channels.len(), 1);
    assert_eq!(channels.channels[0].counterparty_chain, "genomics-1");
}

#[test]
fn a_valid_packet_is_reverified_recorded_and_cannot_be_replayed() {
    let (mut deps, env) = setup();
    let data = encode(pb::packet::Body::Attestation(attestation_packet()));
    let StdAck::Success(ack) = receive(&mut deps, &env, "channel-0", data.clone()) else {
        panic!("error ack")
    };
    assert_eq!(from_json::<ReceiveAck>(&ack).unwrap().value, 1);
    assert_eq!(stored(&deps, &env), 1);
    let replay = error_of(receive(&mut deps, &env, "channel-0", data));
    assert!(replay.contains("already received"), "{replay}");
    assert_eq!(stored(&deps, &env), 1);
}

#[test]
fn hostile_packets_get_error_acks_and_change_nothing() {
    let (mut deps, env) = setup();
    let good = attestation_packet();
    let mut bad_proof = good.clone();
    bad_proof.proof[150] ^= 1;
    let mut wrong_source = good.clone();
    wrong_source.source_chain = "billing-1".into();
    let mut wrong_context = good.clone();
    wrong_context.context.as_mut().unwrap().consent_id = "5".into();
    let mut short_commitment = good.clone();
    short_commitment.commitment.truncate(31);
    let mut bad_op = good.clone();
    bad_op.predicate.as_mut().unwrap().op = 300;
    let mut no_context = good.clone();
    no_context.context = None;
    let mut unknown_key = good.clone();
    unknown_key.circuit_id = "00".repeat(32);
    let cases: Vec<(Binary, &str)> = vec![
        (
            Binary::from(b"\xff\xfe garbage".to_vec()),
            "malformed packet",
        ),
        (Binary::default(), "packet has no body"),
        (encode(pb::packet::Body::Attestation(bad_proof)), "proof"),
        (
            encode(pb::packet::Body::Attestation(wrong_source)),
            "leads to genomics-1",
        ),
        (
            encode(pb::packet::Body::Attestation(wrong_context)),
            "does not verify",
        ),
        (
            encode(pb::packet::Body::Attestation(short_commitment)),
            "commitment must be 32 bytes",
        ),
        (
            encode(pb::packet::Body::Attestation(bad_op)),
            "operator code",
        ),
        (
            encode(pb::packet::Body::Attestation(no_context)),
            "lacks context",
        ),
        (
            encode(pb::packet::Body::Attestation(unknown_key)),
            "unknown verifying key",
        ),
    ];
    for (data, expected) in cases {
        let error = error_of(receive(&mut deps, &env, "channel-0", data));
        assert!(
            error.contains(expected),
            "expected {expected:?} in {error:?}"
        );
    }
    let error = error_of(receive(
        &mut deps,
        &env,
        "channel-7",
        encode(pb::packet::Body::Attestation(good)),
    ));
    assert!(error.contains("channel-7 is unknown or closed"), "{error}");
    assert_eq!(stored(&deps, &env), 0);
}

#[test]
fn closed_channels_refuse_packets() {
    let (mut deps, env) = setup();
    let close = cosmwasm_std::IbcChannelCloseMsg::CloseConfirm {
        channel: trusted_channel("channel-0"),
    };
    ibc_channel_close(deps.as_mut(), env.clone(), close).unwrap();
    let error = error_of(receive(
        &mut deps,
        &env,
        "channel-0",
        encode(pb::packet::Body::Attestation(attestation_packet())),
    ));
    assert!(error.contains("unknown or closed"), "{error}");
}

#[test]
fn acks_and_timeouts_update_the_delivery() {
    let (mut deps, env) = setup();
    let mut packet = attestation_packet();
    packet.attestation_id = 3;
    let pending = Delivery {
        channel_id: "channel-0".into(),
        status: DeliveryStatus::Pending,
        attempts: 1,
        updated_at: env.block.time,
    };
    DELIVERIES
        .save(deps.as_mut().storage, (3, "channel-0"), &pending)
        .unwrap();
    let data = encode(pb::packet::Body::Attestation(packet));
    let with_data = |mut msg: cosmwasm_std::IbcPacketAckMsg| {
        msg.original_packet.data = data.clone();
        msg
    };
    let status = |deps: &Deps| {
        DELIVERIES
            .load(deps.as_ref().storage, (3, "channel-0"))
            .unwrap()
            .status
    };

    let garbage = with_data(
        mock_ibc_packet_ack(
            "channel-0",
            &"x",
            IbcAcknowledgement::new(b"not json".to_vec()),
        )
        .unwrap(),
    );
    ibc_packet_ack(deps.as_mut(), env.clone(), garbage).unwrap();
    assert_eq!(
        status(&deps),
        DeliveryStatus::Failed {
            error: "undecodable acknowledgement".into()
        }
    );

    let failed = with_data(
        mock_ibc_packet_ack(
            "channel-0",
            &"x",
            IbcAcknowledgement::new(StdAck::error("no key")),
        )
        .unwrap(),
    );
    ibc_packet_ack(deps.as_mut(), env.clone(), failed).unwrap();
    assert_eq!(
        status(&deps),
        DeliveryStatus::Failed {
            error: "no key".into()
        }
    );

    let ok_ack = StdAck::success(cosmwasm_std::to_json_binary(&ReceiveAck::new(41)).unwrap());
    let delivered =
        with_data(mock_ibc_packet_ack("channel-0", &"x", IbcAcknowledgement::new(ok_ack)).unwrap());
    ibc_packet_ack(deps.as_mut(), env.clone(), delivered).unwrap();
    assert_eq!(status(&deps), DeliveryStatus::Delivered { remote_id: 41 });

    let mut timeout = mock_ibc_packet_timeout("channel-0", &"x").unwrap();
    timeout.packet.data = data.clone();
    ibc_packet_timeout(deps.as_mut(), env.clone(), timeout).unwrap();
    assert_eq!(status(&deps), DeliveryStatus::TimedOut);

    // Our own packet that we cannot decode: reported, never a failed relayer tx.
    let mut junk = mock_ibc_packet_timeout("channel-0", &"x").unwrap();
    junk.packet.data = Binary::from(b"junk".to_vec());
    let res = ibc_packet_timeout(deps.as_mut(), env, junk).unwrap();
    assert!(res.events[0].attributes.iter().any(|a| a.key == "error"));
}

fn attestations_under(deps: &Deps, env: &Env, start_after: Option<u64>) -> Vec<AttestationStatus> {
    let res: AttestationsResponse = from_json(
        query(
            deps.as_ref(),
            env.clone(),
            QueryMsg::AttestationsByConsent {
                source_chain: "genomics-1".into(),
                consent_id: "4".into(),
                start_after,
                limit: Some(30),
            },
        )
        .unwrap(),
    )
    .unwrap();
    res.attestations.into_iter().map(|a| a.status).collect()
}

fn is_attested(deps: &Deps, env: &Env, commitment: &[u8]) -> bool {
    let res: IsAttestedResponse = from_json(
        query(
            deps.as_ref(),
            env.clone(),
            QueryMsg::IsAttested {
                commitment: commitment.into(),
                attribute: "hba1c".into(),
                predicate: Predicate {
                    op: Operator::Lt,
                    values: vec![70],
                },
                at: None,
                start_before: None,
            },
        )
        .unwrap(),
    )
    .unwrap();
    res.attested
}

fn revocation(consent_id: &str) -> Binary {
    encode(pb::packet::Body::Revocation(pb::RevocationPacket {
        source_chain: "genomics-1".into(),
        consent_id: consent_id.into(),
        reason: "consent revoked".into(),
    }))
}

#[test]
fn c1_rogue_counterparty_port_is_refused() {
    let (mut deps, env) = setup();
    // A contract anyone instantiated on genomics-1 tries a channel on the trusted connection.
    let mut rogue = trusted_channel("channel-5");
    rogue.counterparty_endpoint.port_id = "wasm.cosmwasm1rogue".into();
    let open = cosmwasm_std::IbcChannelOpenMsg::new_init(rogue);
    assert_eq!(
        ibc_channel_open(deps.as_mut(), env.clone(), open).unwrap_err(),
        ContractError::UntrustedCounterparty {
            expected: GENOMICS_PORT.into(),
            got: "wasm.cosmwasm1rogue".into(),
        }
    );
    // Packets that do not come from the trusted port, even on the trusted channel: refused,
    // forged revocations included, and nothing is written.
    let packet = encode(pb::packet::Body::Attestation(attestation_packet()));
    let error = error_of(receive_from(
        &mut deps,
        &env,
        "channel-0",
        "wasm.cosmwasm1rogue",
        packet.clone(),
    ));
    assert!(error.contains("counterparty port must be"), "{error}");
    let error = error_of(receive_from(
        &mut deps,
        &env,
        "channel-0",
        "wasm.cosmwasm1rogue",
        revocation("4"),
    ));
    assert!(error.contains("counterparty port must be"), "{error}");
    assert_eq!(stored(&deps, &env), 0);
    // The genuine packet still lands: the rogue squatted no id.
    assert!(matches!(
        receive(&mut deps, &env, "channel-0", packet),
        StdAck::Success(_)
    ));
    assert_eq!(
        attestations_under(&deps, &env, None),
        vec![AttestationStatus::Valid]
    );
}

#[test]
fn h2_close_init_is_refused() {
    let (mut deps, env) = setup();
    let mut close = mock_ibc_channel_close_init("channel-0", IbcOrder::Unordered, CHANNEL_VERSION);
    if let cosmwasm_std::IbcChannelCloseMsg::CloseInit { channel } = &mut close {
        *channel = trusted_channel("channel-0");
    }
    assert_eq!(
        ibc_channel_close(deps.as_mut(), env.clone(), close).unwrap_err(),
        ContractError::CloseRefused("channel-0".into())
    );
    // Still open: revocations keep flowing.
    assert!(matches!(
        receive(&mut deps, &env, "channel-0", revocation("4")),
        StdAck::Success(_)
    ));
}

#[test]
fn h1_remote_revocation_is_complete_however_many_attestations() {
    let (mut deps, env) = setup();
    let packet = attestation_packet();
    let commitment = packet.commitment.clone();
    // 60 records under one consent: more than any loop bound of the old revocation (50).
    for id in 1..=60 {
        let mut p = packet.clone();
        p.attestation_id = id;
        let ack = receive(
            &mut deps,
            &env,
            "channel-0",
            encode(pb::packet::Body::Attestation(p)),
        );
        assert!(matches!(ack, StdAck::Success(_)), "{ack:?}");
    }
    assert!(is_attested(&deps, &env, &commitment));
    let StdAck::Success(ack) = receive(&mut deps, &env, "channel-0", revocation("4")) else {
        panic!("revocation refused")
    };
    assert_eq!(from_json::<ReceiveAck>(&ack).unwrap().value, 1);
    let first = attestations_under(&deps, &env, None);
    let second = attestations_under(&deps, &env, Some(30));
    assert_eq!(first.len() + second.len(), 60);
    assert!(first
        .iter()
        .chain(&second)
        .all(|s| matches!(s, AttestationStatus::Revoked { .. })));
    assert!(!is_attested(&deps, &env, &commitment));
    // A repeated revocation is acknowledged as already known.
    let StdAck::Success(ack) = receive(&mut deps, &env, "channel-0", revocation("4")) else {
        panic!("repeat refused")
    };
    assert_eq!(from_json::<ReceiveAck>(&ack).unwrap().value, 0);
}

#[test]
fn m1_revocation_overtaking_its_attestation_refuses_the_late_arrival() {
    let (mut deps, env) = setup();
    assert!(matches!(
        receive(&mut deps, &env, "channel-0", revocation("4")),
        StdAck::Success(_)
    ));
    let late = encode(pb::packet::Body::Attestation(attestation_packet()));
    let error = error_of(receive(&mut deps, &env, "channel-0", late));
    assert!(
        error.contains("consent 4 of genomics-1 is revoked"),
        "{error}"
    );
    assert_eq!(stored(&deps, &env), 0);
}

#[test]
fn h3_slash_news_invalidates_received_attestations_of_the_attester() {
    let (mut deps, env) = setup();
    let packet = attestation_packet();
    let first = encode(pb::packet::Body::Attestation(packet.clone()));
    assert!(matches!(
        receive(&mut deps, &env, "channel-0", first),
        StdAck::Success(_)
    ));
    let slashed = encode(pb::packet::Body::AttesterSlashed(
        pb::AttesterSlashedPacket {
            source_chain: "genomics-1".into(),
            attester: packet.attester.clone(),
        },
    ));
    assert!(matches!(
        receive(&mut deps, &env, "channel-0", slashed),
        StdAck::Success(_)
    ));
    assert!(matches!(
        &attestations_under(&deps, &env, None)[0],
        AttestationStatus::Revoked { reason, .. } if reason == "attester slashed"
    ));
    assert!(!is_attested(&deps, &env, &packet.commitment));
    let mut later = packet;
    later.attestation_id = 13;
    let error = error_of(receive(
        &mut deps,
        &env,
        "channel-0",
        encode(pb::packet::Body::Attestation(later)),
    ));
    assert!(error.contains("was slashed"), "{error}");
}

#[test]
fn l1_disallowing_a_connection_stops_its_open_channel() {
    let (mut deps, env) = setup();
    let admin = deps.api.addr_make("governance");
    let disallow = ExecuteMsg::DisallowConnection {
        connection_id: CONNECTION.into(),
    };
    execute(
        deps.as_mut(),
        env.clone(),
        message_info(&admin, &[]),
        disallow,
    )
    .unwrap();
    let packet = encode(pb::packet::Body::Attestation(attestation_packet()));
    let error = error_of(receive(&mut deps, &env, "channel-0", packet));
    assert!(error.contains("connection-2 is not trusted"), "{error}");
    assert_eq!(stored(&deps, &env), 0);
}

#[test]
fn review_crossed_handshakes_cannot_leave_the_ends_on_different_channels() {
    let (mut deps, env) = bound();
    // Seen from a chain whose id sorts after genomics-1, opening is genomics-1's job.
    let mut env_b = env.clone();
    env_b.block.chain_id = "zz-chain-9".into();
    assert_eq!(
        ibc_channel_open(
            deps.as_mut(),
            env_b,
            cosmwasm_std::IbcChannelOpenMsg::new_init(trusted_channel("channel-7"))
        )
        .unwrap_err(),
        ContractError::NotInitiator {
            chain: "genomics-1".into()
        }
    );
    // This chain ("cosmos-testnet-…") sorts before genomics-1, so it alone initiates; the
    // first handshake holds the lane until it connects.
    let init = |id: &str| cosmwasm_std::IbcChannelOpenMsg::new_init(trusted_channel(id));
    ibc_channel_open(deps.as_mut(), env.clone(), init("channel-0")).unwrap();
    assert_eq!(
        ibc_channel_open(deps.as_mut(), env.clone(), init("channel-1")).unwrap_err(),
        ContractError::HandshakeInProgress {
            chain: "genomics-1".into(),
            channel: "channel-0".into(),
        }
    );
    let try_other =
        cosmwasm_std::IbcChannelOpenMsg::new_try(trusted_channel("channel-1"), CHANNEL_VERSION);
    assert!(matches!(
        ibc_channel_open(deps.as_mut(), env.clone(), try_other).unwrap_err(),
        ContractError::HandshakeInProgress { .. }
    ));
    let ack_other =
        cosmwasm_std::IbcChannelConnectMsg::new_ack(trusted_channel("channel-1"), CHANNEL_VERSION);
    assert!(matches!(
        ibc_channel_connect(deps.as_mut(), env.clone(), ack_other).unwrap_err(),
        ContractError::HandshakeInProgress { .. }
    ));
    let ack =
        cosmwasm_std::IbcChannelConnectMsg::new_ack(trusted_channel("channel-0"), CHANNEL_VERSION);
    ibc_channel_connect(deps.as_mut(), env.clone(), ack).unwrap();
}

#[test]
fn the_urgent_lane_is_a_second_channel_of_its_own_version() {
    let (mut deps, env) = setup();
    let urgent = |id: &str| {
        let mut channel = trusted_channel(id);
        channel.version = URGENT_CHANNEL_VERSION.into();
        channel
    };
    // Both ends must name the same lane.
    let crossed = cosmwasm_std::IbcChannelOpenMsg::new_try(urgent("channel-1"), CHANNEL_VERSION);
    assert!(matches!(
        ibc_channel_open(deps.as_mut(), env.clone(), crossed).unwrap_err(),
        ContractError::InvalidVersion { .. }
    ));
    // The bulk lane to genomics-1 is taken (channel-0); the urgent lane is free.
    let res = ibc_channel_open(
        deps.as_mut(),
        env.clone(),
        cosmwasm_std::IbcChannelOpenMsg::new_init(urgent("channel-1")),
    )
    .unwrap();
    assert_eq!(res.unwrap().version, URGENT_CHANNEL_VERSION);
    let ack =
        cosmwasm_std::IbcChannelConnectMsg::new_ack(urgent("channel-1"), URGENT_CHANNEL_VERSION);
    ibc_channel_connect(deps.as_mut(), env.clone(), ack).unwrap();
    // A second urgent lane to the same chain is refused, like a second bulk one.
    for channel in [urgent("channel-2"), trusted_channel("channel-2")] {
        assert!(matches!(
            ibc_channel_open(
                deps.as_mut(),
                env.clone(),
                cosmwasm_std::IbcChannelOpenMsg::new_init(channel)
            )
            .unwrap_err(),
            ContractError::ChainAlreadyLinked { .. }
        ));
    }
    let channels: ChannelsResponse = from_json(
        query(
            deps.as_ref(),
            env.clone(),
            QueryMsg::Channels {
                start_after: None,
                limit: None,
            },
        )
        .unwrap(),
    )
    .unwrap();
    let lanes: Vec<(String, Lane)> = channels
        .channels
        .into_iter()
        .map(|c| (c.channel_id, c.lane))
        .collect();
    assert_eq!(
        lanes,
        vec![
            ("channel-0".into(), Lane::Bulk),
            ("channel-1".into(), Lane::Urgent)
        ]
    );
    // Packets on the urgent lane are received like any other.
    let ack = receive(
        &mut deps,
        &env,
        "channel-1",
        encode(pb::packet::Body::Attestation(attestation_packet())),
    );
    assert!(matches!(ack, StdAck::Success(_)), "{ack:?}");
    assert_eq!(stored(&deps, &env), 1);
}

/// Three true statements about one commitment, as attestations 21, 22, 23 of genomics-1.
fn batch_of_three() -> Vec<pb::AttestationPacket> {
    vec![
        packet_proving(21, Operator::Lt, vec![70]),
        packet_proving(22, Operator::Gt, vec![10]),
        packet_proving(23, Operator::Between, vec![50, 90]),
    ]
}

fn batch(attestations: Vec<pb::AttestationPacket>) -> Binary {
    encode(pb::packet::Body::AttestationBatch(
        pb::AttestationBatchPacket { attestations },
    ))
}

#[test]
fn a_batch_packet_is_verified_together_and_recorded_all_at_once() {
    let (mut deps, env) = setup();
    let StdAck::Success(ack) = receive(&mut deps, &env, "channel-0", batch(batch_of_three()))
    else {
        panic!("error ack")
    };
    let ack: ReceiveAck = from_json(&ack).unwrap();
    assert_eq!((ack.value, ack.ids), (1, vec![1, 2, 3]));
    assert_eq!(stored(&deps, &env), 3);
    // Replaying any member replays the batch: refused whole.
    let again = error_of(receive(
        &mut deps,
        &env,
        "channel-0",
        batch(batch_of_three()),
    ));
    assert!(again.contains("already received"), "{again}");
    assert_eq!(stored(&deps, &env), 3);
}

#[test]
fn hostile_batch_packets_get_error_acks_and_change_nothing() {
    let (mut deps, env) = setup();
    let good = batch_of_three();
    let mut one_bad_proof = good.clone();
    one_bad_proof[1].proof = good[2].proof.clone();
    let mut mixed = good.clone();
    mixed[2].circuit_id = "00".repeat(32);
    let mut duplicate = good.clone();
    duplicate[2].attestation_id = duplicate[0].attestation_id;
    let oversized: Vec<_> = (0..MAX_BATCH as u64 + 1)
        .map(|i| {
            let mut p = good[0].clone();
            p.attestation_id = 100 + i;
            p
        })
        .collect();
    let mut wrong_source = good.clone();
    wrong_source[2].source_chain = "billing-1".into();
    let mut bad_tag = good.clone();
    bad_tag[1].patient_tag = vec![1; 5];
    let cases: Vec<(Binary, &str)> = vec![
        (batch(bad_tag), "patient tag must be 32 bytes, got 5"),
        (batch(vec![]), "a batch holds 1 to 32 attestations, got 0"),
        (batch(oversized), "got 33"),
        (batch(one_bad_proof), "does not verify"),
        (batch(mixed), "mixes circuits"),
        (batch(duplicate), "same statement twice"),
        (batch(wrong_source), "leads to genomics-1"),
    ];
    for (data, expected) in cases {
        let error = error_of(receive(&mut deps, &env, "channel-0", data));
        assert!(
            error.contains(expected),
            "expected {expected:?} in {error:?}"
        );
        assert_eq!(stored(&deps, &env), 0, "after {expected:?}");
    }
}

/// Review of the urgent lane: its channel must bind the same counterparty contract as the
/// bulk lane's, and its 4-attestation cap holds on arrival.
#[test]
fn review_the_urgent_lane_binds_the_bulk_lanes_contract_and_keeps_its_cap() {
    let (mut deps, env) = setup();
    let admin = deps.api.addr_make("governance");
    let other_port = "wasm.cosmwasm1anothercontract";
    let allow = ExecuteMsg::AllowConnection {
        connection_id: "connection-9".into(),
        chain_id: "genomics-1".into(),
        counterparty_port: other_port.into(),
    };
    execute(deps.as_mut(), env.clone(), message_info(&admin, &[]), allow).unwrap();
    let urgent = |id: &str, connection: &str, port: &str| {
        let mut channel = trusted_channel(id);
        channel.version = URGENT_CHANNEL_VERSION.into();
        channel.connection_id = connection.into();
        channel.counterparty_endpoint.port_id = port.into();
        channel
    };
    let elsewhere =
        cosmwasm_std::IbcChannelOpenMsg::new_init(urgent("channel-1", "connection-9", other_port));
    assert_eq!(
        ibc_channel_open(deps.as_mut(), env.clone(), elsewhere).unwrap_err(),
        ContractError::UntrustedCounterparty {
            expected: GENOMICS_PORT.into(),
            got: other_port.into(),
        }
    );
    let same = urgent("channel-1", CONNECTION, GENOMICS_PORT);
    ibc_channel_open(
        deps.as_mut(),
        env.clone(),
        cosmwasm_std::IbcChannelOpenMsg::new_init(same.clone()),
    )
    .unwrap();
    let ack = cosmwasm_std::IbcChannelConnectMsg::new_ack(same, URGENT_CHANNEL_VERSION);
    ibc_channel_connect(deps.as_mut(), env.clone(), ack).unwrap();

    // Five attestations on the urgent lane: refused on arrival, nothing recorded.
    let five: Vec<_> = (0..5u64)
        .map(|i| packet_proving(40 + i, Operator::Lt, vec![70 + i]))
        .collect();
    let error = error_of(receive(&mut deps, &env, "channel-1", batch(five)));
    assert!(error.contains("got 5"), "{error}");
    assert_eq!(stored(&deps, &env), 0);
    let ack = receive(&mut deps, &env, "channel-1", batch(batch_of_three()));
    assert!(matches!(ack, StdAck::Success(_)), "{ack:?}");
}

/// Review: a batch whose last entry a predicate policy refuses gets an error ack — which
/// keeps state — so no entry may have narrowed the proven range before the refusal.
#[test]
fn review_a_batch_refused_by_policy_narrows_no_range() {
    let (mut deps, env) = setup();
    let admin = deps.api.addr_make("governance");
    let policy = ExecuteMsg::SetPredicatePolicy {
        attribute: "hba1c".into(),
        policy: Some(healthmesh_types::attestation::PredicatePolicy {
            allowed_ops: vec![],
            min_range: 30,
        }),
    };
    execute(
        deps.as_mut(),
        env.clone(),
        message_info(&admin, &[]),
        policy,
    )
    .unwrap();
    // lt 70 and gt 10 pass; between 50 90 then leaves 50..=69 (20 values < 30): refused.
    let batch_three = batch_of_three();
    let commitment = batch_three[0].commitment.clone();
    let error = error_of(receive(&mut deps, &env, "channel-0", batch(batch_three)));
    assert!(error.contains("hba1c"), "{error}");
    assert_eq!(stored(&deps, &env), 0);
    let range = crate::state::PROVEN_RANGES
        .may_load(&deps.storage, (commitment.as_slice(), "hba1c"))
        .unwrap();
    assert_eq!(range, None, "a refused batch narrowed the proven range");
}
