//! The `ResearchService` implementation: authenticate, authorize by grantee, answer from the
//! index (or, for `CheckAccess`, from the consent contract live).

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use healthmesh_client::ChainClient;
use healthmesh_proofs::statement::{AttributeCode, Context, Operator, Predicate, Statement};
use healthmesh_proofs::verifier::PreparedVerifyingKey;
use healthmesh_research::auth::{self, Caller};
use healthmesh_research::pb;
use healthmesh_research::pb::research_service_server::ResearchService;
use healthmesh_types::consent::{CheckAccessResponse, DenialReason, QueryMsg as ConsentQuery};
use tokio_stream::Stream;
use tonic::{Request, Response, Status};

use crate::indexer::HealthMap;
use crate::store::{AttestationRow, ConsentRow, Query, Store, Validity};

const METHOD_PREFIX: &str = "/healthmesh.research.v1.ResearchService/";
const MAX_PAGE: u32 = 500;
const DEFAULT_PAGE: u32 = 100;

#[derive(Debug, Clone)]
pub struct GatewayConfig {
    /// Counts below k are suppressed.
    pub k: u32,
    pub max_skew_ms: u64,
    pub bech32_prefix: String,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        GatewayConfig {
            k: 5,
            max_skew_ms: 30_000,
            bech32_prefix: "wasm".into(),
        }
    }
}

/// A chain the gateway can ask live (CheckAccess): its client and consent contract.
pub struct LiveChain {
    pub client: ChainClient,
    pub consent: String,
}

/// Nonces seen within the freshness window. A request is accepted only within `max_skew` of
/// its timestamp, so remembering each nonce for twice that after arrival catches every
/// replay; arrival order makes pruning a pop from the front (no scan per request).
#[derive(Default)]
struct NonceCache {
    seen: HashSet<String>,
    order: VecDeque<(u64, String)>,
}

impl NonceCache {
    /// False if `nonce` was seen within `window_ms` before `now_ms`.
    fn insert(&mut self, nonce: String, now_ms: u64, window_ms: u64) -> bool {
        while let Some((arrived, _)) = self.order.front() {
            if now_ms.saturating_sub(*arrived) <= window_ms {
                break;
            }
            let (_, old) = self.order.pop_front().expect("front exists");
            self.seen.remove(&old);
        }
        if !self.seen.insert(nonce.clone()) {
            return false;
        }
        self.order.push_back((now_ms, nonce));
        true
    }
}

pub struct Gateway {
    pub store: Arc<Store>,
    pub health: HealthMap,
    pub config: GatewayConfig,
    /// Verifying keys by circuit id (hex SHA-256 of the key).
    pub keys: HashMap<String, PreparedVerifyingKey>,
    pub live: BTreeMap<String, LiveChain>,
    nonces: Mutex<NonceCache>,
}

impl Gateway {
    pub fn new(
        store: Arc<Store>,
        health: HealthMap,
        config: GatewayConfig,
        keys: HashMap<String, PreparedVerifyingKey>,
        live: BTreeMap<String, LiveChain>,
    ) -> Self {
        Gateway {
            store,
            health,
            config,
            keys,
            live,
            nonces: Mutex::default(),
        }
    }

    /// Signature, freshness, replay and a known key; returns the caller's address.
    fn authenticate<T: prost::Message>(
        &self,
        request: &Request<T>,
        method: &str,
    ) -> Result<Caller, Status> {
        let now = auth::now_ms();
        let bytes = request.get_ref().encode_to_vec();
        let caller = auth::verify(
            request.metadata(),
            &format!("{METHOD_PREFIX}{method}"),
            &bytes,
            now,
            self.config.max_skew_ms,
            &self.config.bech32_prefix,
        )
        .map_err(|e| Status::unauthenticated(e.to_string()))?;
        let fresh = self.nonces.lock().expect("nonce lock").insert(
            format!("{}/{}", caller.address, caller.nonce),
            now,
            2 * self.config.max_skew_ms,
        );
        if !fresh {
            return Err(Status::unauthenticated(
                "replayed request: this nonce was already used; sign each request with a fresh nonce",
            ));
        }
        if !self.store.index().knows_grantee(&caller.address) {
            return Err(Status::unauthenticated(format!(
                "unknown key: no consent was ever granted to {} on the indexed chains; a patient must grant you consent first",
                caller.address
            )));
        }
        Ok(caller)
    }

    /// Chains to answer from: all indexed, or the requested ones, each known and reachable.
    fn chains(&self, requested: &[String]) -> Result<BTreeMap<String, u64>, Status> {
        let health = self.health.lock().expect("health lock");
        let names: Vec<&String> = if requested.is_empty() {
            health.keys().collect()
        } else {
            requested.iter().collect()
        };
        let mut heights = BTreeMap::new();
        for name in names {
            let Some(h) = health.get(name) else {
                let known: Vec<&str> = health.keys().map(String::as_str).collect();
                return Err(Status::invalid_argument(format!(
                    "unknown chain '{name}'; indexed chains: {}",
                    known.join(", ")
                )));
            };
            if !h.reachable {
                return Err(Status::unavailable(format!(
                    "chain {name} is unreachable ({}); its index stops at height {}. Retry later or leave it out of `chains`",
                    h.error.as_deref().unwrap_or("not contacted yet"),
                    self.store.height(name)
                )));
            }
            heights.insert(name.clone(), self.store.height(name));
        }
        Ok(heights)
    }
}

fn opt(s: &str) -> Option<&str> {
    (!s.is_empty()).then_some(s)
}

fn now_secs() -> u64 {
    auth::now_ms() / 1000
}

fn predicate(p: Option<&pb::Predicate>) -> Result<(String, Vec<u64>), Status> {
    let p = p.ok_or_else(|| {
        Status::invalid_argument("predicate is required, e.g. {op: \"lt\", values: [70000]}")
    })?;
    let op = Operator::from_name(&p.op).map_err(|e| {
        Status::invalid_argument(format!(
            "predicate: {e:?}; use eq, ne, lt, lte, gt, gte, between, nonbetween, in or nin"
        ))
    })?;
    Predicate::new(op, p.values.clone())
        .map_err(|e| Status::invalid_argument(format!("predicate values: {e:?}")))?;
    Ok((p.op.clone(), p.values.clone()))
}

fn non_empty(field: &str, value: &str) -> Result<(), Status> {
    if value.trim().is_empty() {
        return Err(Status::invalid_argument(format!("{field} is required")));
    }
    Ok(())
}

fn key_of(key: Option<&pb::AttestationKey>) -> Result<(String, u64), Status> {
    let key = key.ok_or_else(|| Status::invalid_argument("key {chain_id, id} is required"))?;
    non_empty("key.chain_id", &key.chain_id)?;
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

pub fn to_pb(
    row: &AttestationRow,
    consent: Option<&ConsentRow>,
    validity: Validity,
) -> pb::Attestation {
    pb::Attestation {
        key: Some(pb::AttestationKey {
            chain_id: row.chain_id.clone(),
            id: row.id,
        }),
        circuit_id: row.circuit_id.clone(),
        attribute: row.attribute.clone(),
        predicate: Some(pb::Predicate {
            op: row.op.clone(),
            values: row.values.clone(),
        }),
        commitment: row.commitment.clone(),
        consent_id: row.consent_id.clone(),
        grantee: row.grantee.clone(),
        purpose: consent.map(|c| c.purpose.clone()).unwrap_or_default(),
        attester: row.attester.clone(),
        validity: validity_pb(validity) as i32,
        recorded_at: row.recorded_at,
        expires_at: row.expires_at.unwrap_or_default(),
        provenance: Some(provenance(row)),
    }
}

/// The caller's attestation, or NOT_FOUND (another researcher's is indistinguishable from none).
fn visible(
    store: &Store,
    caller: &Caller,
    key: &(String, u64),
) -> Result<(AttestationRow, Option<ConsentRow>, Validity), Status> {
    match store.index().get(&key.0, key.1, now_secs()) {
        Some(found) if found.0.grantee == caller.address => Ok(found),
        _ => Err(Status::not_found(format!(
            "no attestation {}/{} under your consent grants",
            key.0, key.1
        ))),
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
            consent_id: row.consent_id.clone(),
            grantee: row.grantee.clone(),
        },
    })
}

type AttestationStream = Pin<Box<dyn Stream<Item = Result<pb::Attestation, Status>> + Send>>;

#[tonic::async_trait]
impl ResearchService for Gateway {
    async fn count_cohort(
        &self,
        request: Request<pb::CountCohortRequest>,
    ) -> Result<Response<pb::CountCohortResponse>, Status> {
        let caller = self.authenticate(&request, "CountCohort")?;
        let r = request.get_ref();
        non_empty("attribute", &r.attribute)?;
        non_empty("purpose", &r.purpose)?;
        let (op, values) = predicate(r.predicate.as_ref())?;
        let heights = self.chains(&r.chains)?;
        let chains: Vec<String> = heights.keys().cloned().collect();
        let q = Query {
            chains: &chains,
            attribute: Some(&r.attribute),
            predicate: Some((&op, &values)),
            purpose: Some(&r.purpose),
            ..Query::default()
        };
        let count = self
            .store
            .index()
            .count_cohort(&caller.address, &q, now_secs());
        let suppressed = count < u64::from(self.config.k);
        Ok(Response::new(pb::CountCohortResponse {
            count: if suppressed { 0 } else { count },
            suppressed,
            k: self.config.k,
            indexed_heights: heights.into_iter().collect(),
        }))
    }

    async fn get_attestation(
        &self,
        request: Request<pb::GetAttestationRequest>,
    ) -> Result<Response<pb::Attestation>, Status> {
        let caller = self.authenticate(&request, "GetAttestation")?;
        let key = key_of(request.get_ref().key.as_ref())?;
        let (row, consent, validity) = visible(&self.store, &caller, &key)?;
        Ok(Response::new(to_pb(&row, consent.as_ref(), validity)))
    }

    type ListAttestationsStream = AttestationStream;

    async fn list_attestations(
        &self,
        request: Request<pb::ListAttestationsRequest>,
    ) -> Result<Response<Self::ListAttestationsStream>, Status> {
        let caller = self.authenticate(&request, "ListAttestations")?;
        let r = request.into_inner();
        if r.page_size > MAX_PAGE {
            return Err(Status::invalid_argument(format!(
                "page_size must be at most {MAX_PAGE}"
            )));
        }
        let heights = self.chains(&r.chains)?;
        let chains: Vec<String> = heights.keys().cloned().collect();
        let start_after = r.start_after.as_ref().map(|k| (k.chain_id.clone(), k.id));
        let limit = if r.page_size == 0 {
            DEFAULT_PAGE
        } else {
            r.page_size
        } as usize;
        let q = Query {
            chains: &chains,
            attribute: opt(&r.attribute),
            consent_id: opt(&r.consent_id),
            commitment: opt(&r.commitment),
            ..Query::default()
        };
        let page = self.store.index().list(
            &caller.address,
            &q,
            r.include_invalid,
            start_after.as_ref(),
            limit,
            now_secs(),
        );
        let items: Vec<Result<pb::Attestation, Status>> = page
            .iter()
            .map(|(row, consent, v)| Ok(to_pb(row, consent.as_ref(), *v)))
            .collect();
        Ok(Response::new(Box::pin(tokio_stream::iter(items))))
    }

    async fn verify_attestation(
        &self,
        request: Request<pb::VerifyAttestationRequest>,
    ) -> Result<Response<pb::VerifyAttestationResponse>, Status> {
        let caller = self.authenticate(&request, "VerifyAttestation")?;
        let key = key_of(request.get_ref().key.as_ref())?;
        let (row, _, validity) = visible(&self.store, &caller, &key)?;
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

    async fn check_access(
        &self,
        request: Request<pb::CheckAccessRequest>,
    ) -> Result<Response<pb::CheckAccessResponse>, Status> {
        let caller = self.authenticate(&request, "CheckAccess")?;
        let r = request.get_ref();
        for (field, value) in [
            ("chain_id", &r.chain_id),
            ("dataset", &r.dataset),
            ("purpose", &r.purpose),
            ("attribute", &r.attribute),
        ] {
            non_empty(field, value)?;
        }
        let dataset =
            hex::decode(&r.dataset).map_err(|_| Status::invalid_argument("dataset must be hex"))?;
        let chain = self.live.get(&r.chain_id).ok_or_else(|| {
            Status::invalid_argument(format!(
                "unknown chain '{}'; known: {}",
                r.chain_id,
                self.live.keys().cloned().collect::<Vec<_>>().join(", ")
            ))
        })?;
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

#[cfg(test)]
mod tests {
    use super::NonceCache;

    #[test]
    fn nonces_are_refused_within_the_window_and_forgotten_after() {
        let mut cache = NonceCache::default();
        assert!(cache.insert("a".into(), 1_000, 60_000));
        assert!(
            !cache.insert("a".into(), 30_000, 60_000),
            "replay inside the window"
        );
        assert!(cache.insert("b".into(), 50_000, 60_000));
        // 'a' arrived at 1 000: forgotten once 61 001 is reached; 'b' is still remembered.
        assert!(cache.insert("a".into(), 61_001, 60_000));
        assert!(!cache.insert("b".into(), 61_001, 60_000));
        assert_eq!(cache.seen.len(), cache.order.len());
    }
}
