//! The in-memory index the queries run on, rebuilt from the database at start.
//!
//! Rows live in a vector and are referred to by slot, so a query touches no hash map per row:
//! `by_query` maps (grantee, attribute, predicate) to its slots, each row carries the slot of
//! its consent (resolved when the consent is indexed, whichever comes first), and revocations
//! find their rows through `by_consent`.
//!
//! Cohorts count **patients** (the pseudonymous address on the consent an attestation names),
//! never commitments or rows, and are kept by *region*: for each set of chains, how many
//! patients hold member consents on exactly those chains. That is what complementary
//! suppression needs (see [`Regions::publishable`]). Cohorts are cached per (grantee,
//! statement, purpose, chains) in a bounded LRU until the index changes (any block applied)
//! or the earliest expiry among what they counted passes, whichever comes first.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};

use lru::LruCache;

use crate::rows::{AttestationRow, Change, ConsentRow, Expiry};

/// Cohorts kept in the cache unless configured otherwise.
pub const DEFAULT_COHORT_CACHE: usize = 4096;

/// Why an attestation does or does not count, as the API reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validity {
    Valid,
    Revoked,
    Expired,
    ConsentUnknown,
}

/// Filters of `list`.
#[derive(Debug, Clone, Default)]
pub struct Query<'a> {
    /// Chains the rows are recorded on; empty = any.
    pub chains: &'a [String],
    pub consent_id: Option<&'a str>,
}

/// A cohort: the patients whose consent — granted to `grantee` for `purpose`, with
/// `attribute` in its scope — carries an attestation of exactly `attribute op values`.
#[derive(Debug, Clone, Copy)]
pub struct CohortKey<'a> {
    pub grantee: &'a str,
    pub attribute: &'a str,
    pub op: &'a str,
    pub values: &'a [u64],
    pub purpose: &'a str,
}

/// The bit of `chain` among `universe` (the chains the gateway serves, in a fixed order);
/// `None` for a chain outside it, or past the 64th.
pub fn chain_bit(universe: &[String], chain: &str) -> Option<u64> {
    let i = universe.iter().position(|c| c == chain)?;
    (i < 64).then(|| 1u64 << i)
}

/// A cohort's patients by region: `region bits → patients` whose member consents lie on
/// exactly those chains (bit i = the universe's i-th chain).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Regions(BTreeMap<u64, u64>);

impl Regions {
    /// From each patient's region bits (patients with no bits are not in the cohort).
    fn of(bits: impl Iterator<Item = u64>) -> Self {
        let mut regions = BTreeMap::new();
        for bits in bits.filter(|b| *b != 0) {
            *regions.entry(bits).or_insert(0) += 1;
        }
        Regions(regions)
    }

    /// Distinct patients with a member consent on at least one chain of `chains` (bits).
    pub fn count(&self, chains: u64) -> u64 {
        self.0
            .iter()
            .filter(|(region, _)| *region & chains != 0)
            .map(|(_, n)| n)
            .sum()
    }

    /// The count over `chains`, if it may be published: at least `k`, and every region it
    /// adds up is itself at least `k`. A count made only of such regions is also all that
    /// any other published count is made of, so no difference or combination of published
    /// counts (over other chain sets) isolates a region of 1..k-1 patients.
    pub fn publishable(&self, chains: u64, k: u64) -> Option<u64> {
        let mut total = 0;
        for (region, n) in &self.0 {
            if region & chains != 0 {
                if *n < k {
                    return None;
                }
                total += n;
            }
        }
        (total >= k).then_some(total)
    }

    /// Every region has at least `k` patients: every chain set's count is publishable.
    pub fn all_safe(&self, k: u64) -> bool {
        self.0.values().all(|n| *n >= k)
    }
}

/// One cohort, as counted now.
#[derive(Debug, Clone, Default)]
pub struct Cohort {
    /// Patients with a valid attestation (what `CountCohort` counts).
    pub valid: Regions,
    /// Patients with any attestation of the statement, valid, revoked or expired.
    pub all: Regions,
}

fn query_key(grantee: &str, attribute: &str, op: &str, values: &[u64]) -> String {
    format!("{grantee}|{attribute}|{op}|{values:?}")
}

/// `chain/token`: a consent's key in the index.
pub fn consent_key(chain_id: &str, token_id: &str) -> String {
    format!("{chain_id}/{token_id}")
}

struct Slot {
    row: AttestationRow,
    consent: Option<usize>,
}

pub struct Index {
    pub heights: BTreeMap<String, u64>,
    rows: Vec<Slot>,
    row_of: HashMap<(String, u64), usize>,
    by_grantee: HashMap<String, Vec<usize>>,
    by_query: HashMap<String, Vec<usize>>,
    by_consent: HashMap<String, Vec<usize>>,
    consents: Vec<ConsentRow>,
    consent_of: HashMap<String, usize>,
    grantees: HashSet<String>,
    /// Bumped by every applied block: cached cohorts of an older version are stale.
    version: u64,
    cohorts: Mutex<LruCache<String, CachedCohort>>,
}

impl Default for Index {
    fn default() -> Self {
        Index {
            heights: BTreeMap::new(),
            rows: vec![],
            row_of: HashMap::new(),
            by_grantee: HashMap::new(),
            by_query: HashMap::new(),
            by_consent: HashMap::new(),
            consents: vec![],
            consent_of: HashMap::new(),
            grantees: HashSet::new(),
            version: 0,
            cohorts: Mutex::new(LruCache::new(
                NonZeroUsize::new(DEFAULT_COHORT_CACHE).expect("non-zero"),
            )),
        }
    }
}

#[derive(Clone)]
struct CachedCohort {
    version: u64,
    /// Unix seconds of the earliest expiry among what was counted.
    valid_until: u64,
    cohort: Arc<Cohort>,
}

impl Index {
    /// How many cohorts the cache keeps (least recently used ones are evicted); at least 1.
    pub fn set_cohort_cache_capacity(&self, capacity: usize) {
        self.cohorts
            .lock()
            .expect("cohort cache lock")
            .resize(NonZeroUsize::new(capacity.max(1)).expect("non-zero"));
    }

    /// Cohorts in the cache now.
    pub fn cached_cohorts(&self) -> usize {
        self.cohorts.lock().expect("cohort cache lock").len()
    }

    /// Marks every cached cohort stale (called once per applied block).
    pub(crate) fn bump(&mut self) {
        self.version += 1;
    }

    pub(crate) fn apply(&mut self, change: &Change) {
        self.version += 1;
        match change {
            Change::Attestation(row) => self.insert_attestation((**row).clone()),
            Change::Consent(row) => self.insert_consent(row.clone()),
            Change::RevokeConsent { chain_id, token_id } => {
                if let Some(&c) = self.consent_of.get(&consent_key(chain_id, token_id)) {
                    self.consents[c].revoked = true;
                }
            }
            Change::RevokeAttestations {
                chain_id,
                source_chain,
                consent_id,
            } => {
                for &slot in self
                    .by_consent
                    .get(&consent_key(source_chain, consent_id))
                    .into_iter()
                    .flatten()
                {
                    if &self.rows[slot].row.chain_id == chain_id {
                        self.rows[slot].row.revoked = true;
                    }
                }
            }
            Change::RevokeAttester {
                chain_id,
                source_chain,
                attester,
            } => {
                // Slashes are rare: a scan, not another index.
                for slot in &mut self.rows {
                    let row = &mut slot.row;
                    if &row.chain_id == chain_id
                        && &row.source_chain == source_chain
                        && &row.attester == attester
                    {
                        row.revoked = true;
                    }
                }
            }
            Change::Staking { .. } => {}
        }
    }

    fn insert_attestation(&mut self, row: AttestationRow) {
        let key = (row.chain_id.clone(), row.id);
        let ckey = consent_key(&row.source_chain, &row.consent_id);
        let consent = self.consent_of.get(&ckey).copied();
        if let Some(&slot) = self.row_of.get(&key) {
            self.rows[slot] = Slot { row, consent };
            return;
        }
        let slot = self.rows.len();
        self.by_grantee
            .entry(row.grantee.clone())
            .or_default()
            .push(slot);
        self.by_query
            .entry(query_key(
                &row.grantee,
                &row.attribute,
                &row.op,
                &row.values,
            ))
            .or_default()
            .push(slot);
        self.by_consent.entry(ckey).or_default().push(slot);
        self.row_of.insert(key, slot);
        self.rows.push(Slot { row, consent });
    }

    fn insert_consent(&mut self, row: ConsentRow) {
        let key = consent_key(&row.chain_id, &row.token_id);
        self.grantees.insert(row.grantee.clone());
        let c = match self.consent_of.get(&key) {
            Some(&c) => {
                self.consents[c] = row;
                c
            }
            None => {
                self.consents.push(row);
                self.consent_of.insert(key.clone(), self.consents.len() - 1);
                self.consents.len() - 1
            }
        };
        for &slot in self.by_consent.get(&key).into_iter().flatten() {
            self.rows[slot].consent = Some(c);
        }
    }

    pub fn consent(&self, chain_id: &str, token_id: &str) -> Option<&ConsentRow> {
        self.consent_of
            .get(&consent_key(chain_id, token_id))
            .map(|&c| &self.consents[c])
    }

    /// Rows on `chain_id` under consent (`source_chain`, `consent_id`).
    pub fn rows_under<'a>(
        &'a self,
        chain_id: &'a str,
        source_chain: &str,
        consent_id: &str,
    ) -> impl Iterator<Item = &'a AttestationRow> {
        self.by_consent
            .get(&consent_key(source_chain, consent_id))
            .into_iter()
            .flatten()
            .map(|&slot| &self.rows[slot].row)
            .filter(move |row| row.chain_id == chain_id)
    }

    pub fn rows_of_attester<'a>(
        &'a self,
        chain_id: &'a str,
        source_chain: &'a str,
        attester: &'a str,
    ) -> impl Iterator<Item = &'a AttestationRow> {
        self.rows.iter().map(|slot| &slot.row).filter(move |row| {
            row.chain_id == chain_id && row.source_chain == source_chain && row.attester == attester
        })
    }

    pub fn knows_grantee(&self, address: &str) -> bool {
        self.grantees.contains(address)
    }

    fn consent_of_slot(&self, slot: &Slot) -> Option<&ConsentRow> {
        slot.consent.map(|c| &self.consents[c])
    }

    /// The consent that covers a row: indexed, granted to the grantee the proof names, with
    /// the attested attribute in its scope. A row without one is nobody's and counts for no
    /// one, whatever its proof's context says.
    fn covering_consent(&self, slot: &Slot) -> Option<&ConsentRow> {
        let consent = self.consent_of_slot(slot)?;
        let covers =
            consent.grantee == slot.row.grantee && consent.scope.contains(&slot.row.attribute);
        covers.then_some(consent)
    }

    /// The cohort `key` defines, over the chains of `universe`: a row counts if it is recorded
    /// on one of them and covered by a consent granted on one of them, for `key.purpose`; its
    /// patient is that consent's, and the consent's chain is the patient's region bit.
    pub fn cohort(&self, key: &CohortKey, universe: &[String], now: u64) -> Arc<Cohort> {
        let cache_key = format!(
            "{}|{}|{}|{:?}|{}|{:?}",
            key.grantee, key.attribute, key.op, key.values, key.purpose, universe
        );
        let cached = self
            .cohorts
            .lock()
            .expect("cohort cache lock")
            .get(cache_key.as_str())
            .cloned();
        if let Some(c) = cached.filter(|c| c.version == self.version && now < c.valid_until) {
            return c.cohort;
        }
        let bucket = self
            .by_query
            .get(&query_key(key.grantee, key.attribute, key.op, key.values))
            .map(Vec::as_slice)
            .unwrap_or_default();
        // Patient → (region bits counting valid attestations, counting all).
        let mut patients: HashMap<&str, (u64, u64)> = HashMap::with_capacity(bucket.len());
        let mut valid_until = u64::MAX;
        for &s in bucket {
            let slot = &self.rows[s];
            let Some(consent) = self.covering_consent(slot) else {
                continue;
            };
            if consent.purpose != key.purpose || chain_bit(universe, &slot.row.chain_id).is_none() {
                continue;
            }
            let Some(bit) = chain_bit(universe, &consent.chain_id) else {
                continue;
            };
            let entry = patients.entry(consent.patient.as_str()).or_default();
            entry.1 |= bit;
            if self.validity(slot, now) == Validity::Valid {
                entry.0 |= bit;
                valid_until = valid_until.min(self.expiry(slot));
            }
        }
        let cohort = Arc::new(Cohort {
            valid: Regions::of(patients.values().map(|b| b.0)),
            all: Regions::of(patients.values().map(|b| b.1)),
        });
        self.cohorts.lock().expect("cohort cache lock").put(
            cache_key,
            CachedCohort {
                version: self.version,
                valid_until,
                cohort: cohort.clone(),
            },
        );
        cohort
    }

    /// When a valid row stops counting by time: its own or its consent's expiry.
    fn expiry(&self, slot: &Slot) -> u64 {
        let consent = match self.consent_of_slot(slot).map(|c| c.expires) {
            Some(Expiry::AtTime(t)) => t,
            _ => u64::MAX,
        };
        slot.row.expires_at.unwrap_or(u64::MAX).min(consent)
    }

    /// Whether `grantee` may see a row on its own: covered by a consent granted to them, both
    /// on served chains, and in a cohort every region of which — counting valid attestations,
    /// and counting all — holds at least `k` patients. Rows of a smaller cohort stay hidden:
    /// listing them would count it.
    fn visible(
        &self,
        slot: &Slot,
        grantee: &str,
        universe: &[String],
        k: u64,
        now: u64,
    ) -> Option<&ConsentRow> {
        if slot.row.grantee != grantee {
            return None;
        }
        let consent = self.covering_consent(slot)?;
        chain_bit(universe, &consent.chain_id)?;
        chain_bit(universe, &slot.row.chain_id)?;
        let key = CohortKey {
            grantee,
            attribute: &slot.row.attribute,
            op: &slot.row.op,
            values: &slot.row.values,
            purpose: &consent.purpose,
        };
        let cohort = self.cohort(&key, universe, now);
        (cohort.valid.all_safe(k) && cohort.all.all_safe(k)).then_some(consent)
    }

    /// A row `grantee` may see (see `visible`), its consent and its validity now.
    pub fn get(
        &self,
        grantee: &str,
        chain_id: &str,
        id: u64,
        universe: &[String],
        k: u64,
        now: u64,
    ) -> Option<(AttestationRow, ConsentRow, Validity)> {
        let slot = &self.rows[*self.row_of.get(&(chain_id.to_string(), id))?];
        let consent = self.visible(slot, grantee, universe, k, now)?;
        Some((slot.row.clone(), consent.clone(), self.validity(slot, now)))
    }

    /// The rows `grantee` may see matching `q`, ordered by (chain, id), after `start_after`.
    #[allow(clippy::too_many_arguments)]
    pub fn list(
        &self,
        grantee: &str,
        q: &Query,
        include_invalid: bool,
        start_after: Option<&(String, u64)>,
        limit: usize,
        universe: &[String],
        k: u64,
        now: u64,
    ) -> Vec<(AttestationRow, ConsentRow, Validity)> {
        let mut slots: Vec<&Slot> = self
            .by_grantee
            .get(grantee)
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .map(|&s| &self.rows[s])
            .filter(|slot| {
                let row = &slot.row;
                (q.chains.is_empty() || q.chains.contains(&row.chain_id))
                    && q.consent_id.is_none_or(|c| c == row.consent_id)
                    && start_after.is_none_or(|(chain, id)| (&row.chain_id, row.id) > (chain, *id))
            })
            .collect();
        slots.sort_by(|a, b| (&a.row.chain_id, a.row.id).cmp(&(&b.row.chain_id, b.row.id)));
        slots
            .into_iter()
            .map(|slot| (slot, self.validity(slot, now)))
            .filter(|(_, v)| include_invalid || *v == Validity::Valid)
            .filter_map(|(slot, v)| {
                let consent = self.visible(slot, grantee, universe, k, now)?;
                Some((slot.row.clone(), consent.clone(), v))
            })
            .take(limit)
            .collect()
    }

    fn validity(&self, slot: &Slot, now: u64) -> Validity {
        let row = &slot.row;
        let Some(consent) = self.consent_of_slot(slot) else {
            return Validity::ConsentUnknown;
        };
        if row.revoked || consent.revoked {
            return Validity::Revoked;
        }
        let consent_expired = match consent.expires {
            Expiry::Never => false,
            Expiry::AtTime(t) => now >= t,
            Expiry::AtHeight(h) => self
                .heights
                .get(&consent.chain_id)
                .is_some_and(|current| *current >= h),
        };
        if consent_expired || row.expires_at.is_some_and(|t| now >= t) {
            return Validity::Expired;
        }
        Validity::Valid
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn consent(token: &str, patient: &str, expires: Expiry) -> ConsentRow {
        ConsentRow {
            chain_id: "g-1".into(),
            token_id: token.into(),
            patient: patient.into(),
            grantee: "r".into(),
            purpose: "p".into(),
            scope: vec!["a".into()],
            expires,
            revoked: false,
        }
    }

    fn row(id: u64, token: &str, commitment: &str, expires_at: Option<u64>) -> AttestationRow {
        AttestationRow {
            chain_id: "g-1".into(),
            id,
            source_chain: "g-1".into(),
            consent_id: token.into(),
            grantee: "r".into(),
            consent_contract: "c".into(),
            source_id: id,
            channel_id: String::new(),
            sequence: 0,
            relayer: String::new(),
            circuit_id: "c".into(),
            attribute: "a".into(),
            op: "lt".into(),
            values: vec![1],
            commitment: commitment.into(),
            attester: String::new(),
            proof: vec![],
            recorded_at: 0,
            expires_at,
            revoked: false,
            height: 1,
            tx_hash: String::new(),
        }
    }

    const KEY: CohortKey = CohortKey {
        grantee: "r",
        attribute: "a",
        op: "lt",
        values: &[1],
        purpose: "p",
    };

    fn count(index: &Index, now: u64) -> u64 {
        let universe = ["g-1".to_string()];
        index.cohort(&KEY, &universe, now).valid.count(1)
    }

    #[test]
    fn cached_cohorts_expire_with_what_they_counted_and_with_changes() {
        let mut index = Index::default();
        // The attestations arrive before their consents: resolved when those are indexed.
        index.apply(&Change::Attestation(Box::new(row(1, "1", "aa", Some(200)))));
        index.apply(&Change::Attestation(Box::new(row(2, "2", "bb", None))));
        assert_eq!(count(&index, 50), 0, "no consent yet");
        index.apply(&Change::Consent(consent("1", "p1", Expiry::AtTime(100))));
        index.apply(&Change::Consent(consent("2", "p2", Expiry::AtTime(100))));
        assert_eq!(count(&index, 50), 2);
        assert_eq!(count(&index, 60), 2, "cached");
        assert_eq!(count(&index, 100), 0, "the consents expired at 100");
        index.apply(&Change::Consent(consent("1", "p1", Expiry::Never)));
        index.apply(&Change::Consent(consent("2", "p2", Expiry::Never)));
        assert_eq!(count(&index, 150), 2);
        assert_eq!(count(&index, 200), 1, "attestation 1 expired at 200");
        index.apply(&Change::RevokeConsent {
            chain_id: "g-1".into(),
            token_id: "2".into(),
        });
        assert_eq!(count(&index, 200), 0, "a change invalidates the cache");
    }

    #[test]
    fn m7_one_patient_counts_once_whatever_their_commitments_and_consents() {
        let mut index = Index::default();
        for i in 1..=6u64 {
            let token = i.to_string();
            index.apply(&Change::Consent(consent(&token, "same", Expiry::Never)));
            let commitment = format!("{i:064x}");
            index.apply(&Change::Attestation(Box::new(row(
                i,
                &token,
                &commitment,
                None,
            ))));
        }
        assert_eq!(count(&index, 1), 1);
    }

    #[test]
    fn m7_regions_publish_only_counts_made_of_regions_of_k_or_more() {
        // Bits: G = 1, T = 2, B = 4. 6 patients only on G, 2 only on T, 5 on both G and T.
        let regions = Regions(BTreeMap::from([(1, 6), (2, 2), (3, 5)]));
        assert_eq!(regions.count(1 | 2), 13);
        assert_eq!(
            regions.publishable(1, 5),
            Some(11),
            "G: regions {{G}}, {{G,T}}"
        );
        assert_eq!(regions.publishable(2, 5), None, "T touches the 2 of {{T}}");
        assert_eq!(
            regions.publishable(1 | 2, 5),
            None,
            "G+T minus G would be 2"
        );
        assert_eq!(regions.publishable(4, 5), None, "nobody on B: 0 < k");
        assert_eq!(regions.publishable(1 | 4, 5), Some(11));
        assert!(!regions.all_safe(5));
        assert!(regions.all_safe(2));
    }

    #[test]
    fn m8_the_cohort_cache_is_bounded() {
        let index = Index::default();
        index.set_cohort_cache_capacity(3);
        let universe = ["g-1".to_string()];
        for i in 0..10u64 {
            let values = [i];
            let key = CohortKey {
                values: &values,
                ..KEY
            };
            index.cohort(&key, &universe, 1);
        }
        assert_eq!(index.cached_cohorts(), 3);
    }
}
