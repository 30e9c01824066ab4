//! The gateway's index: what the chains said about attestations and consent, durable in redb
//! and served from memory.
//!
//! redb (pure Rust, ACID, one file, crash-safe commits) holds every row and each chain's last
//! indexed height; a block's changes and its height commit in one write transaction, so a
//! restart resumes at the next block with nothing lost or applied twice. Queries never touch
//! the disk: the rows are loaded at start into an in-memory index grouped by grantee, which is
//! what keeps `CountCohort` within milliseconds on a large index.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Mutex, RwLock};

use redb::{Database, ReadableTable, ReadableTableMetadata, TableDefinition};
use serde::Serialize;

const HEIGHTS: TableDefinition<&str, u64> = TableDefinition::new("heights");
const ATTESTATIONS: TableDefinition<(&str, u64), &[u8]> = TableDefinition::new("attestations");
const CONSENTS: TableDefinition<(&str, &str), &[u8]> = TableDefinition::new("consents");
const STAKING: TableDefinition<(&str, &str), &[u8]> = TableDefinition::new("staking_events");
const META: TableDefinition<&str, u64> = TableDefinition::new("meta");

/// Version of the rows' encoding. An index written with another version is dropped and
/// rebuilt from the chains (everything in it is derived from them): 2 added the consent's
/// patient.
pub const SCHEMA: u64 = 2;

#[derive(Debug, thiserror::Error)]
#[error("index database: {0}")]
pub struct StoreError(String);

fn db_err(e: impl std::fmt::Display) -> StoreError {
    StoreError(e.to_string())
}

pub use crate::rows::{AttestationRow, Change, ConsentRow, Expiry};

#[derive(Debug, Clone, PartialEq)]
pub struct BlockBatch {
    pub chain_id: String,
    pub height: u64,
    pub changes: Vec<Change>,
}

use crate::index::Index;
pub use crate::index::{Query, Validity};

pub struct Store {
    db: Database,
    index: RwLock<Index>,
    /// Why a write failed: from then on the store takes no writes and the API answers nothing.
    failure: Mutex<Option<String>>,
}

impl Store {
    /// Opens (or creates) the database and loads the index. An index of another [`SCHEMA`]
    /// is emptied first, so the indexer rebuilds it from height 1.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(db_err)?;
        }
        Self::on(Database::create(path).map_err(db_err)?)
    }

    /// The same on any redb storage: in memory, or a disk that fails on demand (tests).
    pub fn open_with_backend(backend: impl redb::StorageBackend) -> Result<Self, StoreError> {
        Self::on(
            Database::builder()
                .create_with_backend(backend)
                .map_err(db_err)?,
        )
    }

    fn on(db: Database) -> Result<Self, StoreError> {
        let tx = db.begin_write().map_err(db_err)?;
        {
            let mut meta = tx.open_table(META).map_err(db_err)?;
            let schema = meta.get("schema").map_err(db_err)?.map(|v| v.value());
            if schema != Some(SCHEMA) {
                let had_rows = !tx
                    .open_table(HEIGHTS)
                    .map_err(db_err)?
                    .is_empty()
                    .map_err(db_err)?;
                if had_rows {
                    tracing::warn!(
                        found = ?schema,
                        expected = SCHEMA,
                        "index written by another version: emptied, re-indexing from height 1"
                    );
                }
                tx.delete_table(HEIGHTS).map_err(db_err)?;
                tx.delete_table(ATTESTATIONS).map_err(db_err)?;
                tx.delete_table(CONSENTS).map_err(db_err)?;
                tx.delete_table(STAKING).map_err(db_err)?;
                meta.insert("schema", SCHEMA).map_err(db_err)?;
            }
        }
        tx.open_table(HEIGHTS).map_err(db_err)?;
        tx.open_table(ATTESTATIONS).map_err(db_err)?;
        tx.open_table(CONSENTS).map_err(db_err)?;
        tx.open_table(STAKING).map_err(db_err)?;
        tx.commit().map_err(db_err)?;
        let mut store = Store {
            db,
            index: RwLock::default(),
            failure: Mutex::default(),
        };
        *store.index.get_mut().expect("index lock") = store.committed_index()?;
        Ok(store)
    }

    /// The index of what the database holds (it takes no lock of the in-memory index).
    fn committed_index(&self) -> Result<Index, StoreError> {
        let snapshot = self.snapshot()?;
        let mut index = Index::default();
        index.heights = snapshot.heights;
        for row in snapshot.consents {
            index.apply(&Change::Consent(row));
        }
        for row in snapshot.attestations {
            index.apply(&Change::Attestation(Box::new(row)));
        }
        Ok(index)
    }

    pub fn height(&self, chain_id: &str) -> u64 {
        self.index().heights.get(chain_id).copied().unwrap_or(0)
    }

    pub fn heights(&self) -> BTreeMap<String, u64> {
        self.index().heights.clone()
    }

    /// Writes a block's changes and its height atomically, then updates the index.
    pub fn apply(&self, batch: &BlockBatch) -> Result<(), StoreError> {
        self.apply_many(std::slice::from_ref(batch))
    }

    /// Several blocks in one write transaction (bulk loads, catching up). If the transaction
    /// fails, the in-memory index (which took the changes as they were written) is reloaded
    /// from what the database committed and the store records the failure, both before the
    /// index lock is released: no request reads rows that were not saved, and from then on
    /// the store takes no writes and the API answers nothing until a restart. After an I/O
    /// error redb refuses reads from the disk (it still serves its cache), so the reload can
    /// fail too; the failure then says so, and the unsaved rows (read from the chains all the
    /// same) stay in memory: a request that passed the API's check before the failure may
    /// still be answered from them, later ones are refused.
    pub fn apply_many(&self, batches: &[BlockBatch]) -> Result<(), StoreError> {
        let mut index = self.index.write().expect("index lock");
        if let Some(failure) = self.failure() {
            return Err(StoreError(failure));
        }
        let Err(write) = self.write_many(&mut index, batches) else {
            return Ok(());
        };
        tracing::error!("index write failed ({write}): reloading the index from the database");
        let failure = match self.committed_index() {
            Ok(committed) => {
                *index = committed;
                write
            }
            Err(reload) => StoreError(format!(
                "{}; reloading the index from the database failed too: {}",
                write.0, reload.0
            )),
        };
        *self.failure.lock().expect("failure lock") = Some(failure.0.clone());
        Err(failure)
    }

    /// Why the index stopped taking writes, if it did.
    pub fn failure(&self) -> Option<String> {
        self.failure.lock().expect("failure lock").clone()
    }

    fn write_many(&self, index: &mut Index, batches: &[BlockBatch]) -> Result<(), StoreError> {
        let tx = self.db.begin_write().map_err(db_err)?;
        {
            let mut heights = tx.open_table(HEIGHTS).map_err(db_err)?;
            let mut attestations = tx.open_table(ATTESTATIONS).map_err(db_err)?;
            let mut consents = tx.open_table(CONSENTS).map_err(db_err)?;
            let mut staking = tx.open_table(STAKING).map_err(db_err)?;
            for batch in batches {
                let current = heights
                    .get(batch.chain_id.as_str())
                    .map_err(db_err)?
                    .map(|v| v.value())
                    .unwrap_or(0);
                if batch.height <= current && current > 0 {
                    continue; // already applied: replays after a crash change nothing
                }
                for change in &batch.changes {
                    index.apply(change);
                    match change {
                        Change::Attestation(row) => {
                            attestations
                                .insert((row.chain_id.as_str(), row.id), json(&row).as_slice())
                                .map_err(db_err)?;
                        }
                        Change::Consent(row) => {
                            consents
                                .insert(
                                    (row.chain_id.as_str(), row.token_id.as_str()),
                                    json(&row).as_slice(),
                                )
                                .map_err(db_err)?;
                        }
                        Change::RevokeConsent { chain_id, token_id } => {
                            if let Some(row) = index.consent(chain_id, token_id) {
                                consents
                                    .insert(
                                        (chain_id.as_str(), token_id.as_str()),
                                        json(row).as_slice(),
                                    )
                                    .map_err(db_err)?;
                            }
                        }
                        Change::RevokeAttestations {
                            chain_id,
                            source_chain,
                            consent_id,
                        } => {
                            for row in index.rows_under(chain_id, source_chain, consent_id) {
                                attestations
                                    .insert((row.chain_id.as_str(), row.id), json(row).as_slice())
                                    .map_err(db_err)?;
                            }
                        }
                        Change::RevokeAttester {
                            chain_id,
                            source_chain,
                            attester,
                        } => {
                            for row in index.rows_of_attester(chain_id, source_chain, attester) {
                                attestations
                                    .insert((row.chain_id.as_str(), row.id), json(row).as_slice())
                                    .map_err(db_err)?;
                            }
                        }
                        Change::Staking {
                            chain_id,
                            address,
                            event,
                            height,
                        } => {
                            let key = staking_key(address, *height, event);
                            staking
                                .insert((chain_id.as_str(), key.as_str()), event.as_bytes())
                                .map_err(db_err)?;
                        }
                    }
                }
                heights
                    .insert(batch.chain_id.as_str(), batch.height)
                    .map_err(db_err)?;
                index.heights.insert(batch.chain_id.clone(), batch.height);
                index.bump();
            }
        }
        tx.commit().map_err(db_err)
    }

    /// Everything the database holds, in key order. Two indexes of the same chains, with no
    /// indexed event between their heights, have equal rows: a gateway restarted after a
    /// crash against one rebuilt from scratch (`make chaos`).
    pub fn snapshot(&self) -> Result<Snapshot, StoreError> {
        let tx = self.db.begin_read().map_err(db_err)?;
        let mut snapshot = Snapshot {
            consents: json_rows(&tx, CONSENTS)?,
            attestations: json_rows(&tx, ATTESTATIONS)?,
            ..Snapshot::default()
        };
        for item in tx
            .open_table(HEIGHTS)
            .map_err(db_err)?
            .iter()
            .map_err(db_err)?
        {
            let (k, v) = item.map_err(db_err)?;
            snapshot.heights.insert(k.value().to_string(), v.value());
        }
        for item in tx
            .open_table(STAKING)
            .map_err(db_err)?
            .iter()
            .map_err(db_err)?
        {
            let (k, _) = item.map_err(db_err)?;
            let (chain, key) = k.value();
            snapshot.staking.push((chain.to_string(), key.to_string()));
        }
        Ok(snapshot)
    }

    /// The in-memory index, for queries (a read lock: queries run concurrently, blocks
    /// are applied between them).
    pub fn index(&self) -> std::sync::RwLockReadGuard<'_, Index> {
        // A writer that panicked under the lock has stopped the index (the API refuses what
        // reads it); requests that do not, such as authentication, still get an answer.
        self.index
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The rows of an index and the height it reached on each chain ([`Store::snapshot`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Snapshot {
    pub heights: BTreeMap<String, u64>,
    pub consents: Vec<ConsentRow>,
    pub attestations: Vec<AttestationRow>,
    /// (chain, "address/height/event") of every staking event.
    pub staking: Vec<(String, String)>,
}

impl Snapshot {
    /// The index as it stood at `heights`: attestation rows and staking events recorded
    /// above them left out. Consent rows carry no height and are all kept.
    pub fn up_to(&self, heights: &BTreeMap<String, u64>) -> Snapshot {
        let within = |chain: &str, height: u64| heights.get(chain).is_some_and(|h| height <= *h);
        Snapshot {
            heights: heights.clone(),
            consents: self.consents.clone(),
            attestations: self
                .attestations
                .iter()
                .filter(|a| within(&a.chain_id, a.height))
                .cloned()
                .collect(),
            staking: self
                .staking
                .iter()
                .filter(|(chain, key)| staking_height(key).is_some_and(|h| within(chain, h)))
                .cloned()
                .collect(),
        }
    }

    /// Whether the rows (not the heights) are the same.
    pub fn same_rows(&self, other: &Snapshot) -> bool {
        self.consents == other.consents
            && self.attestations == other.attestations
            && self.staking == other.staking
    }
}

/// A staking event's key within its chain: `address/height/event`.
fn staking_key(address: &str, height: u64, event: &str) -> String {
    format!("{address}/{height}/{event}")
}

fn staking_height(key: &str) -> Option<u64> {
    key.split('/').nth(1)?.parse().ok()
}

/// Every row of a table of JSON rows, in key order.
fn json_rows<K: redb::Key + 'static, T: serde::de::DeserializeOwned>(
    tx: &redb::ReadTransaction,
    table: TableDefinition<K, &[u8]>,
) -> Result<Vec<T>, StoreError> {
    let mut rows = vec![];
    for item in tx
        .open_table(table)
        .map_err(db_err)?
        .iter()
        .map_err(db_err)?
    {
        rows.push(serde_json::from_slice(item.map_err(db_err)?.1.value()).map_err(db_err)?);
    }
    Ok(rows)
}

fn json<T: Serialize>(row: &T) -> Vec<u8> {
    serde_json::to_vec(row).expect("rows serialize")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_index_of_another_schema_is_rebuilt_from_scratch() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("index.redb");
        {
            // What the previous version wrote: no schema entry, consents without a patient.
            let db = Database::create(&path).unwrap();
            let tx = db.begin_write().unwrap();
            tx.open_table(HEIGHTS).unwrap().insert("g-1", 40).unwrap();
            tx.open_table(CONSENTS)
                .unwrap()
                .insert(
                    ("g-1", "1"),
                    br#"{"chain_id":"g-1","token_id":"1"}"#.as_slice(),
                )
                .unwrap();
            tx.commit().unwrap();
        }
        let store = Store::open(&path).expect("opens, emptied");
        assert_eq!(store.height("g-1"), 0, "re-indexes from height 1");
        store
            .apply(&BlockBatch {
                chain_id: "g-1".into(),
                height: 1,
                changes: vec![],
            })
            .unwrap();
        drop(store);
        assert_eq!(
            Store::open(&path).unwrap().height("g-1"),
            1,
            "kept once current"
        );
    }

    fn consent(token: &str) -> ConsentRow {
        ConsentRow {
            chain_id: "g-1".into(),
            token_id: token.into(),
            patient: "patient".into(),
            grantee: "researcher".into(),
            purpose: "p".into(),
            scope: vec!["hba1c".into()],
            expires: Expiry::Never,
            revoked: false,
        }
    }

    fn block(height: u64, changes: Vec<Change>) -> BlockBatch {
        BlockBatch {
            chain_id: "g-1".into(),
            height,
            changes,
        }
    }

    #[test]
    fn a_snapshot_survives_a_reopen_and_a_replay_equals_a_rebuild() {
        let dir = tempfile::tempdir().unwrap();
        let blocks = [
            block(1, vec![Change::Consent(consent("1"))]),
            block(2, vec![Change::Consent(consent("2"))]),
            block(
                3,
                vec![Change::RevokeConsent {
                    chain_id: "g-1".into(),
                    token_id: "1".into(),
                }],
            ),
        ];
        let crashed = dir.path().join("crashed.redb");
        let store = Store::open(&crashed).unwrap();
        store.apply_many(&blocks[..2]).unwrap();
        drop(store);
        // After a restart the indexer may hand over a block again: it changes nothing.
        let store = Store::open(&crashed).unwrap();
        store.apply_many(&blocks[1..]).unwrap();
        let restarted = store.snapshot().unwrap();
        let rebuilt = Store::open(&dir.path().join("rebuilt.redb")).unwrap();
        rebuilt.apply_many(&blocks).unwrap();
        let rebuilt = rebuilt.snapshot().unwrap();
        assert_eq!(restarted, rebuilt);
        assert_eq!(restarted.consents.len(), 2);
        assert!(restarted.consents[0].revoked && !restarted.consents[1].revoked);
        assert_eq!(restarted.heights["g-1"], 3);
        let mut other = rebuilt.clone();
        other.consents[1].revoked = true;
        assert!(!restarted.same_rows(&other));
        other.consents[1].revoked = false;
        other.heights.insert("g-1".into(), 9);
        assert!(restarted.same_rows(&other), "heights are not rows");
    }
}
