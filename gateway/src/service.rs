//! The `ResearchService` implementation: authenticate, validate, admit (replay and rate
//! limits), then answer from the index (or, for `CheckAccess`, from the consent contract live).
//!
//! Disclosure control (README "Research gateway: threat model"): cohorts count distinct
//! patients, a count is published only when every region of patients it adds up holds at least
//! k (so chain subsets cannot be differenced), and per-attestation rows neither carry nor filter
//! by the statement and are shown only from cohorts whose every region holds at least k.

use std::collections::{BTreeMap, HashMap};
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use healthmesh_client::ChainClient;
use healthmesh_controllers::validate;
use healthmesh_proofs::statement::{AttributeCode, Context, Operator, Predicate, Statement};
use healthmesh_proofs::verifier::PreparedVerifyingKey;
use healthmesh_research::auth::{self, Caller, Freshness};
use healthmesh_research::pb;
use healthmesh_research::pb::research_service_server::ResearchService;
use healthmesh_types::consent::{
    CheckAccessResponse, DenialReason, QueryMsg as ConsentQuery, MAX_ATTRIBUTE_LEN, MAX_PURPOSE_LEN,
};
use tokio_stream::Stream;
use tonic::{Request, Response, Status};

use crate::admission::{Admission, Limits};
use crate::index::{chain_bit, CohortKey};
use crate::indexer::HealthMap;
use crate::metrics::observed;
use crate::store::{AttestationRow, ConsentRow, Query, Store, Validity};

const METHOD_PREFIX: &str = "/healthmesh.research.v1.ResearchService/";
const MAX_PAGE: u32 = 500;
const DEFAULT_PAGE: u32 = 100;
/// Longest chain id (CometBFT's limit).
const MAX_CHAIN_ID_LEN: usize = 50;
/// Most chains one request may name.
const MAX_CHAINS: usize = 64;

#[derive(Debug, Clone)]
pub struct GatewayConfig {
    /// Counts below k are suppressed, and so are counts made up of a region below k.
    pub k: u32,
    /// How far a request's timestamp may lag the gateway's clock.
    pub max_skew_ms: u64,
    /// How far it may run ahead. Requests dated before the start plus this are refused, so
    /// none signed before a restart is accepted after it.
    pub max_future_ms: u64,
    pub bech32_prefix: String,
    /// This gateway's name in signed requests (`--audience`).
    pub audience: String,
    /// Requests per second per researcher key, sustained; 0 = unlimited.
    pub rate_per_sec: u32,
    /// Requests a key may send at once before the rate applies.
    pub burst: u32,
    /// Cohorts kept in the count cache (LRU).
    pub cohort_cache: usize,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        GatewayConfig {
            k: 5,
            max_skew_ms: 30_000,
            max_future_ms: 2_000,
            bech32_prefix: "wasm".into(),
            audience: "127.0.0.1:9390".into(),
            rate_per_sec: 20,
            burst: 40,
            cohort_cache: crate::index::DEFAULT_COHORT_CACHE,
        }
    }
}

/// A chain the gateway can ask live (CheckAccess): its client and consent contract.
pub struct LiveChain {
    pub client: ChainClient,
    pub consent: String,
}

pub struct Gateway {
    pub store: Arc<Store>,
    pub health: HealthMap,
    pub config: GatewayConfig,
    /// Verifying keys by circuit id (hex SHA-256 of the key).
    pub keys: HashMap<String, PreparedVerifyingKey>,
    pub live: BTreeMap<String, LiveChain>,
    started_ms: u64,
    admission: Mutex<Admission>,
}

impl Gateway {
    pub fn new(
        store: Arc<Store>,
        health: HealthMap,
        config: GatewayConfig,
        keys: HashMap<String, PreparedVerifyingKey>,
        live: BTreeMap<String, LiveChain>,
    ) -> Self {
        store.index().set_cohort_cache_capacity(config.cohort_cache);
        Gateway {
            store,
            health,
            config,
            keys,
            live,
            started_ms: auth::now_ms(),
            admission: Mutex::new(Admission::new()),
        }
    }

    /// Why the index stopped (a failed write, or its writer ended), if it did: then no request
    /// is answered from it, and the gRPC health service reports NOT_SERVING.
    pub fn index_stopped(&self) -> Option<String> {
        if let Some(failure) = self.store.failure() {
            return Some(format!(
                "{} (index write failed: {failure})",
                crate::indexer::STOPPED
            ));
        }
        let health = self.health.lock().expect("health lock");
        let (chain, h) = health.iter().find(|(_, h)| h.stopped)?;
        Some(format!(
            "chain {chain}: {}",
            h.error.as_deref().unwrap_or("the index stopped")
        ))
    }

    /// When this gateway started (unix ms); requests dated before it plus `max_future_ms`
    /// are refused.
    pub fn started_ms(&self) -> u64 {
        self.started_ms
    }

    /// Nonces remembered now (for tests and monitoring).
    pub fn nonces_remembered(&self) -> usize {
        self.admission
            .lock()
            .expect("admission lock")
            .nonces_remembered()
    }

    fn k(&self) -> u64 {
        u64::from(self.config.k)
    }

    /// Audience, freshness, signature and a known key. Changes nothing: a refused request
    /// leaves no nonce behind (see `admit`).
    fn authenticate<T: prost::Message>(
        &self,
        request: &Request<T>,
        method: &str,
    ) -> Result<Caller, Status> {
        let now = auth::now_ms();
        let bytes = request.get_ref().encode_to_vec();
        let freshness = Freshness {
            now_ms: now,
            max_past_ms: self.config.max_skew_ms,
            max_future_ms: self.config.max_future_ms,
            not_before_ms: self.started_ms + self.config.max_future_ms,
        };
        let caller = auth::verify(
            request.metadata(),
            &self.config.audience,
            &format!("{METHOD_PREFIX}{method}"),
            &bytes,
            &freshness,
            &self.config.bech32_prefix,
        )
        .map_err(|e| Status::unauthenticated(e.to_string()))?;
        if !self.store.index().knows_grantee(&caller.address) {
            return Err(Status::unauthenticated(format!(
                "unknown key: no consent was ever granted to {} on the indexed chains; a patient must grant you consent first",
                caller.address
            )));
        }
        Ok(caller)
    }

    /// Replay and rate checks for a well-formed request of a known key; only if both pass are
    /// the nonce remembered and a token taken, so a refused request changes nothing.
    fn admit(&self, caller: &Caller) -> Result<(), Status> {
        let limits = Limits {
            window_ms: self.config.max_skew_ms + self.config.max_future_ms,
            rate_per_sec: self.config.rate_per_sec,
            burst: self.config.burst,
        };
        self.admission
            .lock()
            .expect("admission lock")
            .admit(caller, auth::now_ms(), &limits)
    }

    /// The chains the gateway serves (in a fixed order: the bits of cohort regions) and the
    /// chains to answer from — all, or the requested ones, each known and, if `reachable`,
    /// reachable — with their indexed heights.
    fn chains(
        &self,
        requested: &[String],
        reachable: bool,
    ) -> Result<(Vec<String>, BTreeMap<String, u64>), Status> {
        if requested.len() > MAX_CHAINS {
            return Err(Status::invalid_argument(format!(
                "chains lists {} entries; at most {MAX_CHAINS}",
                requested.len()
            )));
        }
        for name in requested {
            chain_id("chains", name)?;
        }
        if let Some(reason) = self.index_stopped() {
            return Err(Status::unavailable(reason));
        }
        let health = self.health.lock().expect("health lock");
        let universe: Vec<String> = health.keys().cloned().collect();
        let names: Vec<&String> = if requested.is_empty() {
            health.keys().collect()
        } else {
            requested.iter().collect()
        };
        let mut heights = BTreeMap::new();
        for name in names {
            let Some(h) = health.get(name) else {
                return Err(Status::invalid_argument(format!(
                    "chains: unknown chain '{name}'; indexed chains: {}",
                    universe.join(", ")
                )));
            };
            if reachable && !h.reachable {
                return Err(Status::unavailable(format!(
                    "chain {name} is unreachable ({}); its index stops at height {}. Retry later or leave it out of `chains`",
                    h.error.as_deref().unwrap_or("not contacted yet"),
                    self.store.height(name)
                )));
            }
            heights.insert(name.clone(), self.store.height(name));
        }
        Ok((universe, heights))
    }

    /// The caller's attestation if they may see it, or NOT_FOUND: one that does not exist,
    /// is not under their consent, or belongs to a cohort below k are indistinguishable.
    fn visible(
        &self,
        caller: &Caller,
        universe: &[String],
        key: &(String, u64),
    ) -> Result<(AttestationRow, ConsentRow, Validity), Status> {
        self.store
            .index()
            .get(&caller.address, &key.0, key.1, universe, self.k(), now_secs())
            .ok_or_else(|| {
                Status::not_found(format!(
                    "no attestation {}/{} among those you may see (under consent granted to you, in a cohort of at least k patients)",
                    key.0, key.1
                ))
            })
    }
}

fn now_secs() -> u64 {
    auth::now_ms() / 1000
}

fn invalid(e: validate::ValidationError) -> Status {
    Status::invalid_argument(e.to_string())
}

/// An attribute code, as the consent contract accepts them in scopes.
fn attribute(field: &'static str, value: &str) -> Result<(), Status> {
    validate::identifier(field, value, MAX_ATTRIBUTE_LEN).map_err(invalid)
}

/// A purpose, as the consent contract accepts them.
fn purpose(field: &'static str, value: &str) -> Result<(), Status> {
    validate::identifier(field, value, MAX_PURPOSE_LEN).map_err(invalid)
}

/// A chain id: 1 to 50 characters of `[A-Za-z0-9._-]`.
fn chain_id(field: &str, value: &str) -> Result<(), Status> {
    let len = value.chars().count();
    if !(1..=MAX_CHAIN_ID_LEN).contains(&len) {
        return Err(Status::invalid_argument(format!(
            "{field}: a chain id must be 1 to {MAX_CHAIN_ID_LEN} characters long, got {len}"
        )));
    }
    if !value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
    {
        return Err(Status::invalid_argument(format!(
            "{field}: a chain id contains only A-Z, a-z, 0-9, '.', '_', '-' (got {value:?})"
        )));
    }
    Ok(())
}

/// A consent token id as the consent contract writes them: a decimal u64, no leading zero.
fn token_id(field: &str, value: &str) -> Result<(), Status> {
    let canonical = value.len() <= 20 && value.parse::<u64>().is_ok_and(|n| n.to_string() == value);
    if !canonical {
        let shown: String = value.chars().take(24).collect();
        return Err(Status::invalid_argument(format!(
            "{field}: a consent token id is a decimal number such as 17 (got {shown:?})"
        )));
    }
    Ok(())
}

fn predicate(p: Option<&pb::Predicate>) -> Result<(String, Vec<u64>), Status> {
    let p = p.ok_or_else(|| {
        Status::invalid_argument("predicate is required, e.g. {op: \"lt\", values: [70000]}")
    })?;
    let op = Operator::ALL
        .into_iter()
        .find(|op| op.name() == p.op)
        .ok_or_else(|| {
            Status::invalid_argument(
                "predicate.op: unknown operator; use eq, ne, lt, lte, gt, gte, between, nonbetween, in or nin",
            )
        })?;
    Predicate::new(op, p.values.clone())
        .map_err(|e| Status::invalid_argument(format!("predicate values: {e}")))?;
    Ok((p.op.clone(), p.values.clone()))
}

fn key_of(key: Option<&pb::AttestationKey>) -> Result<(String, u64), Status> {
    let key = key.ok_or_else(|| Status::invalid_argument("key {chain_id, id} is required"))?;
    chain_id("key.chain_id", &key.chain_id)?;
    Ok((key.chain_id.clone(), key.id))
}

fn validity_pb(v: Validity) -> pb::Validity {
    match v {
        Validity::Valid => pb::Validity::Valid,
        Validity::Revoked => pb::Validity::Revoked,
        Validity::Expired => pb::Validity::Expired,
        Validity::ConsentUnknown => pb::Validity::ConsentUnknown,
    }
}

fn provenance(row: &AttestationRow) -> pb::Provenance {
    pb::Provenance {
        source_chain: row.source_chain.clone(),
        source_id: row.source_id,
        channel_id: row.channel_id.clone(),
        sequence: row.sequence,
        relayer: row.relayer.clone(),
        height: row.height,
        tx_hash: row.tx_hash.clone(),
    }
}

/// A row as the API shows it: validity and provenance, not the statement (attribute,
/// predicate) nor the commitment — a row must not answer a cohort question.
pub fn to_pb(row: &AttestationRow, consent: &ConsentRow, validity: Validity) -> pb::Attestation {
    pb::Attestation {
        key: Some(pb::AttestationKey {
            chain_id: row.chain_id.clone(),
            id: row.id,
        }),
        circuit_id: row.circuit_id.clone(),
        consent_id: row.consent_id.clone(),
        grantee: row.grantee.clone(),
        purpose: consent.purpose.clone(),
        attester: row.attester.clone(),
        validity: validity_pb(validity) as i32,
        recorded_at: row.recorded_at,
        expires_at: row.expires_at.unwrap_or_default(),
        provenance: Some(provenance(row)),
    }
}

fn statement(row: &AttestationRow) -> Result<Statement, String> {
    let commitment: [u8; 32] = hex::decode(&row.commitment)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or("commitment is not 32 bytes of hex")?;
    Ok(Statement {
        attribute: AttributeCode::new(&row.attribute).map_err(|e| format!("{e:?}"))?,
        predicate: Predicate::new(
            Operator::from_name(&row.op).map_err(|e| format!("{e:?}"))?,
            row.values.clone(),
        )
        .map_err(|e| format!("{e:?}"))?,
        commitment,
        context: Context {
            chain_id: row.source_chain.clone(),
            consent_contract: row.consent_contract.clone(),
            consent_id: row.consent_id.clone(),
            grantee: row.grantee.clone(),
        },
    })
}

type AttestationStream = Pin<Box<dyn Stream<Item = Result<pb::Attestation, Status>> + Send>>;

impl Gateway {
    async fn handle_count_cohort(
        &self,
        request: Request<pb::CountCohortRequest>,
    ) -> Result<Response<pb::CountCohortResponse>, Status> {
        let caller = self.authenticate(&request, "CountCohort")?;
        let r = request.get_ref();
        attribute("attribute", &r.attribute)?;
        purpose("purpose", &r.purpose)?;
        let (op, values) = predicate(r.predicate.as_ref())?;
        let (universe, heights) = self.chains(&r.chains, true)?;
        self.admit(&caller)?;
        let chains = heights
            .keys()
            .filter_map(|c| chain_bit(&universe, c))
            .fold(0, |bits, bit| bits | bit);
        let key = CohortKey {
            grantee: &caller.address,
            attribute: &r.attribute,
            op: &op,
            values: &values,
            purpose: &r.purpose,
        };
        let cohort = self.store.index().cohort(&key, &universe, now_secs());
        let published = cohort.valid.publishable(chains, self.k());
        Ok(Response::new(pb::CountCohortResponse {
            count: published.unwrap_or(0),
            suppressed: published.is_none(),
            k: self.config.k,
            indexed_heights: heights.into_iter().collect(),
        }))
    }

    async fn handle_get_attestation(
        &self,
        request: Request<pb::GetAttestationRequest>,
    ) -> Result<Response<pb::Attestation>, Status> {
        let caller = self.authenticate(&request, "GetAttestation")?;
        let key = key_of(request.get_ref().key.as_ref())?;
        // A row is shown from the index even while its chain's node is down.
        let (universe, _) = self.chains(std::slice::from_ref(&key.0), false)?;
        self.admit(&caller)?;
        let (row, consent, validity) = self.visible(&caller, &universe, &key)?;
        Ok(Response::new(to_pb(&row, &consent, validity)))
    }

    async fn handle_list_attestations(
        &self,
        request: Request<pb::ListAttestationsRequest>,
    ) -> Result<Response<AttestationStream>, Status> {
        let caller = self.authenticate(&request, "ListAttestations")?;
        let r = request.into_inner();
        if r.page_size > MAX_PAGE {
            return Err(Status::invalid_argument(format!(
                "page_size must be at most {MAX_PAGE}"
            )));
        }
        for (field, value) in [("attribute", &r.attribute), ("commitment", &r.commitment)] {
            if !value.is_empty() {
                return Err(Status::invalid_argument(format!(
                    "{field}: ListAttestations no longer filters by {field} — rows do not answer cohort questions; ask CountCohort"
                )));
            }
        }
        if !r.consent_id.is_empty() {
            token_id("consent_id", &r.consent_id)?;
        }
        if let Some(k) = &r.start_after {
            chain_id("start_after.chain_id", &k.chain_id)?;
        }
        let (universe, heights) = self.chains(&r.chains, true)?;
        self.admit(&caller)?;
        let chains: Vec<String> = heights.keys().cloned().collect();
        let start_after = r.start_after.as_ref().map(|k| (k.chain_id.clone(), k.id));
        let limit = if r.page_size == 0 {
            DEFAULT_PAGE
        } else {
            r.page_size
        } as usize;
        let q = Query {
            chains: &chains,
            consent_id: (!r.consent_id.is_empty()).then_some(r.consent_id.as_str()),
        };
        let page = self.store.index().list(
            &caller.address,
            &q,
            r.include_invalid,
            start_after.as_ref(),
            limit,
            &universe,
            self.k(),
            now_secs(),
        );
        let items: Vec<Result<pb::Attestation, Status>> = page
            .iter()
            .map(|(row, consent, v)| Ok(to_pb(row, consent, *v)))
            .collect();
        Ok(Response::new(Box::pin(tokio_stream::iter(items))))
    }

    async fn handle_verify_attestation(
        &self,
        request: Request<pb::VerifyAttestationRequest>,
    ) -> Result<Response<pb::VerifyAttestationResponse>, Status> {
        let caller = self.authenticate(&request, "VerifyAttestation")?;
        let key = key_of(request.get_ref().key.as_ref())?;
        // A row is shown from the index even while its chain's node is down.
        let (universe, _) = self.chains(std::slice::from_ref(&key.0), false)?;
        self.admit(&caller)?;
        let (row, _, validity) = self.visible(&caller, &universe, &key)?;
        let verdict = match self.keys.get(&row.circuit_id) {
            None => Err(format!(
                "unknown circuit {}: the gateway has no verifying key for it",
                row.circuit_id
            )),
            Some(vk) => statement(&row).and_then(|s| {
                vk.verify_statement(&row.proof, &s)
                    .map_err(|e| format!("proof rejected: {e:?}"))
            }),
        };
        Ok(Response::new(pb::VerifyAttestationResponse {
            proof_valid: verdict.is_ok(),
            reason: verdict.err().unwrap_or_default(),
            validity: validity_pb(validity) as i32,
            provenance: Some(provenance(&row)),
            circuit_id: row.circuit_id,
        }))
    }

    async fn handle_check_access(
        &self,
        request: Request<pb::CheckAccessRequest>,
    ) -> Result<Response<pb::CheckAccessResponse>, Status> {
        let caller = self.authenticate(&request, "CheckAccess")?;
        let r = request.get_ref();
        chain_id("chain_id", &r.chain_id)?;
        purpose("purpose", &r.purpose)?;
        attribute("attribute", &r.attribute)?;
        let dataset = hex::decode(&r.dataset)
            .ok()
            .filter(|d| d.len() == validate::COMMITMENT_LEN)
            .ok_or_else(|| {
                Status::invalid_argument("dataset must be a 32-byte commitment: 64 hex characters")
            })?;
        if !r.token_id.is_empty() {
            token_id("token_id", &r.token_id)?;
        }
        let chain = self.live.get(&r.chain_id).ok_or_else(|| {
            Status::invalid_argument(format!(
                "chain_id: unknown chain '{}'; known: {}",
                r.chain_id,
                self.live.keys().cloned().collect::<Vec<_>>().join(", ")
            ))
        })?;
        self.admit(&caller)?;
        let q = ConsentQuery::CheckAccess {
            grantee: caller.address.clone(),
            dataset: dataset.into(),
            purpose: r.purpose.clone(),
            attribute: r.attribute.clone(),
            token_id: (!r.token_id.is_empty()).then(|| r.token_id.clone()),
            patient: None,
        };
        let height = chain
            .client
            .status()
            .await
            .map(|s| s.height)
            .unwrap_or_default();
        let answer: CheckAccessResponse =
            chain
                .client
                .smart(&chain.consent, &q)
                .await
                .map_err(|e| match e {
                    healthmesh_client::ClientError::Unreachable { .. } => Status::unavailable(
                        format!("chain {} is unreachable: {e}; retry later", r.chain_id),
                    ),
                    other => Status::invalid_argument(other.to_string()),
                })?;
        let reason = answer.reason.map(|r| match r {
            DenialReason::Unknown => "unknown",
            DenialReason::WrongPurpose => "wrong_purpose",
            DenialReason::OutOfScope => "out_of_scope",
            DenialReason::Revoked => "revoked",
            DenialReason::Expired => "expired",
        });
        Ok(Response::new(pb::CheckAccessResponse {
            allowed: answer.allowed,
            token_id: answer.token_id.unwrap_or_default(),
            reason: reason.unwrap_or_default().into(),
            height,
        }))
    }
}

/// Every RPC is counted and timed by method and outcome (Prometheus: `crate::metrics`).
#[tonic::async_trait]
impl ResearchService for Gateway {
    async fn count_cohort(
        &self,
        request: Request<pb::CountCohortRequest>,
    ) -> Result<Response<pb::CountCohortResponse>, Status> {
        observed("CountCohort", self.handle_count_cohort(request)).await
    }

    async fn get_attestation(
        &self,
        request: Request<pb::GetAttestationRequest>,
    ) -> Result<Response<pb::Attestation>, Status> {
        observed("GetAttestation", self.handle_get_attestation(request)).await
    }

    type ListAttestationsStream = AttestationStream;

    async fn list_attestations(
        &self,
        request: Request<pb::ListAttestationsRequest>,
    ) -> Result<Response<Self::ListAttestationsStream>, Status> {
        observed("ListAttestations", self.handle_list_attestations(request)).await
    }

    async fn verify_attestation(
        &self,
        request: Request<pb::VerifyAttestationRequest>,
    ) -> Result<Response<pb::VerifyAttestationResponse>, Status> {
        observed("VerifyAttestation", self.handle_verify_attestation(request)).await
    }

    async fn check_access(
        &self,
        request: Request<pb::CheckAccessRequest>,
    ) -> Result<Response<pb::CheckAccessResponse>, Status> {
        observed("CheckAccess", self.handle_check_access(request)).await
    }
}
