//! Admission of authenticated requests: replay protection (a nonce cache over the freshness
//! window) and a token-bucket rate limit per key. Only a request that passes both changes
//! anything, so a refused request leaves no nonce behind and takes no token.

use std::collections::{HashSet, VecDeque};
use std::num::NonZeroUsize;

use healthmesh_research::auth::Caller;
use lru::LruCache;
use tonic::Status;

/// Nonces remembered at most, over all keys (each key is also rate limited).
const MAX_NONCES: usize = 1 << 20;
/// Keys whose rate-limit state is kept (least recently seen forgotten first).
const RATE_KEYS: usize = 1 << 16;

/// Nonces seen within the freshness window. A request is accepted only from `max_skew`
/// before to `max_future` after its timestamp, so remembering each nonce for the sum of the
/// two after arrival catches every replay; arrival order makes pruning a pop from the front
/// (no scan per request).
#[derive(Default)]
struct NonceCache {
    seen: HashSet<String>,
    order: VecDeque<(u64, String)>,
}

impl NonceCache {
    fn prune(&mut self, now_ms: u64, window_ms: u64) {
        while let Some((arrived, _)) = self.order.front() {
            if now_ms.saturating_sub(*arrived) <= window_ms {
                break;
            }
            if let Some((_, old)) = self.order.pop_front() {
                self.seen.remove(&old);
            }
        }
    }

    fn contains(&self, nonce: &str) -> bool {
        self.seen.contains(nonce)
    }

    fn insert(&mut self, nonce: String, now_ms: u64) {
        if self.seen.insert(nonce.clone()) {
            self.order.push_back((now_ms, nonce));
        }
    }
}

/// A token bucket: `burst` requests at once, refilled at `rate` per second.
#[derive(Clone, Copy)]
struct Bucket {
    tokens: f64,
    at_ms: u64,
}

/// The gateway's admission settings.
pub struct Limits {
    /// How long a nonce must be remembered: the freshness window (past + future skew).
    pub window_ms: u64,
    /// Requests per second per key; 0 turns the limit off.
    pub rate_per_sec: u32,
    pub burst: u32,
}

/// What admitting a request changes: its nonce is remembered and its key's bucket drained.
pub struct Admission {
    nonces: NonceCache,
    buckets: LruCache<String, Bucket>,
}

impl Default for Admission {
    fn default() -> Self {
        Self::new()
    }
}

impl Admission {
    pub fn new() -> Self {
        Admission {
            nonces: NonceCache::default(),
            buckets: LruCache::new(NonZeroUsize::new(RATE_KEYS).expect("non-zero")),
        }
    }

    /// Nonces remembered now (for tests and monitoring).
    pub fn nonces_remembered(&self) -> usize {
        self.nonces.seen.len()
    }

    /// Replay and rate checks; only if both pass are the nonce remembered and a token taken.
    pub fn admit(&mut self, caller: &Caller, now: u64, limits: &Limits) -> Result<(), Status> {
        self.nonces.prune(now, limits.window_ms);
        let nonce = format!("{}/{}", caller.address, caller.nonce);
        if self.nonces.contains(&nonce) {
            return Err(Status::unauthenticated(
                "replayed request: this nonce was already used; sign each request with a fresh nonce",
            ));
        }
        if self.nonces_remembered() >= MAX_NONCES {
            return Err(Status::resource_exhausted(
                "the gateway is at its limit of requests in flight; retry in a few seconds",
            ));
        }
        let bucket = self.take_token(&caller.address, now, limits)?;
        self.nonces.insert(nonce, now);
        if let Some(bucket) = bucket {
            self.buckets.put(caller.address.clone(), bucket);
        }
        Ok(())
    }

    /// The key's bucket after taking one token (not stored yet), or the rate-limit refusal.
    fn take_token(
        &mut self,
        address: &str,
        now: u64,
        limits: &Limits,
    ) -> Result<Option<Bucket>, Status> {
        let (rate, burst) = (
            f64::from(limits.rate_per_sec),
            f64::from(limits.burst.max(1)),
        );
        if rate <= 0.0 {
            return Ok(None);
        }
        let bucket = self.buckets.get(address).copied().unwrap_or(Bucket {
            tokens: burst,
            at_ms: now,
        });
        let elapsed = now.saturating_sub(bucket.at_ms) as f64 / 1000.0;
        let tokens = (bucket.tokens + elapsed * rate).min(burst);
        if tokens < 1.0 {
            let wait_ms = ((1.0 - tokens) / rate * 1000.0).ceil() as u64;
            return Err(Status::resource_exhausted(format!(
                "rate limit: at most {} requests per second per key (bursts of {}); retry in {wait_ms} ms",
                limits.rate_per_sec,
                limits.burst.max(1)
            )));
        }
        Ok(Some(Bucket {
            tokens: tokens - 1.0,
            at_ms: now,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonces_are_refused_within_the_window_and_forgotten_after() {
        let mut cache = NonceCache::default();
        let fresh = |cache: &mut NonceCache, nonce: &str, now: u64| {
            cache.prune(now, 60_000);
            let fresh = !cache.contains(nonce);
            cache.insert(nonce.into(), now);
            fresh
        };
        assert!(fresh(&mut cache, "a", 1_000));
        assert!(!fresh(&mut cache, "a", 30_000), "replay inside the window");
        assert!(fresh(&mut cache, "b", 50_000));
        // 'a' arrived at 1 000: forgotten once 61 001 is reached; 'b' is still remembered.
        assert!(fresh(&mut cache, "a", 61_001));
        assert!(!fresh(&mut cache, "b", 61_001));
        assert_eq!(cache.seen.len(), cache.order.len());
    }
}
