//! Shared fixtures of the gateway tests: synthetic rows, a synthetic chain for the indexer,
//! and a real server on a loopback port with a real tonic client.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use cosmrs::crypto::secp256k1::SigningKey;
use cosmwasm_std::{Addr, Binary, HexBinary, Timestamp};
use healthmesh_client::events::Attribute;
use healthmesh_client::Event;
use healthmesh_proofs::verifier::PreparedVerifyingKey;
use healthmesh_research::auth::RequestSigner;
use healthmesh_research::pb::research_service_client::ResearchServiceClient;
use healthmesh_types::attestation::{
    Attestation, AttestationStatus, Operator, Origin, Predicate, ProofContext,
};
use healthmesh_types::consent::{ConsentRecord, ConsentResponse, ConsentStatus, EffectiveStatus};
use hmesh_gateway::indexer::{ChainHealth, ChainSource, HealthMap, TxEvents};
use hmesh_gateway::service::{Gateway, GatewayConfig};
use hmesh_gateway::store::{AttestationRow, BlockBatch, Change, ConsentRow, Expiry, Store};
use tonic::transport::Channel;

pub const GENOMICS: &str = "genomics-1";
pub const TRIALS: &str = "trials-1";
pub const PURPOSE: &str = "trial-eligibility";
/// The test gateway's audience.
pub const AUDIENCE: &str = "gateway.test:9390";

pub fn signer(byte: u8) -> RequestSigner {
    RequestSigner::new(SigningKey::from_slice(&[byte; 32]).unwrap(), AUDIENCE).unwrap()
}

/// The tests' gateway: as deployed, except no rate limit (tests that want one set it) and no
/// tolerance for clocks ahead (client and server share one), so requests signed right after
/// the start are accepted.
pub fn test_config() -> GatewayConfig {
    GatewayConfig {
        audience: AUDIENCE.into(),
        max_future_ms: 0,
        rate_per_sec: 0,
        ..GatewayConfig::default()
    }
}

/// `CountCohort` of hba1c < 7.0 for the fixtures' purpose, over every chain.
pub fn count_request() -> healthmesh_research::pb::CountCohortRequest {
    healthmesh_research::pb::CountCohortRequest {
        chains: vec![],
        attribute: "hba1c".into(),
        predicate: Some(healthmesh_research::pb::Predicate {
            op: "lt".into(),
            values: vec![70_000],
        }),
        purpose: PURPOSE.into(),
    }
}

pub fn address(byte: u8) -> String {
    signer(byte).address("wasm")
}

pub fn commitment(n: u64) -> String {
    format!("{n:064x}")
}

/// The patient who granted consent `token` on `chain` in the fixtures, unless a test says
/// otherwise: one patient per consent.
pub fn patient_of(chain: &str, token: &str) -> String {
    format!("wasm1patient-{chain}-{token}")
}

pub fn consent(chain: &str, token: &str, grantee: &str) -> ConsentRow {
    consent_from(chain, token, grantee, &patient_of(chain, token))
}

pub fn consent_from(chain: &str, token: &str, grantee: &str, patient: &str) -> ConsentRow {
    ConsentRow {
        chain_id: chain.into(),
        token_id: token.into(),
        patient: patient.into(),
        grantee: grantee.into(),
        purpose: PURPOSE.into(),
        scope: vec!["hba1c".into()],
        expires: Expiry::Never,
        revoked: false,
    }
}

pub fn attestation(
    chain: &str,
    id: u64,
    token: &str,
    grantee: &str,
    subject: u64,
) -> AttestationRow {
    AttestationRow {
        chain_id: chain.into(),
        id,
        source_chain: GENOMICS.into(),
        consent_id: token.into(),
        grantee: grantee.into(),
        consent_contract: CONSENT_CONTRACT.into(),
        source_id: id,
        channel_id: String::new(),
        sequence: 0,
        relayer: String::new(),
        circuit_id: "c".into(),
        attribute: "hba1c".into(),
        op: "lt".into(),
        values: vec![70_000],
        commitment: commitment(subject),
        attester: "wasm1custodian".into(),
        proof: vec![],
        recorded_at: 1,
        expires_at: None,
        revoked: false,
        height: 10 + id,
        tx_hash: format!("{id:064X}"),
    }
}

pub fn batch(chain: &str, height: u64, changes: Vec<Change>) -> BlockBatch {
    BlockBatch {
        chain_id: chain.into(),
        height,
        changes,
    }
}

/// A served gateway with every listed chain marked reachable.
pub struct Served {
    pub store: Arc<Store>,
    pub health: HealthMap,
    pub gateway: Arc<Gateway>,
    pub url: String,
    _dir: tempfile::TempDir,
}

impl Served {
    pub async fn start(chains: &[&str], keys: HashMap<String, PreparedVerifyingKey>) -> Self {
        Self::start_with(chains, keys, test_config(), None).await
    }

    /// With `config`, and over TLS with `tls` (then `url` is https://127.0.0.1:PORT; the
    /// certificate's name is for the client's TLS config to give).
    pub async fn start_with(
        chains: &[&str],
        keys: HashMap<String, PreparedVerifyingKey>,
        config: GatewayConfig,
        tls: Option<tonic::transport::Identity>,
    ) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open(&dir.path().join("index.redb")).unwrap());
        let health: HealthMap = Arc::default();
        for chain in chains {
            let h = ChainHealth {
                reachable: true,
                latest: 1,
                error: None,
                stopped: false,
            };
            health.lock().unwrap().insert(chain.to_string(), h);
        }
        let gateway = Arc::new(Gateway::new(
            store.clone(),
            health.clone(),
            config,
            keys,
            BTreeMap::new(),
        ));
        let listener = hmesh_gateway::server::bind("127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        let port = listener.local_addr().unwrap().port();
        let url = match tls {
            Some(_) => format!("https://127.0.0.1:{port}"),
            None => format!("http://127.0.0.1:{port}"),
        };
        tokio::spawn(hmesh_gateway::server::serve(
            gateway.clone(),
            listener,
            tls,
            std::future::pending(),
        ));
        Served {
            store,
            health,
            gateway,
            url,
            _dir: dir,
        }
    }

    pub async fn client(&self) -> ResearchServiceClient<Channel> {
        ResearchServiceClient::connect(self.url.clone())
            .await
            .unwrap()
    }
}

/// A synthetic chain for the indexer: blocks of contract events, contract state to query,
/// and a switch that makes every call fail as if the node were down.
#[derive(Default)]
pub struct FakeChain {
    pub chain_id: String,
    pub blocks: Mutex<Vec<Vec<TxEvents>>>,
    pub attestations: Mutex<HashMap<u64, Attestation>>,
    pub consents: Mutex<HashMap<String, ConsentResponse>>,
    pub down: AtomicBool,
    /// The newest block's results are not there yet (CometBFT stores a block before it
    /// executes it).
    pub newest_unexecuted: AtomicBool,
    pub fetched: Mutex<Vec<u64>>,
}

pub const CONSENT_CONTRACT: &str = "wasm1consent";
pub const ATTESTATION_CONTRACT: &str = "wasm1attestation";
pub const STAKING_CONTRACT: &str = "wasm1staking";

fn event(kind: &str, contract: &str, attrs: &[(&str, &str)]) -> Event {
    let mut attributes = vec![Attribute {
        key: "_contract_address".into(),
        value: contract.into(),
    }];
    attributes.extend(attrs.iter().map(|(k, v)| Attribute {
        key: (*k).into(),
        value: (*v).into(),
    }));
    Event {
        kind: kind.into(),
        attributes,
    }
}

impl FakeChain {
    pub fn new(chain_id: &str) -> Self {
        FakeChain {
            chain_id: chain_id.into(),
            ..Default::default()
        }
    }

    fn push_block(&self, events: Vec<Event>) -> u64 {
        let mut blocks = self.blocks.lock().unwrap();
        let height = blocks.len() as u64 + 1;
        blocks.push(vec![TxEvents {
            hash: format!("{height:064X}"),
            events,
        }]);
        height
    }

    pub fn empty_block(&self) -> u64 {
        self.push_block(vec![])
    }

    /// Consent `token` granted to `grantee` by its own patient ([`patient_of`]).
    pub fn grant(&self, token: &str, grantee: &str) -> u64 {
        let record = ConsentRecord {
            patient: Addr::unchecked(patient_of(&self.chain_id, token)),
            grantee: Addr::unchecked(grantee),
            dataset: HexBinary::from(vec![0u8; 32]),
            purpose: PURPOSE.into(),
            scope: vec!["hba1c".into()],
            issued_at: Timestamp::from_seconds(1),
            issued_height: 1,
            expires: cw_utils::Expiration::Never {},
            status: ConsentStatus::Active,
            uses: 0,
            last_used_at: None,
        };
        let response = ConsentResponse {
            token_id: token.into(),
            effective_status: EffectiveStatus::Active,
            record,
        };
        self.consents.lock().unwrap().insert(token.into(), response);
        self.push_block(vec![event(
            "wasm-consent_granted",
            CONSENT_CONTRACT,
            &[("token_id", token)],
        )])
    }

    /// Consent `token` minted to `grantee` by a purchase on the billing chain: the consent
    /// contract's events come in Hermes' `MsgRecvPacket` transaction, beside the IBC module's.
    pub fn sell(&self, token: &str, grantee: &str) -> u64 {
        let height = self.grant(token, grantee);
        let mut blocks = self.blocks.lock().unwrap();
        let events = &mut blocks[height as usize - 1][0].events;
        events.insert(
            0,
            Event {
                kind: "recv_packet".into(),
                attributes: vec![Attribute {
                    key: "packet_dst_port".into(),
                    value: format!("wasm.{CONSENT_CONTRACT}"),
                }],
            },
        );
        events.push(event(
            "wasm-offer_sold",
            CONSENT_CONTRACT,
            &[("offer_id", "1"), ("token_id", token), ("purchase_id", "1")],
        ));
        height
    }

    pub fn revoke(&self, token: &str) -> u64 {
        self.push_block(vec![event(
            "wasm-consent_revoked",
            CONSENT_CONTRACT,
            &[("token_id", token)],
        )])
    }

    pub fn attest(&self, id: u64, token: &str, grantee: &str, subject: u64) -> u64 {
        let a = Attestation {
            id,
            origin: Origin::Local {
                submitter: Addr::unchecked(grantee),
            },
            circuit_id: "c".into(),
            attribute: "hba1c".into(),
            predicate: Predicate {
                op: Operator::Lt,
                values: vec![70_000],
            },
            commitment: HexBinary::from_hex(&commitment(subject)).unwrap(),
            proof: Binary::default(),
            context: ProofContext {
                chain_id: self.chain_id.clone(),
                consent_contract: CONSENT_CONTRACT.into(),
                consent_id: token.into(),
                grantee: grantee.into(),
            },
            attester: "wasm1custodian".into(),
            recorded_at: Timestamp::from_seconds(1),
            height: 1,
            expires_at: None,
            status: AttestationStatus::Valid,
            consent_purpose: String::new(),
            patient_tag: None,
        };
        self.attestations.lock().unwrap().insert(id, a);
        let id = id.to_string();
        self.push_block(vec![
            event(
                "wasm-attestation_recorded",
                ATTESTATION_CONTRACT,
                &[("attestation_id", &id)],
            ),
            event(
                "wasm-bonded",
                STAKING_CONTRACT,
                &[("address", "wasm1custodian")],
            ),
        ])
    }

    fn check_up(&self) -> anyhow::Result<()> {
        anyhow::ensure!(!self.down.load(Ordering::SeqCst), "connection refused");
        Ok(())
    }
}

impl ChainSource for FakeChain {
    fn chain_id(&self) -> &str {
        &self.chain_id
    }

    async fn latest_height(&self) -> anyhow::Result<u64> {
        self.check_up()?;
        Ok(self.blocks.lock().unwrap().len() as u64)
    }

    async fn block_txs(&self, height: u64) -> anyhow::Result<Vec<TxEvents>> {
        self.check_up()?;
        let newest = self.blocks.lock().unwrap().len() as u64;
        if height == newest && self.newest_unexecuted.load(Ordering::SeqCst) {
            anyhow::bail!("Internal error: could not find results for height #{height}");
        }
        self.fetched.lock().unwrap().push(height);
        Ok(self.blocks.lock().unwrap()[height as usize - 1].clone())
    }

    async fn attestation(&self, _contract: &str, id: u64) -> anyhow::Result<Attestation> {
        self.check_up()?;
        Ok(self.attestations.lock().unwrap()[&id].clone())
    }

    async fn consent(&self, _contract: &str, token_id: &str) -> anyhow::Result<ConsentResponse> {
        self.check_up()?;
        Ok(self.consents.lock().unwrap()[token_id].clone())
    }
}
