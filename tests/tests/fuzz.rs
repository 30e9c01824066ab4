//! Fuzzing every contract entry point (issue 18, item 3): seeded, structure-aware random
//! inputs against the six contracts deployed and linked over the relay harness, with three
//! chains' worth of real state (channels open, DAOs linked).
//!
//! - execute and query: messages generated from each contract's own JSON schema
//!   (`contracts/*/schema/raw/*.json`, so every variant is reached, well-typed) and then
//!   mutated (wrong types, huge and negative numbers, unknown fields, truncated JSON), from
//!   every kind of sender, with and without funds: no panic;
//! - IBC packet receive on every app, from the trusted port and from impostors, with mutated
//!   valid packets (JSON, or protobuf for attestation) and arbitrary bytes: no panic, and an
//!   error acknowledgement leaves the contract's storage exactly as it was;
//! - acknowledgements and timeouts with arbitrary bytes, channel handshakes with hostile
//!   versions, orders and ports: no panic, and a refusal leaves storage unchanged;
//! - the proof, verifying key and statement decoders and the verifier: no panic.
//!
//! `FUZZ_CASES` sets the cases per target (default 2,000, ≈ 3 s in `make test`; `make fuzz`
//! runs 200,000: ≈ 3–4 minutes, extrapolated from 20,000 per target in ≈ 20 s) and
//! `FUZZ_SEED` the seed (default fixed; a failure prints it).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::OnceLock;

use cosmwasm_std::{
    coins, Addr, Binary, IbcAcknowledgement, IbcChannel, IbcChannelConnectMsg, IbcChannelOpenMsg,
    IbcEndpoint, IbcOrder, IbcPacket, IbcPacketAckMsg, IbcPacketReceiveMsg, IbcPacketTimeoutMsg,
    IbcTimeout, StdAck, Timestamp, WasmMsg,
};
use cw_multi_test::Executor;
use healthmesh_proofs::keys::setup_from_seed;
use healthmesh_testing::gov_net::{deploy_dao, link, Dao};
use healthmesh_testing::ibc_harness::{
    account, connect, AttestationApp, BillingApp, Chain, ConsentSettleApp, GovernanceApp, IbcApp,
    TrialsApp,
};
use healthmesh_testing::settle::{billing_of, connect_settlement, deploy_billing, fund};
use healthmesh_testing::trial_pay::{connect_milestones, deploy_trials};
use prost::Message;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde_json::{json, Map, Value};

fn cases() -> usize {
    std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(2_000)
}

fn seed() -> u64 {
    std::env::var("FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x4845_414c_5448)
}

/// Run `case` `cases()` times with a seeded generator; a panic reports the seed and case.
fn fuzz(target: &str, mut case: impl FnMut(&mut StdRng, usize)) {
    let seed = seed();
    let mut rng = StdRng::seed_from_u64(seed);
    for i in 0..cases() {
        if let Err(panic) = catch_unwind(AssertUnwindSafe(|| case(&mut rng, i))) {
            let what = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            panic!("{target}: case {i} with FUZZ_SEED={seed} panicked: {what}");
        }
    }
    println!("{target}: {} cases, seed {seed}", cases());
}

// ------------------------------------------------------------------ values

/// Strings that mean something to the contracts, plus hostile ones.
fn string(rng: &mut StdRng, pool: &[String]) -> String {
    match rng.random_range(0..12) {
        0..=4 if !pool.is_empty() => pool[rng.random_range(0..pool.len())].clone(),
        5 => String::new(),
        6 => "x".repeat(rng.random_range(100..20_000)),
        7 => u128::MAX.to_string(),
        8 => "-1".into(),
        9 => "00".repeat(rng.random_range(1..64)),
        10 => "wasm.".to_string() + &"a".repeat(rng.random_range(0..80)),
        _ => (0..rng.random_range(1..24))
            .map(|_| rng.random_range(b' '..=b'~') as char)
            .collect(),
    }
}

fn number(rng: &mut StdRng) -> Value {
    match rng.random_range(0..8) {
        0 => json!(0),
        1 => json!(u64::MAX),
        2 => json!(-1),
        3 => json!(1.5),
        4 => json!(rng.random_range(1..5u64)),
        5 => json!(u32::MAX),
        _ => json!(rng.random_range(0..100_000u64)),
    }
}

/// Any JSON scalar (or an empty container).
fn scalar(rng: &mut StdRng, pool: &[String]) -> Value {
    match rng.random_range(0..7) {
        0 => Value::Null,
        1 => json!(rng.random_bool(0.5)),
        2 | 3 => number(rng),
        4 => json!([]),
        5 => json!({}),
        _ => json!(string(rng, pool)),
    }
}

// ------------------------------------------------------------------ schema generator

/// Random instances of a cosmwasm-schema JSON schema (`oneOf`/`anyOf`/`allOf`, `$ref`,
/// objects with required and optional properties, arrays, enums, typed scalars).
struct Schema {
    root: Value,
}

impl Schema {
    fn load(contract: &str, file: &str) -> Schema {
        let path = format!(
            "{}/../contracts/{contract}/schema/raw/{file}.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        Schema {
            root: serde_json::from_str(&text).unwrap(),
        }
    }

    fn generate(&self, rng: &mut StdRng, pool: &[String]) -> Value {
        self.instance(&self.root, rng, pool, 0)
    }

    fn resolve<'a>(&'a self, node: &'a Value) -> &'a Value {
        match node.get("$ref").and_then(Value::as_str) {
            Some(r) => {
                let name = r.trim_start_matches("#/definitions/");
                &self.root["definitions"][name]
            }
            None => node,
        }
    }

    fn instance(&self, node: &Value, rng: &mut StdRng, pool: &[String], depth: usize) -> Value {
        let node = self.resolve(node);
        if depth > 7 {
            return scalar(rng, pool);
        }
        for key in ["oneOf", "anyOf"] {
            if let Some(options) = node.get(key).and_then(Value::as_array) {
                let pick = &options[rng.random_range(0..options.len())];
                return self.instance(pick, rng, pool, depth + 1);
            }
        }
        if let Some(all) = node.get("allOf").and_then(Value::as_array) {
            return self.instance(&all[0], rng, pool, depth + 1);
        }
        if let Some(values) = node.get("enum").and_then(Value::as_array) {
            return values[rng.random_range(0..values.len())].clone();
        }
        let ty = match node.get("type") {
            Some(Value::Array(types)) => types[rng.random_range(0..types.len())]
                .as_str()
                .unwrap_or("null")
                .to_string(),
            Some(Value::String(t)) => t.clone(),
            _ => return scalar(rng, pool),
        };
        match ty.as_str() {
            "object" => {
                let mut object = Map::new();
                let required: Vec<&str> = node
                    .get("required")
                    .and_then(Value::as_array)
                    .map(|r| r.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                if let Some(props) = node.get("properties").and_then(Value::as_object) {
                    for (name, prop) in props {
                        if required.contains(&name.as_str()) || rng.random_bool(0.5) {
                            object.insert(name.clone(), self.instance(prop, rng, pool, depth + 1));
                        }
                    }
                }
                Value::Object(object)
            }
            "array" => {
                let items = node.get("items").cloned().unwrap_or(Value::Null);
                let len = if rng.random_bool(0.05) {
                    rng.random_range(30..200)
                } else {
                    rng.random_range(0..4)
                };
                Value::Array(
                    (0..len)
                        .map(|_| self.instance(&items, rng, pool, depth + 1))
                        .collect(),
                )
            }
            "integer" | "number" => {
                if rng.random_bool(0.8) {
                    json!(rng.random_range(0..10u64))
                } else {
                    number(rng)
                }
            }
            "boolean" => json!(rng.random_bool(0.5)),
            "null" => Value::Null,
            _ => json!(string(rng, pool)),
        }
    }
}

// ------------------------------------------------------------------ mutation

/// Mutate `value` in place 0–3 times: replace a node, drop or add a key, wrap, duplicate.
fn mutate(value: &mut Value, rng: &mut StdRng, pool: &[String]) {
    for _ in 0..rng.random_range(0..4) {
        let node = pick_node(value, rng);
        match rng.random_range(0..6) {
            0 | 1 => *node = scalar(rng, pool),
            2 => {
                if let Value::Object(o) = node {
                    if let Some(key) = o.keys().next().cloned() {
                        o.remove(&key);
                    }
                }
            }
            3 => {
                if let Value::Object(o) = node {
                    o.insert(string(rng, pool), scalar(rng, pool));
                }
            }
            4 => *node = json!([node.take()]),
            _ => {
                if let Value::Array(a) = node {
                    if let Some(first) = a.first().cloned() {
                        a.extend(std::iter::repeat_n(first, rng.random_range(1..300)));
                    }
                }
            }
        }
    }
}

fn pick_node<'a>(value: &'a mut Value, rng: &mut StdRng) -> &'a mut Value {
    let len = match &*value {
        Value::Object(o) => o.len(),
        Value::Array(a) => a.len(),
        _ => 0,
    };
    if len == 0 || !rng.random_bool(0.6) {
        return value;
    }
    let i = rng.random_range(0..len);
    let child = match value {
        Value::Object(o) => o.values_mut().nth(i),
        Value::Array(a) => a.get_mut(i),
        _ => None,
    };
    match child {
        Some(child) => pick_node(child, rng),
        None => unreachable!("a container of {len} has element {i}"),
    }
}

/// The bytes of a message: usually the (mutated) JSON, sometimes truncated or garbage.
fn bytes_of(value: &Value, rng: &mut StdRng) -> Vec<u8> {
    let mut bytes = serde_json::to_vec(value).unwrap();
    match rng.random_range(0..20) {
        0 => {
            let cut = rng.random_range(0..=bytes.len());
            bytes.truncate(cut);
        }
        1 => bytes = random_bytes(rng),
        _ => {}
    }
    bytes
}

fn random_bytes(rng: &mut StdRng) -> Vec<u8> {
    (0..rng.random_range(0..400))
        .map(|_| rng.random())
        .collect()
}

/// Flip, drop or insert bytes of an encoding (protobuf packets).
fn mutate_bytes(bytes: &mut Vec<u8>, rng: &mut StdRng) {
    for _ in 0..rng.random_range(0..6) {
        if bytes.is_empty() {
            bytes.push(rng.random());
            continue;
        }
        let i = rng.random_range(0..bytes.len());
        match rng.random_range(0..3) {
            0 => bytes[i] ^= 1 << rng.random_range(0..8),
            1 => {
                bytes.remove(i);
            }
            _ => bytes.insert(i, rng.random()),
        }
    }
}

// ------------------------------------------------------------------ the world

struct World {
    g: Chain,
    t: Chain,
    b: Chain,
    trials: Addr,
    daos: [Dao; 3],
}

fn vk() -> &'static [u8] {
    static VK: OnceLock<Vec<u8>> = OnceLock::new();
    VK.get_or_init(|| setup_from_seed(b"fuzz").unwrap().verifying_key().to_bytes())
}

/// Three chains with every contract, every channel open: attestation genomics ↔ trials,
/// settlement billing ↔ genomics, milestones billing ↔ trials, governance between all.
fn world() -> World {
    let mut g = Chain::new("genomics-1", vk());
    let mut t = Chain::new("trials-1", vk());
    let mut b = Chain::new("billing-1", vk());
    connect(&mut g, &mut t, "channel-0", "channel-0");
    deploy_billing(&mut b);
    connect_settlement(&mut b, &mut g, "channel-1", "channel-1");
    let site = t.custodian.clone();
    let trials = deploy_trials(&mut t, &[&site]);
    connect_milestones(&mut b, &mut t, &trials, ("channel-2", "channel-2"));
    let daos = [
        deploy_dao(&mut g, &[60, 40]),
        deploy_dao(&mut t, &[100]),
        deploy_dao(&mut b, &[50]),
    ];
    link(
        &mut g,
        &daos[0],
        &mut t,
        &daos[1],
        "channel-10",
        "channel-10",
    );
    link(
        &mut g,
        &daos[0],
        &mut b,
        &daos[2],
        "channel-11",
        "channel-10",
    );
    for chain in [&mut g, &mut t, &mut b] {
        let researcher = chain.researcher.clone();
        fund(chain, &researcher, 1_000_000);
    }
    World {
        g,
        t,
        b,
        trials,
        daos,
    }
}

/// Addresses and ids the generators draw strings from, so that many messages get past
/// parsing and authorization into the contracts' logic.
fn pool(w: &World) -> Vec<String> {
    let mut pool: Vec<String> = vec![];
    for chain in [&w.g, &w.t, &w.b] {
        for a in [
            &chain.admin,
            &chain.custodian,
            &chain.patient,
            &chain.researcher,
            &chain.staking,
            &chain.consent,
            &chain.attestation,
        ] {
            pool.push(a.to_string());
        }
        pool.push(chain.chain_id.clone());
    }
    pool.push(billing_of(&w.b).to_string());
    pool.push(w.trials.to_string());
    for dao in &w.daos {
        pool.push(dao.address.to_string());
        pool.extend(dao.council.iter().take(2).map(Addr::to_string));
    }
    pool.extend(
        [
            "channel-0",
            "channel-1",
            "connection-0",
            "ustake",
            "trial-eligibility",
            "hba1c",
            "1",
            "1000",
            "0.5",
        ]
        .map(String::from),
    );
    pool
}

/// Every contract of the world: (chain index, contract, schema name).
fn contracts(w: &World) -> Vec<(usize, Addr, &'static str)> {
    let mut all = vec![];
    for (i, chain) in [&w.g, &w.t, &w.b].into_iter().enumerate() {
        all.push((i, chain.staking.clone(), "staking"));
        all.push((i, chain.consent.clone(), "consent"));
        all.push((i, chain.attestation.clone(), "attestation"));
        all.push((i, w.daos[i].address.clone(), "governance"));
    }
    all.push((2, billing_of(&w.b), "billing"));
    all.push((1, w.trials.clone(), "trials"));
    all
}

fn chain_mut(w: &mut World, i: usize) -> &mut Chain {
    match i {
        0 => &mut w.g,
        1 => &mut w.t,
        _ => &mut w.b,
    }
}

#[test]
fn execute_and_query_with_schema_generated_and_mutated_messages_never_panic() {
    let mut w = world();
    let pool = pool(&w);
    let targets = contracts(&w);
    let schemas: Vec<(Schema, Schema)> = targets
        .iter()
        .map(|(_, _, name)| (Schema::load(name, "execute"), Schema::load(name, "query")))
        .collect();
    let senders: Vec<Addr> = pool
        .iter()
        .filter(|s| s.starts_with("cosmwasm1"))
        .map(|s| Addr::unchecked(s.as_str()))
        .collect();
    let (mut refused, mut accepted) = (0usize, 0usize);
    fuzz("execute/query", |rng, _| {
        let k = rng.random_range(0..targets.len());
        let (chain, contract, _) = &targets[k];
        let mut msg = schemas[k].0.generate(rng, &pool);
        // Half well-typed (to reach the contracts' logic), half mutated.
        if rng.random_bool(0.5) {
            mutate(&mut msg, rng, &pool);
        }
        let sender = if rng.random_bool(0.1) {
            account(&cosmwasm_std::testing::MockApi::default(), "stranger")
        } else {
            senders[rng.random_range(0..senders.len())].clone()
        };
        let funds = if rng.random_bool(0.15) {
            coins(rng.random_range(1..5_000), "ustake")
        } else {
            vec![]
        };
        let chain = chain_mut(&mut w, *chain);
        if !funds.is_empty() {
            fund(chain, &sender, funds[0].amount.u128());
        }
        let exec = WasmMsg::Execute {
            contract_addr: contract.to_string(),
            msg: Binary::new(bytes_of(&msg, rng)),
            funds,
        };
        match chain.app.execute(sender, exec.into()) {
            Ok(_) => accepted += 1,
            Err(_) => refused += 1,
        }
        let mut query = schemas[k].1.generate(rng, &pool);
        mutate(&mut query, rng, &pool);
        let request = cosmwasm_std::WasmQuery::Smart {
            contract_addr: contract.to_string(),
            msg: Binary::new(bytes_of(&query, rng)),
        };
        let _ = chain
            .app
            .wrap()
            .query::<Value>(&cosmwasm_std::QueryRequest::Wasm(request));
    });
    println!("execute: {accepted} accepted, {refused} refused");
    assert!(
        accepted > 0,
        "the generator never got past the contracts' checks"
    );
}

/// One IBC app's end of an open channel, and what a valid packet to it looks like.
struct Target {
    name: &'static str,
    chain: usize,
    contract: Addr,
    app: &'static dyn IbcApp,
    channel: &'static str,
    trusted_port: String,
    corpus: Vec<Vec<u8>>,
    protobuf: bool,
}

fn json_bytes<T: serde::Serialize>(value: &T) -> Vec<u8> {
    cosmwasm_std::to_json_vec(value).unwrap()
}

fn targets(w: &World) -> Vec<Target> {
    use healthmesh_proto::attest::v2 as pb;
    use healthmesh_types::network::GovPacket;
    use healthmesh_types::settle::{PurchasePacket, SettlePacket};
    use healthmesh_types::trial_pay::{BudgetTerms, MilestonePayout, TrialPacket};
    let key = Binary::from(vec![7u8; 20]);
    let attestation = pb::Packet {
        body: Some(pb::packet::Body::Attestation(pb::AttestationPacket {
            attestation_id: 1,
            source_chain: "genomics-1".into(),
            circuit_id: "00".repeat(32),
            attribute: "hba1c".into(),
            predicate: Some(pb::Predicate {
                op: 3,
                values: vec![70],
            }),
            commitment: vec![1; 32],
            proof: vec![2; 192],
            context: Some(pb::Context {
                chain_id: "genomics-1".into(),
                consent_id: "1".into(),
                grantee: w.t.researcher.to_string(),
                consent_contract: w.g.consent.to_string(),
            }),
            attester: w.g.custodian.to_string(),
            expires_at: 0,
            consent_purpose: "trial-eligibility".into(),
            patient_tag: vec![3; 32],
        })),
        fee_id: 0,
    };
    let revocation = pb::Packet {
        body: Some(pb::packet::Body::Revocation(pb::RevocationPacket {
            source_chain: "genomics-1".into(),
            consent_id: "1".into(),
            reason: "revoked".into(),
        })),
        fee_id: 0,
    };
    let at = Timestamp::from_seconds(1_800_000_000);
    let gov = |p: GovPacket| json_bytes(&p);
    vec![
        Target {
            name: "attestation",
            chain: 1,
            contract: w.t.attestation.clone(),
            app: &AttestationApp,
            channel: "channel-0",
            trusted_port: format!("wasm.{}", w.g.attestation),
            corpus: vec![attestation.encode_to_vec(), revocation.encode_to_vec()],
            protobuf: true,
        },
        Target {
            name: "consent settlement",
            chain: 0,
            contract: w.g.consent.clone(),
            app: &ConsentSettleApp,
            channel: "channel-1",
            trusted_port: format!("wasm.{}", billing_of(&w.b)),
            corpus: vec![json_bytes(&SettlePacket::Purchase(PurchasePacket {
                purchase_id: 1,
                offer_id: 1,
                buyer: key.clone(),
                paid: cosmwasm_std::coin(1_001, "ustake"),
                purpose: "trial-eligibility".into(),
                scope: vec!["hba1c".into()],
                duration_seconds: 3_600,
            }))],
            protobuf: false,
        },
        Target {
            name: "billing (milestones)",
            chain: 2,
            contract: billing_of(&w.b),
            app: &BillingApp,
            channel: "channel-2",
            trusted_port: format!("wasm.{}", w.trials),
            corpus: vec![
                json_bytes(&TrialPacket::OpenBudget(BudgetTerms {
                    trial_id: 1,
                    sponsor: key.clone(),
                    ends_at: at.plus_seconds(86_400),
                })),
                json_bytes(&TrialPacket::Milestone(MilestonePayout {
                    trial_id: 1,
                    milestone: "visit-3".into(),
                    participant: key.clone(),
                    site: key.clone(),
                    participant_payout: cosmwasm_std::coin(500, "ustake"),
                    site_payout: cosmwasm_std::coin(200, "ustake"),
                    attestation_id: 1,
                })),
            ],
            protobuf: false,
        },
        Target {
            name: "trials",
            chain: 1,
            contract: w.trials.clone(),
            app: &TrialsApp,
            channel: "channel-2",
            trusted_port: format!("wasm.{}", billing_of(&w.b)),
            corpus: vec![b"{}".to_vec()],
            protobuf: false,
        },
        Target {
            name: "governance",
            chain: 1,
            contract: w.daos[1].address.clone(),
            app: &GovernanceApp,
            channel: "channel-10",
            trusted_port: format!("wasm.{}", w.daos[0].address),
            corpus: vec![
                gov(GovPacket::Pause {
                    action_id: 1,
                    seq: 1,
                    at,
                    reason: "fuzz".into(),
                }),
                gov(GovPacket::Unpause {
                    action_id: 2,
                    seq: 2,
                    at,
                }),
                gov(GovPacket::OpenVote {
                    proposal_id: 1,
                    title: "t".into(),
                    description: "d".into(),
                    voting_end: at.plus_seconds(3_600),
                }),
                gov(GovPacket::Tally {
                    proposal_id: 1,
                    mirror_id: 1,
                    tally: Default::default(),
                    total_power: 100u128.into(),
                }),
                gov(GovPacket::Execute {
                    proposal_id: 1,
                    index: 0,
                    msgs: vec![],
                }),
            ],
            protobuf: false,
        },
    ]
}

/// A packet's data for `target`: a mutated valid packet or arbitrary bytes.
fn packet_data(target: &Target, rng: &mut StdRng, pool: &[String]) -> Vec<u8> {
    let base = &target.corpus[rng.random_range(0..target.corpus.len())];
    if rng.random_bool(0.1) {
        return random_bytes(rng);
    }
    if target.protobuf {
        let mut bytes = base.clone();
        mutate_bytes(&mut bytes, rng);
        return bytes;
    }
    let mut value: Value = serde_json::from_slice(base).unwrap();
    mutate(&mut value, rng, pool);
    bytes_of(&value, rng)
}

fn endpoint(port: &str, channel: &str) -> IbcEndpoint {
    IbcEndpoint {
        port_id: port.into(),
        channel_id: channel.into(),
    }
}

fn packet(target: &Target, rng: &mut StdRng, pool: &[String], time: Timestamp) -> IbcPacket {
    let src_port = if rng.random_bool(0.8) {
        target.trusted_port.clone()
    } else {
        format!("wasm.{}", string(rng, pool))
    };
    let dest_channel = if rng.random_bool(0.9) {
        target.channel.to_string()
    } else {
        format!("channel-{}", rng.random_range(0..40))
    };
    IbcPacket::new(
        packet_data(target, rng, pool),
        endpoint(&src_port, "channel-77"),
        endpoint(&format!("wasm.{}", target.contract), &dest_channel),
        rng.random_range(1..1_000),
        IbcTimeout::with_timestamp(time.plus_seconds(rng.random_range(0..7_200))),
    )
}

#[test]
fn packets_acks_and_timeouts_with_hostile_bytes_never_panic_and_refusals_change_nothing() {
    let mut w = world();
    let pool = pool(&w);
    let targets = targets(&w);
    let relayer = Addr::unchecked("relayer");
    let (mut error_acks, mut success_acks) = (0usize, 0usize);
    fuzz("ibc packets", |rng, _| {
        let target = &targets[rng.random_range(0..targets.len())];
        let chain = chain_mut(&mut w, target.chain);
        let time = chain.app.block_info().time;
        let before = chain.app.dump_wasm_raw(&target.contract);
        let packet = packet(target, rng, &pool, time);
        match rng.random_range(0..4) {
            // Receive: an error ack changes nothing.
            0 | 1 => {
                let msg = IbcPacketReceiveMsg::new(packet, relayer.clone());
                let response = chain.ibc_on(&target.contract, |deps, env| {
                    target.app.receive(deps, env, msg)
                });
                let ack = response.acknowledgement.unwrap_or_default();
                match cosmwasm_std::from_json::<StdAck>(&ack) {
                    Ok(StdAck::Success(_)) => success_acks += 1,
                    _ => {
                        error_acks += 1;
                        assert_eq!(
                            chain.app.dump_wasm_raw(&target.contract),
                            before,
                            "{}: an error ack changed storage",
                            target.name
                        );
                        assert!(
                            response.messages.is_empty(),
                            "{}: error ack with messages",
                            target.name
                        );
                    }
                }
            }
            // Ack with arbitrary bytes (or a forged StdAck) for a packet never sent.
            2 => {
                let data = match rng.random_range(0..3) {
                    0 => random_bytes(rng),
                    1 => StdAck::error(string(rng, &pool)).to_binary().to_vec(),
                    _ => StdAck::success(Binary::new(packet_data(target, rng, &pool)))
                        .to_binary()
                        .to_vec(),
                };
                let msg =
                    IbcPacketAckMsg::new(IbcAcknowledgement::new(data), packet, relayer.clone());
                let result =
                    chain.ibc_on(&target.contract, |deps, env| target.app.ack(deps, env, msg));
                if result.is_err() {
                    assert_eq!(chain.app.dump_wasm_raw(&target.contract), before);
                }
            }
            _ => {
                let msg = IbcPacketTimeoutMsg::new(packet, relayer.clone());
                let result = chain.ibc_on(&target.contract, |deps, env| {
                    target.app.timeout(deps, env, msg)
                });
                if result.is_err() {
                    assert_eq!(chain.app.dump_wasm_raw(&target.contract), before);
                }
            }
        }
    });
    println!("receive: {success_acks} success acks, {error_acks} error acks");
    assert!(error_acks > 0);
}

#[test]
fn channel_handshakes_with_hostile_versions_orders_and_ports_never_panic() {
    let mut w = world();
    let pool = pool(&w);
    let targets = targets(&w);
    let versions = [
        healthmesh_types::attestation::CHANNEL_VERSION,
        healthmesh_types::attestation::URGENT_CHANNEL_VERSION,
        healthmesh_types::settle::SETTLE_CHANNEL_VERSION,
        healthmesh_types::trial_pay::TRIALS_CHANNEL_VERSION,
        healthmesh_types::network::GOVERNANCE_CHANNEL_VERSION,
    ];
    fuzz("channel handshakes", |rng, _| {
        let target = &targets[rng.random_range(0..targets.len())];
        let version = if rng.random_bool(0.7) {
            versions[rng.random_range(0..versions.len())].to_string()
        } else {
            string(rng, &pool)
        };
        let port = if rng.random_bool(0.5) {
            target.trusted_port.clone()
        } else {
            string(rng, &pool)
        };
        let order = if rng.random_bool(0.8) {
            IbcOrder::Unordered
        } else {
            IbcOrder::Ordered
        };
        let connection = match rng.random_range(0..3) {
            0 => "connection-0".to_string(),
            1 => string(rng, &pool),
            _ => format!(
                "connection-channel-{}-channel-{}",
                rng.random_range(0..3),
                rng.random_range(0..3)
            ),
        };
        let channel = IbcChannel::new(
            endpoint(
                &format!("wasm.{}", target.contract),
                &format!("channel-{}", rng.random_range(0..50)),
            ),
            endpoint(&port, &format!("channel-{}", rng.random_range(0..50))),
            order,
            version.clone(),
            connection,
        );
        let chain = chain_mut(&mut w, target.chain);
        let before = chain.app.dump_wasm_raw(&target.contract);
        let result = chain.ibc_on(&target.contract, |deps, env| match rng.random_range(0..4) {
            0 => target
                .app
                .open(deps, env, IbcChannelOpenMsg::new_init(channel)),
            1 => target
                .app
                .open(deps, env, IbcChannelOpenMsg::new_try(channel, version)),
            2 => target
                .app
                .connect(deps, env, IbcChannelConnectMsg::new_ack(channel, version)),
            _ => target
                .app
                .connect(deps, env, IbcChannelConnectMsg::new_confirm(channel)),
        });
        if result.is_err() {
            assert_eq!(
                chain.app.dump_wasm_raw(&target.contract),
                before,
                "{}",
                target.name
            );
        }
    });
}

#[test]
fn proof_key_and_statement_decoders_and_the_verifier_never_panic_on_hostile_bytes() {
    use healthmesh_proofs::statement::Statement;
    use healthmesh_proofs::verifier::{PreparedVerifyingKey, Proof, VerifyingKey};
    let key = PreparedVerifyingKey::new(&VerifyingKey::from_bytes(vk()).unwrap());
    let statement_json = serde_json::json!({
        "attribute": "hba1c",
        "predicate": {"op": "lt", "values": [70]},
        "commitment": "11".repeat(32),
        "context": {"chain_id": "genomics-1", "consent_id": "1", "grantee": "g", "consent_contract": "c"}
    });
    fuzz("decoders", |rng, _| {
        let mut bytes = if rng.random_bool(0.5) {
            vec![0u8; 192]
        } else {
            vk().to_vec()
        };
        mutate_bytes(&mut bytes, rng);
        if rng.random_bool(0.2) {
            bytes = random_bytes(rng);
        }
        let _ = VerifyingKey::from_bytes(&bytes);
        let _ = Proof::from_bytes(&bytes);
        let mut value = statement_json.clone();
        mutate(&mut value, rng, &[]);
        if let Ok(statement) = serde_json::from_value::<Statement>(value) {
            let _ = key.verify_statement(&bytes, &statement);
        }
    });
}
