//! A TTL-aware, size-bounded cache in front of any resolver.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::{Answer, Query, Resolver};

/// A source of the current time, so that tests can move time by hand.
pub trait Clock {
    /// The current instant.
    fn now(&self) -> Instant;
}

/// The system's monotonic clock.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
}

impl<C: Clock + ?Sized> Clock for &C {
    fn now(&self) -> Instant {
        (**self).now()
    }
}

impl<C: Clock + ?Sized> Clock for std::sync::Arc<C> {
    fn now(&self) -> Instant {
        (**self).now()
    }
}

/// How a [`CachingResolver`] keeps answers. TTLs are in seconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheConfig {
    /// Most answers held; the least recently used goes first when full.
    /// 0 disables the cache.
    pub max_entries: usize,
    /// TTL of answers with records when the inner resolver gives none.
    pub default_ttl: u32,
    /// TTL of NXDOMAIN, no-data and permanent-failure answers when the
    /// inner resolver gives none (it gives the SOA's when it has one).
    pub negative_ttl: u32,
    /// Shortest TTL kept: smaller ones (including 0) are raised to this
    /// (0 keeps the server's TTL, and a TTL of 0 is then not cached).
    pub min_ttl: u32,
    /// Longest TTL of answers with records.
    pub max_ttl: u32,
    /// Longest TTL of negative answers (RFC 2308 §5 advises one to three
    /// hours at most).
    pub max_negative_ttl: u32,
    /// TTL of temporary failures (timeouts, SERVFAIL); 0, the default,
    /// does not cache them (see [`CachingResolver`]). At most 300 is used
    /// (RFC 2308 §7).
    pub temp_fail_ttl: u32,
}

impl Default for CacheConfig {
    fn default() -> CacheConfig {
        CacheConfig {
            max_entries: 10_000,
            default_ttl: 300,
            negative_ttl: 300,
            min_ttl: 0,
            max_ttl: 86_400,
            max_negative_ttl: 3_600,
            temp_fail_ttl: 0,
        }
    }
}

/// Longest time a temporary failure may be cached (RFC 2308 §7.1).
const MAX_TEMP_FAIL_TTL: u32 = 300;

#[derive(Debug)]
struct Entry {
    /// Shared with the checks it is handed to.
    answer: Arc<Answer>,
    expires_at: Instant,
    /// Key of this entry in [`State::recency`].
    last_used: u64,
}

#[derive(Debug, Default)]
struct State {
    /// Hashed with foldhash's higher-quality variant (seeded per process).
    entries: HashMap<Query, Entry, foldhash::quality::RandomState>,
    /// Entries by last use, oldest first.
    recency: BTreeMap<u64, Query>,
    tick: u64,
}

impl State {
    fn clear(&mut self) {
        self.entries.clear();
        self.recency.clear();
    }

    fn next_tick(&mut self) -> u64 {
        self.tick = self.tick.wrapping_add(1);
        self.tick
    }

    fn remove(&mut self, query: &Query) {
        if let Some(entry) = self.entries.remove(query) {
            self.recency.remove(&entry.last_used);
        }
    }
}

/// A resolver that remembers the answers of another for their TTL.
///
/// Answers with records are kept for their TTL (or
/// [`CacheConfig::default_ttl`]), NXDOMAIN, no data and permanent
/// failures for the negative TTL the inner resolver gives (from the SOA,
/// RFC 2308) or [`CacheConfig::negative_ttl`], each clamped to the
/// configured bounds. A hit answers the TTL that remains.
///
/// Temporary failures are not cached by default: they make SPF, DKIM and
/// DMARC answer "temperror", the MTA defers the message, and the retry
/// should ask the network again; the recursive server behind a stub
/// resolver already caches failures itself (RFC 9520).
/// [`CacheConfig::temp_fail_ttl`] caches them briefly where a burst of
/// lookups to a dead server should not each wait for its timeout.
///
/// At most [`CacheConfig::max_entries`] answers are held; the least
/// recently used is dropped first. Lookups take `&self` (the state sits
/// behind a mutex, never held while the inner resolver works), so one
/// cache may be shared by threads; two threads missing the same query at
/// once both ask the inner resolver.
#[derive(Debug)]
pub struct CachingResolver<R: Resolver, C: Clock = SystemClock> {
    inner: R,
    config: CacheConfig,
    clock: C,
    state: Mutex<State>,
}

impl<R: Resolver> CachingResolver<R> {
    /// A cache in front of `inner`, timed by the system clock.
    pub fn new(inner: R, config: CacheConfig) -> CachingResolver<R> {
        CachingResolver::with_clock(inner, config, SystemClock)
    }
}

impl<R: Resolver, C: Clock> CachingResolver<R, C> {
    /// A cache in front of `inner`, timed by `clock`.
    pub fn with_clock(inner: R, config: CacheConfig, clock: C) -> CachingResolver<R, C> {
        CachingResolver {
            inner,
            config,
            clock,
            state: Mutex::new(State::default()),
        }
    }

    /// The resolver behind the cache.
    pub fn inner(&self) -> &R {
        &self.inner
    }

    /// The configuration in use.
    pub fn config(&self) -> &CacheConfig {
        &self.config
    }

    /// How many answers are held (expired ones included until they are
    /// looked up again or pushed out).
    pub fn len(&self) -> usize {
        self.state().entries.len()
    }

    /// Whether no answer is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Forgets every answer.
    pub fn clear(&self) {
        self.state().clear();
    }

    fn state(&self) -> MutexGuard<'_, State> {
        match self.state.lock() {
            Ok(guard) => guard,
            Err(poisoned) => {
                // A panic while the lock was held may have left the maps
                // out of step: start afresh.
                let mut guard = poisoned.into_inner();
                guard.clear();
                self.state.clear_poison();
                guard
            }
        }
    }

    /// How long to keep `answer`, given the TTL the inner resolver said.
    fn cache_ttl(&self, answer: &Answer, ttl: Option<u32>) -> u32 {
        let config = &self.config;
        let (given, max) = match answer {
            Answer::Records(_) => (ttl.unwrap_or(config.default_ttl), config.max_ttl),
            Answer::NxDomain | Answer::NoData | Answer::PermFail(_) => {
                (ttl.unwrap_or(config.negative_ttl), config.max_negative_ttl)
            }
            Answer::TempFail(_) => return config.temp_fail_ttl.min(MAX_TEMP_FAIL_TTL),
        };
        given.max(config.min_ttl).min(max)
    }
}

/// Whole seconds left, rounded up so that a live entry never says 0.
fn seconds_left(expires_at: Instant, now: Instant) -> u32 {
    let left = expires_at.saturating_duration_since(now);
    let seconds = left.as_secs() + u64::from(left.subsec_nanos() > 0);
    u32::try_from(seconds).unwrap_or(u32::MAX)
}

impl<R: Resolver, C: Clock> CachingResolver<R, C> {
    /// The answer to `query`, shared with the cache, and how long it may
    /// be kept.
    fn lookup_kept(&self, query: &Query) -> (Arc<Answer>, Option<u32>) {
        let now = self.clock.now();
        {
            let mut state = self.state();
            let tick = state.next_tick();
            let state = &mut *state;
            if let Some(entry) = state.entries.get_mut(query) {
                if entry.expires_at > now {
                    state.recency.remove(&entry.last_used);
                    entry.last_used = tick;
                    state.recency.insert(tick, query.clone());
                    return (
                        Arc::clone(&entry.answer),
                        Some(seconds_left(entry.expires_at, now)),
                    );
                }
                state.remove(query);
            }
        }

        let (answer, ttl) = self.inner.lookup_with_ttl(query);
        let keep = self.cache_ttl(&answer, ttl);
        let answer = Arc::new(answer);
        let expires_at = now.checked_add(Duration::from_secs(u64::from(keep)));
        let Some(expires_at) = expires_at.filter(|_| keep > 0 && self.config.max_entries > 0)
        else {
            return (answer, ttl);
        };
        let mut state = self.state();
        state.remove(query);
        while state.entries.len() >= self.config.max_entries {
            let Some((_, oldest)) = state.recency.pop_first() else {
                break;
            };
            state.entries.remove(&oldest);
        }
        let tick = state.next_tick();
        state.recency.insert(tick, query.clone());
        state.entries.insert(
            query.clone(),
            Entry {
                answer: Arc::clone(&answer),
                expires_at,
                last_used: tick,
            },
        );
        (answer, Some(keep))
    }
}

impl<R: Resolver, C: Clock> Resolver for CachingResolver<R, C> {
    fn lookup_with_ttl(&self, query: &Query) -> (Answer, Option<u32>) {
        let (answer, ttl) = self.lookup_kept(query);
        (Arc::unwrap_or_clone(answer), ttl)
    }

    fn lookup_shared(&self, query: &Query) -> Arc<Answer> {
        self.lookup_kept(query).0
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::dns::{Failure, Name, RecordData, RecordType, Records, ZoneResolver};
    use std::net::Ipv4Addr;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

    /// A clock that moves only when told.
    struct FakeClock {
        start: Instant,
        elapsed_ms: AtomicU64,
    }

    impl FakeClock {
        fn new() -> Arc<FakeClock> {
            Arc::new(FakeClock {
                start: Instant::now(),
                elapsed_ms: AtomicU64::new(0),
            })
        }

        fn advance(&self, ms: u64) {
            self.elapsed_ms.fetch_add(ms, Ordering::SeqCst);
        }
    }

    impl Clock for FakeClock {
        fn now(&self) -> Instant {
            self.start + Duration::from_millis(self.elapsed_ms.load(Ordering::SeqCst))
        }
    }

    /// Answers from a zone, or fixed answers, counting the lookups.
    struct Counting {
        zone: ZoneResolver,
        fixed: Option<(Answer, Option<u32>)>,
        calls: AtomicUsize,
    }

    impl Counting {
        fn zone(zone: ZoneResolver) -> Counting {
            Counting {
                zone,
                fixed: None,
                calls: AtomicUsize::new(0),
            }
        }

        fn fixed(answer: Answer, ttl: Option<u32>) -> Counting {
            Counting {
                zone: ZoneResolver::new(),
                fixed: Some((answer, ttl)),
                calls: AtomicUsize::new(0),
            }
        }

        fn calls(&self) -> usize {
            self.calls.load(Ordering::SeqCst)
        }
    }

    impl Resolver for Counting {
        fn lookup_with_ttl(&self, query: &Query) -> (Answer, Option<u32>) {
            self.calls.fetch_add(1, Ordering::SeqCst);
            match &self.fixed {
                Some(fixed) => fixed.clone(),
                None => self.zone.lookup_with_ttl(query),
            }
        }
    }

    fn n(s: &str) -> Name {
        Name::new(s).unwrap()
    }

    fn a_query(name: &str) -> Query {
        Query::new(n(name), RecordType::A)
    }

    fn zone() -> ZoneResolver {
        let mut zone = ZoneResolver::new();
        for (i, name) in ["a.test", "b.test", "c.test"].into_iter().enumerate() {
            let last = u8::try_from(i).unwrap() + 1;
            zone.add_with_ttl(&n(name), RecordData::A(Ipv4Addr::new(192, 0, 2, last)), 60);
        }
        zone
    }

    #[test]
    fn hits_within_ttl_with_remaining_ttl_then_expires() {
        let clock = FakeClock::new();
        let cache = CachingResolver::with_clock(
            Counting::zone(zone()),
            CacheConfig::default(),
            clock.clone(),
        );
        let query = a_query("a.test");
        let first = cache.lookup_with_ttl(&query);
        assert_eq!(first.1, Some(60));
        assert!(matches!(first.0, Answer::Records(Records::A(_))));
        clock.advance(20_500);
        assert_eq!(cache.lookup_with_ttl(&query), (first.0.clone(), Some(40)));
        assert_eq!(cache.inner().calls(), 1);
        clock.advance(39_500);
        // Expired exactly at 60 s: asked again.
        assert_eq!(cache.lookup_with_ttl(&query), (first.0, Some(60)));
        assert_eq!(cache.inner().calls(), 2);
    }

    #[test]
    fn default_and_clamped_ttls() {
        let records = Answer::Records(Records::A(vec![Ipv4Addr::LOCALHOST]));
        let clock = FakeClock::new();
        let config = CacheConfig {
            default_ttl: 123,
            min_ttl: 30,
            max_ttl: 1000,
            negative_ttl: 45,
            max_negative_ttl: 600,
            ..CacheConfig::default()
        };
        let cases = [
            (records.clone(), None, Some(123)),
            (records.clone(), Some(5), Some(30)),
            (records.clone(), Some(0), Some(30)),
            (records, Some(86_400), Some(1000)),
            (Answer::NxDomain, None, Some(45)),
            (Answer::NoData, Some(7200), Some(600)),
            (Answer::PermFail(Failure::Other), Some(100), Some(100)),
        ];
        for (answer, inner_ttl, expected) in cases {
            let cache = CachingResolver::with_clock(
                Counting::fixed(answer.clone(), inner_ttl),
                config.clone(),
                clock.clone(),
            );
            let query = a_query("x.test");
            assert_eq!(cache.lookup_with_ttl(&query), (answer.clone(), expected));
            assert_eq!(cache.lookup(&query), answer);
            assert_eq!(cache.inner().calls(), 1, "{answer:?} {inner_ttl:?}");
        }
    }

    #[test]
    fn zero_ttl_is_not_cached_without_min_ttl() {
        let answer = Answer::Records(Records::A(vec![Ipv4Addr::LOCALHOST]));
        let cache = CachingResolver::new(
            Counting::fixed(answer.clone(), Some(0)),
            CacheConfig::default(),
        );
        let query = a_query("x.test");
        assert_eq!(cache.lookup_with_ttl(&query), (answer.clone(), Some(0)));
        assert_eq!(cache.lookup(&query), answer);
        assert_eq!(cache.inner().calls(), 2);
        assert!(cache.is_empty());
    }

    #[test]
    fn negative_answers_cached_with_their_ttl() {
        let clock = FakeClock::new();
        let cache = CachingResolver::with_clock(
            Counting::fixed(Answer::NxDomain, Some(90)),
            CacheConfig::default(),
            clock.clone(),
        );
        let query = a_query("gone.test");
        assert_eq!(cache.lookup_with_ttl(&query), (Answer::NxDomain, Some(90)));
        clock.advance(89_000);
        assert_eq!(cache.lookup_with_ttl(&query), (Answer::NxDomain, Some(1)));
        assert_eq!(cache.inner().calls(), 1);
        clock.advance(1_000);
        cache.lookup(&query);
        assert_eq!(cache.inner().calls(), 2);
    }

    #[test]
    fn temporary_failures_not_cached_unless_configured() {
        let timeout = Answer::TempFail(Failure::Timeout);
        let query = a_query("slow.test");
        let cache = CachingResolver::new(
            Counting::fixed(timeout.clone(), None),
            CacheConfig::default(),
        );
        assert_eq!(cache.lookup_with_ttl(&query), (timeout.clone(), None));
        cache.lookup(&query);
        assert_eq!(cache.inner().calls(), 2);

        let clock = FakeClock::new();
        let config = CacheConfig {
            temp_fail_ttl: 10_000,
            ..CacheConfig::default()
        };
        let cache = CachingResolver::with_clock(
            Counting::fixed(timeout.clone(), None),
            config,
            clock.clone(),
        );
        // Capped at 300 s (RFC 2308 §7).
        assert_eq!(cache.lookup_with_ttl(&query), (timeout.clone(), Some(300)));
        clock.advance(299_000);
        assert_eq!(cache.lookup_with_ttl(&query), (timeout, Some(1)));
        assert_eq!(cache.inner().calls(), 1);
    }

    #[test]
    fn size_bound_evicts_least_recently_used() {
        let clock = FakeClock::new();
        let config = CacheConfig {
            max_entries: 2,
            ..CacheConfig::default()
        };
        let cache = CachingResolver::with_clock(Counting::zone(zone()), config, clock.clone());
        let (a, b, c) = (a_query("a.test"), a_query("b.test"), a_query("c.test"));
        cache.lookup(&a);
        cache.lookup(&b);
        cache.lookup(&a); // a is now more recent than b
        assert_eq!(cache.inner().calls(), 2);
        cache.lookup(&c); // pushes b out
        assert_eq!(cache.len(), 2);
        cache.lookup(&a);
        assert_eq!(cache.inner().calls(), 3, "a still cached");
        cache.lookup(&b);
        assert_eq!(cache.inner().calls(), 4, "b was evicted");
        assert_eq!(cache.len(), 2);
        for i in 0..100 {
            cache.lookup(&a_query(&format!("n{i}.test")));
        }
        assert_eq!(cache.len(), 2);
        cache.clear();
        assert!(cache.is_empty());
    }

    #[test]
    fn zero_entries_disables_the_cache() {
        let config = CacheConfig {
            max_entries: 0,
            ..CacheConfig::default()
        };
        let cache = CachingResolver::new(Counting::zone(zone()), config);
        cache.lookup(&a_query("a.test"));
        cache.lookup(&a_query("a.test"));
        assert_eq!(cache.inner().calls(), 2);
        assert!(cache.is_empty());
    }

    #[test]
    fn shared_across_threads() {
        let cache = Arc::new(CachingResolver::new(
            Counting::zone(zone()),
            CacheConfig::default(),
        ));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let cache = Arc::clone(&cache);
                std::thread::spawn(move || {
                    for _ in 0..100 {
                        for name in ["a.test", "b.test", "c.test", "none.test"] {
                            let answer = cache.lookup(&a_query(name));
                            assert_eq!(answer == Answer::NxDomain, name == "none.test");
                        }
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        // Each name missed at most once per thread.
        assert!(cache.inner().calls() <= 16);
        assert_eq!(cache.len(), 4);
    }
}
