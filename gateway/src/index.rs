//! The in-memory index the queries run on, rebuilt from the database at start.
//!
//! Rows live in a vector and are referred to by slot, so a query touches no hash map per row:
//! `by_query` maps (grantee, attribute, predicate) to its slots, each row carries the slot of
//! its consent (resolved when the consent is indexed, whichever comes first), and revocations
//! find their rows through `by_consent`.
//!
//! Cohort counts are cached per (grantee, query) until the index changes (any block applied)
//! or the earliest expiry among the counted attestations and consents passes, whichever comes
//! first: researchers repeat queries far more often than chains produce blocks.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Mutex;

use crate::store::{AttestationRow, Change, ConsentRow, Expiry};

/// Why an attestation does or does not count, as the API reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validity {
    Valid,
    Revoked,
    Expired,
    ConsentUnknown,
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

/// `chain/token`: a consent's key in the index.
pub fn consent_key(chain_id: &str, token_id: &str) -> String {
    format!("{chain_id}/{token_id}")
}

fn query_key(grantee: &str, attribute: &str, op: &str, values: &[u64]) -> String {
    format!("{grantee}|{attribute}|{op}|{values:?}")
}

struct Slot {
    row: AttestationRow,
    consent: Option<usize>,
}

#[derive(Default)]
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
    /// Bumped by every applied block: cached counts of an older version are stale.
    version: u64,
    counts: Mutex<HashMap<String, CachedCount>>,
}

#[derive(Clone, Copy)]
struct CachedCount {
    version: u64,
    /// Unix seconds of the earliest expiry among what was counted.
    valid_until: u64,
    count: u64,
}

impl Index {
    /// Marks every cached count stale (called once per applied block).
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

    pub fn knows_grantee(&self, address: &str) -> bool {
        self.grantees.contains(address)
    }

    /// A row, its consent and its validity now.
    pub fn get(
        &self,
        chain_id: &str,
        id: u64,
        now: u64,
    ) -> Option<(AttestationRow, Option<ConsentRow>, Validity)> {
        let slot = &self.rows[*self.row_of.get(&(chain_id.to_string(), id))?];
        Some((
            slot.row.clone(),
            self.consent_of_slot(slot).cloned(),
            self.validity(slot, now),
        ))
    }

    fn consent_of_slot(&self, slot: &Slot) -> Option<&ConsentRow> {
        slot.consent.map(|c| &self.consents[c])
    }

    /// The slots a query may match: its (grantee, attribute, predicate) bucket if it names
    /// one, else all of the grantee's.
    fn candidates(&self, grantee: &str, q: &Query) -> &[usize] {
        let bucket = match (q.attribute, q.predicate) {
            (Some(attribute), Some((op, values))) => self
                .by_query
                .get(&query_key(grantee, attribute, op, values)),
            _ => self.by_grantee.get(grantee),
        };
        bucket.map(Vec::as_slice).unwrap_or_default()
    }

    /// Distinct commitments among `grantee`'s valid attestations matching `q`.
    pub fn count_cohort(&self, grantee: &str, q: &Query, now: u64) -> u64 {
        let key = format!(
            "{grantee}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}",
            q.chains, q.attribute, q.predicate, q.purpose, q.consent_id, q.commitment
        );
        let cached = self
            .counts
            .lock()
            .expect("count cache lock")
            .get(&key)
            .copied();
        if let Some(c) = cached.filter(|c| c.version == self.version && now < c.valid_until) {
            return c.count;
        }
        let mut subjects: HashSet<&str> = HashSet::new();
        let mut valid_until = u64::MAX;
        for &s in self.candidates(grantee, q) {
            let slot = &self.rows[s];
            if self.matches(slot, q) && self.validity(slot, now) == Validity::Valid {
                subjects.insert(&slot.row.commitment);
                valid_until = valid_until.min(self.expiry(slot));
            }
        }
        let count = subjects.len() as u64;
        let entry = CachedCount {
            version: self.version,
            valid_until,
            count,
        };
        self.counts
            .lock()
            .expect("count cache lock")
            .insert(key, entry);
        count
    }

    /// When a valid row stops counting by time: its own or its consent's expiry.
    fn expiry(&self, slot: &Slot) -> u64 {
        let consent = match self.consent_of_slot(slot).map(|c| c.expires) {
            Some(Expiry::AtTime(t)) => t,
            _ => u64::MAX,
        };
        slot.row.expires_at.unwrap_or(u64::MAX).min(consent)
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
        let mut slots: Vec<&Slot> = self
            .candidates(grantee, q)
            .iter()
            .map(|&s| &self.rows[s])
            .filter(|slot| {
                start_after
                    .is_none_or(|(chain, id)| (&slot.row.chain_id, slot.row.id) > (chain, *id))
            })
            .collect();
        slots.sort_by(|a, b| (&a.row.chain_id, a.row.id).cmp(&(&b.row.chain_id, b.row.id)));
        slots
            .into_iter()
            .filter(|slot| self.matches(slot, q))
            .map(|slot| (slot, self.validity(slot, now)))
            .filter(|(_, v)| include_invalid || *v == Validity::Valid)
            .take(limit)
            .map(|(slot, v)| (slot.row.clone(), self.consent_of_slot(slot).cloned(), v))
            .collect()
    }

    fn matches(&self, slot: &Slot, q: &Query) -> bool {
        let row = &slot.row;
        (q.chains.is_empty() || q.chains.iter().any(|c| c == &row.chain_id))
            && q.attribute.is_none_or(|a| a == row.attribute)
            && q.predicate
                .is_none_or(|(op, values)| op == row.op && values == row.values.as_slice())
            && q.consent_id.is_none_or(|c| c == row.consent_id)
            && q.commitment
                .is_none_or(|c| c.eq_ignore_ascii_case(&row.commitment))
            && q.purpose
                .is_none_or(|p| self.consent_of_slot(slot).is_some_and(|c| c.purpose == p))
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

    fn consent(expires: Expiry) -> ConsentRow {
        ConsentRow {
            chain_id: "g-1".into(),
            token_id: "1".into(),
            grantee: "r".into(),
            purpose: "p".into(),
            scope: vec![],
            expires,
            revoked: false,
        }
    }

    fn row(id: u64, commitment: &str, expires_at: Option<u64>) -> AttestationRow {
        AttestationRow {
            chain_id: "g-1".into(),
            id,
            source_chain: "g-1".into(),
            consent_id: "1".into(),
            grantee: "r".into(),
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

    #[test]
    fn cached_counts_expire_with_what_they_counted_and_with_changes() {
        let mut index = Index::default();
        // The attestation arrives before its consent: resolved when the consent is indexed.
        index.apply(&Change::Attestation(Box::new(row(1, "aa", Some(200)))));
        index.apply(&Change::Attestation(Box::new(row(2, "bb", None))));
        let q = Query {
            attribute: Some("a"),
            predicate: Some(("lt", &[1])),
            purpose: Some("p"),
            ..Query::default()
        };
        assert_eq!(index.count_cohort("r", &q, 50), 0, "no consent yet");
        index.apply(&Change::Consent(consent(Expiry::AtTime(100))));
        assert_eq!(index.count_cohort("r", &q, 50), 2);
        assert_eq!(index.count_cohort("r", &q, 60), 2, "cached");
        assert_eq!(
            index.count_cohort("r", &q, 100),
            0,
            "the consent expired at 100"
        );
        index.apply(&Change::Consent(consent(Expiry::Never)));
        assert_eq!(index.count_cohort("r", &q, 150), 2);
        assert_eq!(
            index.count_cohort("r", &q, 200),
            1,
            "attestation 1 expired at 200"
        );
        index.apply(&Change::RevokeConsent {
            chain_id: "g-1".into(),
            token_id: "1".into(),
        });
        assert_eq!(
            index.count_cohort("r", &q, 200),
            0,
            "a change invalidates the cache"
        );
    }
}
