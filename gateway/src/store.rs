//! The gateway's index: what the chains said about attestations and consent, durable in redb
//! and served from memory.
//!
//! redb (pure Rust, ACID, one file, crash-safe commits) holds every row and each chain's last
//! indexed height; a block's changes and its height commit in one write transaction, so a
//! restart resumes at the next block with nothing lost or applied twice. Queries never touch
//! the disk: the rows are loaded at start into an in-memory index grouped by grantee, which is
//! what keeps `CountCohort` within milliseconds on a large index.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::sync::RwLock;

use redb::{Database, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};

const HEIGHTS: TableDefinition<&str, u64> = TableDefinition::new("heights");
const ATTESTATIONS: TableDefinition<(&str, u64), &[u8]> = TableDefinition::new("attestations");
const CONSENTS: TableDefinition<(&str, &str), &[u8]> = TableDefinition::new("consents");
const STAKING: TableDefinition<(&str, &str), &[u8]> = TableDefinition::new("staking_events");

#[derive(Debug, thiserror::Error)]
#[error("index database: {0}")]
pub struct StoreError(String);

fn db_err(e: impl std::fmt::Display) -> StoreError {
    StoreError(e.to_string())
}

/// One attestation as recorded on `chain_id` (locally verified or received over IBC).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AttestationRow {
    pub chain_id: String,
    pub id: u64,
    /// The proof's context: chain the consent lives on, consent token, grantee.
    pub source_chain: String,
    pub consent_id: String,
    pub grantee: String,
    pub source_id: u64,
    pub channel_id: String,
    pub sequence: u64,
    pub relayer: String,
    pub circuit_id: String,
    pub attribute: String,
    pub op: String,
    pub values: Vec<u64>,
    pub commitment: String,
    pub attester: String,
    pub proof: Vec<u8>,
    pub recorded_at: u64,
    pub expires_at: Option<u64>,
    pub revoked: bool,
    pub height: u64,
    pub tx_hash: String,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub enum Expiry {
    Never,
    AtHeight(u64),
    AtTime(u64),
}

/// A consent token as granted on `chain_id`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ConsentRow {
    pub chain_id: String,
    pub token_id: String,
    pub grantee: String,
    pub purpose: String,
    pub scope: Vec<String>,
    pub expires: Expiry,
    pub revoked: bool,
}

/// What one block changed.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    Attestation(Box<AttestationRow>),
    Consent(ConsentRow),
    RevokeConsent {
        chain_id: String,
        token_id: String,
    },
    /// Attestations on `chain_id` made under consent (`source_chain`, `consent_id`).
    RevokeAttestations {
        chain_id: String,
        source_chain: String,
        consent_id: String,
    },
    Staking {
        chain_id: String,
        address: String,
        event: String,
        height: u64,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct BlockBatch {
    pub chain_id: String,
    pub height: u64,
    pub changes: Vec<Change>,
}

type Key = (String, u64);

/// `chain/token`: a consent's key in the index.
pub fn consent_key(chain_id: &str, token_id: &str) -> String {
    format!("{chain_id}/{token_id}")
}

/// An attestation row with its consent's key precomputed.
struct Indexed {
    row: AttestationRow,
    consent_key: String,
}

/// Why an attestation does or does not count, as the API reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validity {
    Valid,
    Revoked,
    Expired,
    ConsentUnknown,
}

#[derive(Default)]
struct Index {
    heights: BTreeMap<String, u64>,
    attestations: HashMap<Key, Indexed>,
    by_grantee: HashMap<String, Vec<Key>>,
    /// Keyed by [`consent_key`], so lookups from a row allocate nothing.
    consents: HashMap<String, ConsentRow>,
    grantees: HashSet<String>,
}

impl Index {
    fn insert_attestation(&mut self, row: AttestationRow) {
        let key = (row.chain_id.clone(), row.id);
        let consent_key = consent_key(&row.source_chain, &row.consent_id);
        let grantee = row.grantee.clone();
        if self
            .attestations
            .insert(key.clone(), Indexed { row, consent_key })
            .is_none()
        {
            self.by_grantee.entry(grantee).or_default().push(key);
        }
    }

    fn apply(&mut self, change: &Change) {
        match change {
            Change::Attestation(row) => self.insert_attestation((**row).clone()),
            Change::Consent(row) => {
                self.grantees.insert(row.grantee.clone());
                self.consents
                    .insert(consent_key(&row.chain_id, &row.token_id), row.clone());
            }
            Change::RevokeConsent { chain_id, token_id } => {
                if let Some(c) = self.consents.get_mut(&consent_key(chain_id, token_id)) {
                    c.revoked = true;
                }
            }
            Change::RevokeAttestations {
                chain_id,
                source_chain,
                consent_id,
            } => {
                for Indexed { row, .. } in self.attestations.values_mut() {
                    if &row.chain_id == chain_id
                        && &row.source_chain == source_chain
                        && &row.consent_id == consent_id
                    {
                        row.revoked = true;
                    }
                }
            }
            Change::Staking { .. } => {}
        }
    }
}

/// Filters of `count_cohort` and `list`.
#[derive(Debug, Clone, Default)]
pub struct Query<'a> {
    pub chains: &'a [String],
    pub attribute: Option<&'a str>,
    pub predicate: Option<(&'a str, &'a [u64])>,
    pub purpose: Option<&'a str>,
    pub consent_id: Option<&'a str>,
    pub commitment: Option<&'a str>,
}

pub struct Store {
    db: Database,
    index: RwLock<Index>,
}

impl Store {
    /// Opens (or creates) the database and loads the index.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(db_err)?;
        }
        let db = Database::create(path).map_err(db_err)?;
        let tx = db.begin_write().map_err(db_err)?;
        tx.open_table(HEIGHTS).map_err(db_err)?;
        tx.open_table(ATTESTATIONS).map_err(db_err)?;
        tx.open_table(CONSENTS).map_err(db_err)?;
        tx.open_table(STAKING).map_err(db_err)?;
        tx.commit().map_err(db_err)?;
        let store = Store {
            db,
            index: RwLock::new(Index::default()),
        };
        store.load()?;
        Ok(store)
    }

    fn load(&self) -> Result<(), StoreError> {
        let tx = self.db.begin_read().map_err(db_err)?;
        let mut index = Index::default();
        for item in tx
            .open_table(HEIGHTS)
            .map_err(db_err)?
            .iter()
            .map_err(db_err)?
        {
            let (k, v) = item.map_err(db_err)?;
            index.heights.insert(k.value().to_string(), v.value());
        }
        for item in tx
            .open_table(CONSENTS)
            .map_err(db_err)?
            .iter()
            .map_err(db_err)?
        {
            let row: ConsentRow =
                serde_json::from_slice(item.map_err(db_err)?.1.value()).map_err(db_err)?;
            index.apply(&Change::Consent(row));
        }
        for item in tx
            .open_table(ATTESTATIONS)
            .map_err(db_err)?
            .iter()
            .map_err(db_err)?
        {
            let row: AttestationRow =
                serde_json::from_slice(item.map_err(db_err)?.1.value()).map_err(db_err)?;
            index.insert_attestation(row);
        }
        *self.index.write().expect("index lock") = index;
        Ok(())
    }

    pub fn height(&self, chain_id: &str) -> u64 {
        self.index
            .read()
            .expect("index lock")
            .heights
            .get(chain_id)
            .copied()
            .unwrap_or(0)
    }

    pub fn heights(&self) -> BTreeMap<String, u64> {
        self.index.read().expect("index lock").heights.clone()
    }

    /// Writes a block's changes and its height atomically, then updates the index.
    pub fn apply(&self, batch: &BlockBatch) -> Result<(), StoreError> {
        self.apply_many(std::slice::from_ref(batch))
    }

    /// Several blocks in one write transaction (bulk loads, catching up).
    pub fn apply_many(&self, batches: &[BlockBatch]) -> Result<(), StoreError> {
        let mut index = self.index.write().expect("index lock");
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
                            if let Some(row) = index.consents.get(&consent_key(chain_id, token_id))
                            {
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
                            for row in index.attestations.values().map(|i| &i.row).filter(|r| {
                                &r.chain_id == chain_id
                                    && &r.source_chain == source_chain
                                    && &r.consent_id == consent_id
                            }) {
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
                            let key = format!("{address}/{height}/{event}");
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
            }
        }
        tx.commit().map_err(db_err)
    }

    /// Whether any consent was ever granted to `address` (a key the gateway knows).
    pub fn knows_grantee(&self, address: &str) -> bool {
        self.index
            .read()
            .expect("index lock")
            .grantees
            .contains(address)
    }

    pub fn attestation(
        &self,
        chain_id: &str,
        id: u64,
    ) -> Option<(AttestationRow, Option<ConsentRow>)> {
        let index = self.index.read().expect("index lock");
        let indexed = index.attestations.get(&(chain_id.to_string(), id))?;
        let consent = index.consents.get(&indexed.consent_key).cloned();
        Some((indexed.row.clone(), consent))
    }

    /// Validity now (`now` unix seconds) of the attestation `chain_id`/`id`.
    pub fn validity(&self, chain_id: &str, id: u64, now: u64) -> Option<Validity> {
        let index = self.index.read().expect("index lock");
        let indexed = index.attestations.get(&(chain_id.to_string(), id))?;
        Some(validity(&index, indexed, now))
    }

    /// Distinct commitments among `grantee`'s valid attestations matching `q`.
    pub fn count_cohort(&self, grantee: &str, q: &Query, now: u64) -> u64 {
        let index = self.index.read().expect("index lock");
        let mut subjects: HashSet<&str> = HashSet::new();
        for key in index
            .by_grantee
            .get(grantee)
            .map(Vec::as_slice)
            .unwrap_or_default()
        {
            let indexed = &index.attestations[key];
            if matches(&index, indexed, q) && validity(&index, indexed, now) == Validity::Valid {
                subjects.insert(&indexed.row.commitment);
            }
        }
        subjects.len() as u64
    }

    /// `grantee`'s attestations matching `q`, ordered by (chain, id), after `start_after`.
    pub fn list(
        &self,
        grantee: &str,
        q: &Query,
        include_invalid: bool,
        start_after: Option<&(String, u64)>,
        limit: usize,
        now: u64,
    ) -> Vec<(AttestationRow, Option<ConsentRow>, Validity)> {
        let index = self.index.read().expect("index lock");
        let mut keys: Vec<&Key> = index
            .by_grantee
            .get(grantee)
            .map(|v| {
                v.iter()
                    .filter(|k| start_after.is_none_or(|s| *k > s))
                    .collect()
            })
            .unwrap_or_default();
        keys.sort();
        keys.into_iter()
            .map(|k| &index.attestations[k])
            .filter(|i| matches(&index, i, q))
            .map(|i| (i, validity(&index, i, now)))
            .filter(|(_, v)| include_invalid || *v == Validity::Valid)
            .take(limit)
            .map(|(i, v)| {
                (
                    i.row.clone(),
                    index.consents.get(&i.consent_key).cloned(),
                    v,
                )
            })
            .collect()
    }
}

fn json<T: Serialize>(row: &T) -> Vec<u8> {
    serde_json::to_vec(row).expect("rows serialize")
}

fn matches(index: &Index, indexed: &Indexed, q: &Query) -> bool {
    let row = &indexed.row;
    (q.chains.is_empty() || q.chains.iter().any(|c| c == &row.chain_id))
        && q.attribute.is_none_or(|a| a == row.attribute)
        && q.predicate
            .is_none_or(|(op, values)| op == row.op && values == row.values.as_slice())
        && q.consent_id.is_none_or(|c| c == row.consent_id)
        && q.commitment
            .is_none_or(|c| c.eq_ignore_ascii_case(&row.commitment))
        && q.purpose.is_none_or(|p| {
            index
                .consents
                .get(&indexed.consent_key)
                .is_some_and(|c| c.purpose == p)
        })
}

fn validity(index: &Index, indexed: &Indexed, now: u64) -> Validity {
    let row = &indexed.row;
    let Some(consent) = index.consents.get(&indexed.consent_key) else {
        return Validity::ConsentUnknown;
    };
    if row.revoked || consent.revoked {
        return Validity::Revoked;
    }
    let consent_expired = match consent.expires {
        Expiry::Never => false,
        Expiry::AtTime(t) => now >= t,
        Expiry::AtHeight(h) => index
            .heights
            .get(&consent.chain_id)
            .is_some_and(|current| *current >= h),
    };
    if consent_expired || row.expires_at.is_some_and(|t| now >= t) {
        return Validity::Expired;
    }
    Validity::Valid
}
