//! Follows each chain block by block (tendermint-rpc `block` + `block_results`), turns the
//! HealthMesh contracts' events into index changes, and hands them to one writer through a
//! bounded channel: a slow disk slows the followers down instead of growing memory
//! (back-pressure). A chain that stops answering is retried with exponential backoff and
//! reported down until it answers again.

use healthmesh_types::events::{attr as key, tx};
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use healthmesh_client::{ChainClient, Event};
use healthmesh_types::attestation::{
    Attestation, AttestationStatus, Origin, QueryMsg as AttestationQuery,
};
use healthmesh_types::consent::{ConsentResponse, ConsentStatus, QueryMsg as ConsentQuery};
use tendermint_rpc::Client;
use tokio::sync::mpsc;

use crate::store::{AttestationRow, BlockBatch, Change, ConsentRow, Expiry, Store};

/// One transaction of a block: hash and events.
#[derive(Debug, Clone)]
pub struct TxEvents {
    pub hash: String,
    pub events: Vec<Event>,
}

/// The three HealthMesh contracts whose events are indexed on a chain.
#[derive(Debug, Clone, Default)]
pub struct Contracts {
    pub consent: String,
    pub attestation: String,
    pub staking: String,
}

/// What the indexer needs from a chain. [`RpcSource`] is the real one (CometBFT RPC).
pub trait ChainSource: Send + Sync + 'static {
    fn chain_id(&self) -> &str;
    fn latest_height(&self) -> impl Future<Output = anyhow::Result<u64>> + Send;
    fn block_txs(&self, height: u64) -> impl Future<Output = anyhow::Result<Vec<TxEvents>>> + Send;
    fn attestation(
        &self,
        contract: &str,
        id: u64,
    ) -> impl Future<Output = anyhow::Result<Attestation>> + Send;
    fn consent(
        &self,
        contract: &str,
        token_id: &str,
    ) -> impl Future<Output = anyhow::Result<ConsentResponse>> + Send;
}

/// A chain over its CometBFT RPC endpoint.
pub struct RpcSource {
    client: ChainClient,
}

impl RpcSource {
    pub fn new(client: ChainClient) -> Self {
        RpcSource { client }
    }
}

impl ChainSource for RpcSource {
    fn chain_id(&self) -> &str {
        &self.client.chain_id
    }

    async fn latest_height(&self) -> anyhow::Result<u64> {
        Ok(self.client.status().await?.height)
    }

    async fn block_txs(&self, height: u64) -> anyhow::Result<Vec<TxEvents>> {
        let h = tendermint::block::Height::try_from(height)?;
        let http = self.client.http();
        let (block, results) = tokio::try_join!(http.block(h), http.block_results(h))?;
        let txs = block.block.data;
        let results = results.txs_results.unwrap_or_default();
        anyhow::ensure!(
            txs.len() == results.len(),
            "block {height}: {} txs but {} results",
            txs.len(),
            results.len()
        );
        Ok(txs
            .iter()
            .zip(results)
            .map(|(tx, result)| TxEvents {
                hash: hex::encode_upper(<sha2::Sha256 as sha2::Digest>::digest(tx)),
                events: healthmesh_client::events::from_abci(&result.events),
            })
            .collect())
    }

    async fn attestation(&self, contract: &str, id: u64) -> anyhow::Result<Attestation> {
        Ok(self
            .client
            .smart(contract, &AttestationQuery::Attestation { id })
            .await?)
    }

    async fn consent(&self, contract: &str, token_id: &str) -> anyhow::Result<ConsentResponse> {
        let q = ConsentQuery::Consent {
            token_id: token_id.to_string(),
        };
        Ok(self.client.smart(contract, &q).await?)
    }
}

/// Whether a chain answers, as the API reports it.
#[derive(Debug, Clone, Default)]
pub struct ChainHealth {
    pub reachable: bool,
    pub latest: u64,
    pub error: Option<String>,
    /// The index stopped (its writer failed). It stays so: a chain that still answers does
    /// not make an index that no longer grows look healthy.
    pub stopped: bool,
}

pub type HealthMap = Arc<Mutex<BTreeMap<String, ChainHealth>>>;

fn attr<'a>(event: &'a Event, key: &str) -> Option<&'a str> {
    event
        .attributes
        .iter()
        .find(|a| a.key == key)
        .map(|a| a.value.as_str())
}

/// The index changes of one block's transactions.
pub async fn extract<S: ChainSource>(
    source: &S,
    contracts: &Contracts,
    height: u64,
    txs: &[TxEvents],
) -> anyhow::Result<Vec<Change>> {
    let chain_id = source.chain_id().to_string();
    let mut changes = vec![];
    for tx in txs {
        for event in &tx.events {
            let Some(contract) = attr(event, "_contract_address") else {
                continue;
            };
            let kind = event.kind.as_str();
            if contract == contracts.attestation {
                match kind {
                    tx::ATTESTATION_RECORDED | tx::ATTESTATION_RECEIVED => {
                        let id: u64 = attr(event, key::ATTESTATION_ID)
                            .unwrap_or_default()
                            .parse()?;
                        let a = source.attestation(contract, id).await?;
                        changes.push(Change::Attestation(Box::new(attestation_row(
                            &chain_id, a, height, &tx.hash,
                        ))));
                    }
                    tx::CONSENT_TOMBSTONED => changes.push(Change::RevokeAttestations {
                        chain_id: chain_id.clone(),
                        source_chain: attr(event, key::SOURCE_CHAIN).unwrap_or_default().into(),
                        consent_id: attr(event, key::CONSENT_ID).unwrap_or_default().into(),
                    }),
                    tx::ATTESTER_TOMBSTONED => changes.push(Change::RevokeAttester {
                        chain_id: chain_id.clone(),
                        source_chain: attr(event, key::SOURCE_CHAIN).unwrap_or_default().into(),
                        attester: attr(event, key::ATTESTER).unwrap_or_default().into(),
                    }),
                    _ => {}
                }
            } else if contract == contracts.consent {
                let token_id = attr(event, key::TOKEN_ID).unwrap_or_default();
                match kind {
                    tx::CONSENT_GRANTED => {
                        let c = source.consent(contract, token_id).await?;
                        changes.push(Change::Consent(consent_row(&chain_id, c)));
                    }
                    tx::CONSENT_REVOKED => changes.push(Change::RevokeConsent {
                        chain_id: chain_id.clone(),
                        token_id: token_id.into(),
                    }),
                    _ => {}
                }
            } else if contract == contracts.staking && kind.starts_with("wasm-") {
                let address = ["address", "attester", "staker"]
                    .iter()
                    .find_map(|k| attr(event, k));
                changes.push(Change::Staking {
                    chain_id: chain_id.clone(),
                    address: address.unwrap_or_default().into(),
                    event: kind.trim_start_matches("wasm-").into(),
                    height,
                });
            }
        }
    }
    Ok(changes)
}

pub fn attestation_row(
    chain_id: &str,
    a: Attestation,
    height: u64,
    tx_hash: &str,
) -> AttestationRow {
    let (source_id, channel_id, sequence, relayer) = match a.origin {
        Origin::Local { .. } => (a.id, String::new(), 0, String::new()),
        Origin::Remote {
            source_id,
            channel_id,
            sequence,
            relayer,
            ..
        } => (source_id, channel_id, sequence, relayer.to_string()),
    };
    AttestationRow {
        chain_id: chain_id.into(),
        id: a.id,
        source_chain: a.context.chain_id,
        consent_id: a.context.consent_id,
        grantee: a.context.grantee,
        consent_contract: a.context.consent_contract,
        source_id,
        channel_id,
        sequence,
        relayer,
        circuit_id: a.circuit_id,
        attribute: a.attribute,
        op: a.predicate.op.name().to_string(),
        values: a.predicate.values,
        commitment: a.commitment.to_hex(),
        attester: a.attester,
        proof: a.proof.to_vec(),
        recorded_at: a.recorded_at.seconds(),
        expires_at: a.expires_at.map(|t| t.seconds()),
        revoked: matches!(a.status, AttestationStatus::Revoked { .. }),
        height,
        tx_hash: tx_hash.into(),
    }
}

pub fn consent_row(chain_id: &str, c: ConsentResponse) -> ConsentRow {
    ConsentRow {
        chain_id: chain_id.into(),
        token_id: c.token_id,
        patient: c.record.patient.to_string(),
        grantee: c.record.grantee.to_string(),
        purpose: c.record.purpose,
        scope: c.record.scope,
        expires: match c.record.expires {
            cw_utils::Expiration::AtHeight(h) => Expiry::AtHeight(h),
            cw_utils::Expiration::AtTime(t) => Expiry::AtTime(t.seconds()),
            cw_utils::Expiration::Never {} => Expiry::Never,
        },
        revoked: matches!(c.record.status, ConsentStatus::Revoked { .. }),
    }
}

/// Indexing settings.
#[derive(Debug, Clone)]
pub struct IndexerConfig {
    pub poll: Duration,
    pub max_backoff: Duration,
    /// Blocks in flight between followers and the writer.
    pub channel_capacity: usize,
}

impl Default for IndexerConfig {
    fn default() -> Self {
        IndexerConfig {
            poll: Duration::from_millis(500),
            max_backoff: Duration::from_secs(10),
            channel_capacity: 256,
        }
    }
}

/// What every chain reports once the writer has stopped.
pub(crate) const STOPPED: &str = "the index stopped: its writer failed; restart the gateway";

/// Starts one follower per chain and the writer; returns the chains' health.
pub fn spawn<S: ChainSource>(
    store: Arc<Store>,
    chains: Vec<(Arc<S>, Contracts)>,
    config: IndexerConfig,
) -> HealthMap {
    let health: HealthMap = Arc::default();
    let (tx, rx) = mpsc::channel(config.channel_capacity);
    for (source, contracts) in chains {
        let next = store.height(source.chain_id()) + 1;
        health
            .lock()
            .expect("health lock")
            .insert(source.chain_id().to_string(), ChainHealth::default());
        tokio::spawn(follow(
            source,
            contracts,
            next,
            tx.clone(),
            health.clone(),
            config.clone(),
        ));
    }
    tokio::spawn(write(store, rx, health.clone()));
    health
}

/// Marks every chain stopped when the writer ends, however it ends (a failed write or a
/// panic): the followers then exit, and a frozen index must not look current.
struct StopOnExit {
    health: HealthMap,
    reason: String,
}

impl Drop for StopOnExit {
    fn drop(&mut self) {
        // After a panic under the lock the map is still whole.
        let mut map = self.health.lock().unwrap_or_else(|e| e.into_inner());
        for entry in map.values_mut() {
            entry.stopped = true;
            entry.reachable = false;
            entry.error = Some(self.reason.clone());
        }
        crate::metrics::index_stopped(true);
    }
}

async fn write(store: Arc<Store>, mut rx: mpsc::Receiver<BlockBatch>, health: HealthMap) {
    let mut stop = StopOnExit {
        health: health.clone(),
        reason: format!("{STOPPED} (the writer ended)"),
    };
    let mut batches = Vec::with_capacity(64);
    while rx.recv_many(&mut batches, 64).await > 0 {
        if let Err(e) = store.apply_many(&batches) {
            // Nothing was committed: the followers' heights are ahead of the database, so stop
            // rather than skip blocks; a restart resumes from the last committed height. Every
            // chain is reported unavailable (requests say why) instead of silently frozen.
            tracing::error!("index write failed, stopping the indexer: {e}");
            stop.reason = format!("{STOPPED} (index write failed: {e})");
            return;
        }
        let mut committed: BTreeMap<&str, u64> = BTreeMap::new();
        for batch in &batches {
            let height = committed.entry(batch.chain_id.as_str()).or_default();
            *height = (*height).max(batch.height);
        }
        let latest = health.lock().expect("health lock").clone();
        for (chain, height) in committed {
            let chain_latest = latest.get(chain).map_or(height, |h| h.latest);
            crate::metrics::indexed(chain, height, chain_latest);
        }
        batches.clear();
    }
}

async fn follow<S: ChainSource>(
    source: Arc<S>,
    contracts: Contracts,
    mut next: u64,
    tx: mpsc::Sender<BlockBatch>,
    health: HealthMap,
    config: IndexerConfig,
) {
    let chain_id = source.chain_id().to_string();
    let mut backoff = config.poll;
    // A closed channel means the writer stopped; it has said why in every chain's health.
    while !tx.is_closed() {
        let step = async {
            let latest = source.latest_height().await?;
            set_health(&health, &chain_id, Ok(latest));
            while next <= latest {
                let txs = match source.block_txs(next).await {
                    Ok(txs) => txs,
                    // CometBFT stores the newest block before it executes it, so its results
                    // can be missing for a moment: not an error, the next poll takes it.
                    Err(_) if next == latest => break,
                    Err(e) => return Err(e),
                };
                let changes = extract(source.as_ref(), &contracts, next, &txs).await?;
                let batch = BlockBatch {
                    chain_id: chain_id.clone(),
                    height: next,
                    changes,
                };
                if tx.send(batch).await.is_err() {
                    anyhow::bail!("writer stopped");
                }
                next += 1;
            }
            anyhow::Ok(())
        };
        match step.await {
            Ok(()) => {
                backoff = config.poll;
                tokio::time::sleep(config.poll).await;
            }
            Err(_) if tx.is_closed() => return,
            Err(e) => {
                tracing::warn!(chain = %chain_id, "indexer: {e:#}; retrying in {backoff:?}");
                set_health(&health, &chain_id, Err(format!("{e:#}")));
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(config.max_backoff);
            }
        }
    }
}

fn set_health(health: &HealthMap, chain_id: &str, result: Result<u64, String>) {
    let mut map = health.lock().expect("health lock");
    let entry = map.entry(chain_id.to_string()).or_default();
    if entry.stopped {
        return;
    }
    match result {
        Ok(latest) => {
            crate::metrics::chain_height(chain_id, latest);
            entry.reachable = true;
            entry.latest = latest;
            entry.error = None;
        }
        Err(e) => {
            entry.reachable = false;
            entry.error = Some(e);
        }
    }
}
