//! The indexer over a synthetic chain: events become index rows, a restart resumes from the
//! last committed height without loss or double application, and a chain that goes down is
//! reported and caught up when it returns.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::*;
use hmesh_gateway::index::CohortKey;
use hmesh_gateway::indexer::{self, Contracts, IndexerConfig};
use hmesh_gateway::store::Store;

fn contracts() -> Contracts {
    Contracts {
        consent: CONSENT_CONTRACT.into(),
        attestation: ATTESTATION_CONTRACT.into(),
        staking: STAKING_CONTRACT.into(),
    }
}

fn config() -> IndexerConfig {
    IndexerConfig {
        poll: Duration::from_millis(20),
        max_backoff: Duration::from_millis(100),
        channel_capacity: 4,
    }
}

/// Runs an indexer on its own runtime until `store` reaches `height`, then drops the runtime
/// (every task stops, as in a process exit).
fn index_until(db: &std::path::Path, chain: &Arc<FakeChain>, height: u64) -> Arc<Store> {
    let store = Arc::new(Store::open(db).unwrap());
    index_while(&store, chain, |store, _| store.height(GENOMICS) < height);
    store
}

/// Runs an indexer on `store` while `running` holds (20 s at most), then drops its runtime.
fn index_while(
    store: &Arc<Store>,
    chain: &Arc<FakeChain>,
    running: impl Fn(&Store, &indexer::ChainHealth) -> bool,
) -> indexer::ChainHealth {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let health = runtime.block_on(async {
        let health = indexer::spawn(store.clone(), vec![(chain.clone(), contracts())], config());
        let now = || health.lock().unwrap()[GENOMICS].clone();
        tokio::time::timeout(Duration::from_secs(20), async {
            while running(store, &now()) {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await
        .expect("indexed in time");
        // A little longer: a follower must not make a stopped index look healthy again.
        tokio::time::sleep(Duration::from_millis(100)).await;
        now()
    });
    runtime.shutdown_timeout(Duration::from_secs(1));
    health
}

/// redb storage in memory whose writes fail while `full` is set, as on a full disk.
#[derive(Debug, Clone, Default)]
struct FillingDisk {
    memory: Arc<redb::backends::InMemoryBackend>,
    full: Arc<AtomicBool>,
}

impl FillingDisk {
    fn check(&self) -> std::io::Result<()> {
        if self.full.load(Ordering::SeqCst) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::StorageFull,
                "No space left on device",
            ));
        }
        Ok(())
    }
}

impl redb::StorageBackend for FillingDisk {
    fn len(&self) -> std::io::Result<u64> {
        self.memory.len()
    }
    fn read(&self, offset: u64, len: usize) -> std::io::Result<Vec<u8>> {
        self.memory.read(offset, len)
    }
    fn set_len(&self, len: u64) -> std::io::Result<()> {
        self.check()?;
        self.memory.set_len(len)
    }
    fn sync_data(&self, eventual: bool) -> std::io::Result<()> {
        self.check()?;
        self.memory.sync_data(eventual)
    }
    fn write(&self, offset: u64, data: &[u8]) -> std::io::Result<()> {
        self.check()?;
        self.memory.write(offset, data)
    }
}

/// Patients with a valid attestation of hba1c < 70000 under `grantee`'s consents.
fn count(store: &Store, grantee: &str) -> u64 {
    let universe = [GENOMICS.to_string()];
    let key = CohortKey {
        grantee,
        attribute: "hba1c",
        op: "lt",
        values: &[70_000],
        purpose: PURPOSE,
    };
    store.index().cohort(&key, &universe, 1_000).valid.count(1)
}

#[test]
fn restart_resumes_from_the_last_height_without_loss() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("index.redb");
    let chain = Arc::new(FakeChain::new(GENOMICS));
    let one = address(1);
    for s in 1..=6u64 {
        chain.grant(&s.to_string(), &one);
        chain.attest(s, &s.to_string(), &one, s);
    }
    let first = index_until(&db, &chain, 12);
    assert_eq!(count(&first, &one), 6);
    drop(first);

    // While the gateway is down the chain goes on: a revocation, more attestations.
    chain.revoke("6");
    for s in 7..=9u64 {
        chain.grant(&s.to_string(), &one);
        chain.attest(s, &s.to_string(), &one, s);
    }
    let fetched_before = chain.fetched.lock().unwrap().len();
    let store = index_until(&db, &chain, 19);
    // Resumed at 13: no block fetched twice, none skipped.
    let fetched: Vec<u64> = chain.fetched.lock().unwrap()[fetched_before..].to_vec();
    assert_eq!(fetched, (13..=19).collect::<Vec<_>>());
    assert_eq!(count(&store, &one), 8, "9 patients, one revoked");
    drop(store);
    // A fresh index from scratch agrees with the resumed one.
    let fresh = tempfile::tempdir().unwrap();
    let rebuilt = index_until(&fresh.path().join("index.redb"), &chain, 19);
    assert_eq!(count(&rebuilt, &one), 8);
    let reopened = Store::open(&db).unwrap();
    assert_eq!(reopened.heights(), rebuilt.heights());
}

/// A consent bought on the billing chain is minted by the consent contract when the relayer
/// delivers the purchase packet: the gateway indexes it from that transaction like any grant,
/// so the buyer's answers include the patients it covers.
#[test]
fn consents_bought_over_the_settlement_channel_count_for_the_buyer() {
    let dir = tempfile::tempdir().unwrap();
    let chain = Arc::new(FakeChain::new(GENOMICS));
    let buyer = address(7);
    for s in 1..=3u64 {
        chain.sell(&s.to_string(), &buyer);
        chain.attest(s, &s.to_string(), &buyer, s);
    }
    let store = index_until(&dir.path().join("index.redb"), &chain, 6);
    assert_eq!(count(&store, &buyer), 3);
    assert_eq!(count(&store, &address(1)), 0);
}

#[test]
fn a_chain_that_goes_down_is_reported_and_caught_up() {
    let dir = tempfile::tempdir().unwrap();
    let chain = Arc::new(FakeChain::new(GENOMICS));
    let one = address(1);
    chain.grant("1", &one);
    chain.down.store(true, Ordering::SeqCst);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let store = Arc::new(Store::open(&dir.path().join("index.redb")).unwrap());
    runtime.block_on(async {
        let health = indexer::spawn(store.clone(), vec![(chain.clone(), contracts())], config());
        tokio::time::sleep(Duration::from_millis(300)).await;
        let h = health.lock().unwrap()[GENOMICS].clone();
        assert!(
            !h.reachable
                && h.error
                    .as_deref()
                    .unwrap_or_default()
                    .contains("connection refused"),
            "{h:?}"
        );
        assert_eq!(store.height(GENOMICS), 0);
        for _ in 0..20 {
            chain.empty_block();
        }
        chain.down.store(false, Ordering::SeqCst);
        tokio::time::timeout(Duration::from_secs(10), async {
            while store.height(GENOMICS) < 21 {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await
        .expect("caught up after the chain returned");
        assert!(health.lock().unwrap()[GENOMICS].reachable);
    });
    assert!(store.index().knows_grantee(&one));
}

#[test]
fn the_newest_block_without_results_yet_is_taken_on_the_next_poll_without_an_error() {
    // Found by `make chaos` under load: the indexer asked the results of the block the node
    // had just stored and not yet executed, logged an error and backed off exponentially.
    let dir = tempfile::tempdir().unwrap();
    let chain = Arc::new(FakeChain::new(GENOMICS));
    let one = address(1);
    chain.grant("1", &one);
    for _ in 0..4 {
        chain.empty_block();
    }
    chain.newest_unexecuted.store(true, Ordering::SeqCst);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let store = Arc::new(Store::open(&dir.path().join("index.redb")).unwrap());
    runtime.block_on(async {
        let health = indexer::spawn(store.clone(), vec![(chain.clone(), contracts())], config());
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(store.height(GENOMICS), 4, "indexed up to the newest block");
        let h = health.lock().unwrap()[GENOMICS].clone();
        assert!(h.reachable && h.error.is_none(), "{h:?}");
        chain.newest_unexecuted.store(false, Ordering::SeqCst);
        tokio::time::timeout(Duration::from_secs(5), async {
            while store.height(GENOMICS) < 5 {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await
        .expect("the newest block indexed once executed");
    });
    assert_eq!(
        *chain.fetched.lock().unwrap(),
        vec![1, 2, 3, 4, 5],
        "each block fetched once"
    );
}

#[test]
fn a_failed_index_write_stops_the_index_and_a_restart_resumes_from_the_last_commit() {
    let chain = Arc::new(FakeChain::new(GENOMICS));
    let one = address(1);
    for s in 1..=6u64 {
        chain.grant(&s.to_string(), &one);
        chain.attest(s, &s.to_string(), &one, s);
    }
    let disk = FillingDisk::default();
    let store = Arc::new(Store::open_with_backend(disk.clone()).unwrap());
    index_while(&store, &chain, |store, _| store.height(GENOMICS) < 12);
    assert_eq!(count(&store, &one), 6);

    // The disk fills, and the chain makes one more block: the index's writer fails on it,
    // and the follower, with nothing more to hand over, must not report the chain healthy.
    disk.full.store(true, Ordering::SeqCst);
    chain.grant("7", &one);
    let health = index_while(&store, &chain, |_, health| !health.stopped);
    assert!(!health.reachable, "{health:?}");
    let error = health.error.unwrap();
    assert!(
        error.starts_with("the index stopped: its writer failed; restart the gateway (index write failed: index database: ")
            && error.contains("No space left on device"),
        "{error}"
    );
    // The in-memory index was reloaded from what was committed: none of the failed write's
    // rows (consent 7). The store takes no more writes, and says why.
    assert_eq!(store.height(GENOMICS), 12);
    assert!(store.index().consent(GENOMICS, "7").is_none());
    assert_eq!(count(&store, &one), 6);
    let failure = store.failure().expect("the store records the failure");
    assert!(failure.contains("No space left on device"), "{failure}");
    disk.full.store(false, Ordering::SeqCst);
    let refused = store.apply(&batch(GENOMICS, 13, vec![])).unwrap_err();
    assert!(
        refused.to_string().contains("No space left on device"),
        "{refused}"
    );
    assert_eq!(store.height(GENOMICS), 12);
    drop(store);

    // Restarted with disk space again: nothing of the failed write was committed, the index
    // resumes at the last committed height and ends equal to one rebuilt from scratch.
    let store = Arc::new(Store::open_with_backend(disk.clone()).unwrap());
    assert_eq!(store.height(GENOMICS), 12);
    assert_eq!(count(&store, &one), 6);
    chain.attest(7, "7", &one, 7);
    for s in 8..=9u64 {
        chain.grant(&s.to_string(), &one);
        chain.attest(s, &s.to_string(), &one, s);
    }
    let fetched_before = chain.fetched.lock().unwrap().len();
    index_while(&store, &chain, |store, _| store.height(GENOMICS) < 18);
    let fetched: Vec<u64> = chain.fetched.lock().unwrap()[fetched_before..].to_vec();
    assert_eq!(fetched, (13..=18).collect::<Vec<_>>());
    assert_eq!(count(&store, &one), 9);
    let rebuilt = Arc::new(Store::open_with_backend(FillingDisk::default()).unwrap());
    index_while(&rebuilt, &chain, |store, _| store.height(GENOMICS) < 18);
    assert_eq!(store.snapshot().unwrap(), rebuilt.snapshot().unwrap());
}
