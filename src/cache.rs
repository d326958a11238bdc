//! Records parsed once and kept across messages.
//!
//! Mail from one domain keeps meeting the same DNS records: its SPF record
//! and those it includes, its DMARC policy, its DKIM keys. A
//! [`RecordCache`] keeps what was read from each, keyed by the exact text
//! of the TXT record: a changed record is a different entry, so the cache
//! never changes a result, it only saves the parsing. DNS caching is a
//! separate matter (see [`crate::dns::CachingResolver`]); these caches hold
//! no TTL.
//!
//! Each kind of record has one cache for the whole process
//! (`process_wide`), which the default configurations hold:
//! [`spf::RecordCache`](crate::spf::RecordCache) in
//! [`spf::Config::record_cache`](crate::spf::Config::record_cache),
//! [`dmarc::RecordCache`](crate::dmarc::RecordCache) in
//! [`dmarc::Config::record_cache`](crate::dmarc::Config::record_cache),
//! [`KeyCache`](crate::dkim::KeyCache) for DKIM and ARC keys. A
//! configuration may name its own cache instead, or none.

use std::any::Any;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

/// The number of entries a cache built with `default()` holds.
pub const DEFAULT_MAX_ENTRIES: usize = 1_000;

/// Parsed records shared by checks, up to a fixed number of entries (the
/// least recently used goes first). Cloning gives another handle on the
/// same cache; it may be used from several threads at once.
pub struct RecordCache<T: 'static> {
    shared: Handle<T>,
}

/// How a handle reaches its cache.
enum Handle<T: 'static> {
    /// A cache built at run time, alive while a handle holds it.
    Counted(Arc<Shared<T>>),
    /// A process-wide cache, alive until exit: handles on it are copied
    /// without touching a reference count, which every configuration
    /// copied into a check would otherwise do (an atomic operation each).
    Static(&'static Shared<T>),
}

impl<T: 'static> std::ops::Deref for Handle<T> {
    type Target = Shared<T>;

    fn deref(&self) -> &Shared<T> {
        match self {
            Handle::Counted(shared) => shared,
            Handle::Static(shared) => shared,
        }
    }
}

struct Shared<T> {
    max_entries: usize,
    entries: Mutex<Entries<T>>,
    /// A cache of another kind kept beside this one, of the same bound,
    /// made when first asked for (see [`RecordCache::beside`]).
    beside: OnceLock<Box<dyn Beside>>,
}

/// A cache kept beside another (see [`RecordCache::beside`]), whatever it
/// holds.
trait Beside: Any + Send + Sync {
    fn clear(&self);
}

impl<U: Send + Sync + 'static> Beside for RecordCache<U> {
    fn clear(&self) {
        RecordCache::clear(self);
    }
}

struct Entries<T> {
    /// Record text → (the parse settings it was read under, the parsed
    /// record, the tick of its last use).
    ///
    /// An ordered map rather than a hash table: the process-wide caches
    /// live until exit, and every pointer of a B-tree reaches the start of
    /// its block, so leak checkers (valgrind's `--leak-check=full`) see what
    /// they hold as still reachable. A hash table points into the middle of
    /// its allocation, which valgrind reports as "possibly lost" in every C
    /// program that checked a message.
    map: BTreeMap<Arc<[u8]>, Entry<T>>,
    /// Every entry once, under a tick no later than its last use, oldest
    /// first: the order in which entries go when the cache is full. A hit
    /// only moves the entry's `last_used`; the entry takes its new place
    /// here when it comes first and is found to have been used since, so a
    /// lookup never touches this map and putting out the least recently
    /// used entry does not look at all the others.
    by_age: BTreeMap<u64, Arc<[u8]>>,
    tick: u64,
    /// Counted under the lock taken anyway: no atomic operation of their
    /// own on every lookup.
    hits: u64,
    misses: u64,
}

struct Entry<T> {
    settings: u64,
    parsed: Arc<T>,
    last_used: u64,
}

/// Counters of a cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct CacheStats {
    /// Entries held now.
    pub entries: usize,
    /// Lookups answered from the cache.
    pub hits: u64,
    /// Lookups that had to read the record.
    pub misses: u64,
}

impl<T: 'static> RecordCache<T> {
    /// A cache of at most `max_entries` records; 0 keeps nothing.
    pub fn new(max_entries: usize) -> RecordCache<T> {
        RecordCache {
            shared: Handle::Counted(Arc::new(Shared {
                max_entries,
                entries: Mutex::new(Entries {
                    map: BTreeMap::new(),
                    by_age: BTreeMap::new(),
                    tick: 0,
                    hits: 0,
                    misses: 0,
                }),
                beside: OnceLock::new(),
            })),
        }
    }

    /// A handle on `cache` that is copied without a reference count, for
    /// a cache that lives as long as the process (a `static`).
    pub(crate) fn process_wide_handle(cache: &'static RecordCache<T>) -> RecordCache<T> {
        RecordCache {
            shared: Handle::Static(&cache.shared),
        }
    }

    /// The most entries this cache holds.
    pub fn max_entries(&self) -> usize {
        self.shared.max_entries
    }

    /// How many entries it holds and how lookups went.
    pub fn stats(&self) -> CacheStats {
        let entries = self.lock();
        CacheStats {
            entries: entries.map.len(),
            hits: entries.hits,
            misses: entries.misses,
        }
    }

    /// A cache of `U` kept beside this one, of the same bound, as long as
    /// this one is kept: what is derived from the records this cache holds
    /// (DMARC keeps the names each domain's tree walk asks beside its
    /// policy records), so that sizing this cache sizes both. One kind of
    /// `U` per cache: `None` when another kind was kept beside it first.
    pub(crate) fn beside<U: Send + Sync + 'static>(&self) -> Option<&RecordCache<U>> {
        let kept: &dyn Beside = &**self
            .shared
            .beside
            .get_or_init(|| Box::new(RecordCache::<U>::new(self.shared.max_entries)));
        (kept as &dyn Any).downcast_ref()
    }

    /// Drops every entry, and those of the cache kept beside it (the
    /// counters stay).
    pub fn clear(&self) {
        {
            let mut entries = self.lock();
            entries.map.clear();
            entries.by_age.clear();
        }
        if let Some(beside) = self.shared.beside.get() {
            beside.clear();
        }
    }

    fn lock(&self) -> MutexGuard<'_, Entries<T>> {
        // Nothing panics while the lock is held; a poisoned map is still whole.
        self.shared
            .entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The parsed form of the record `text`, read by `parse` now if it is
    /// not held. `settings` stands for whatever else the parsing depends on
    /// (a limit, a mode): an entry read under other settings is read again.
    /// Records that do not parse are not kept.
    pub(crate) fn get_or_parse<E>(
        &self,
        settings: u64,
        text: &[u8],
        parse: impl FnOnce(&[u8]) -> Result<T, E>,
    ) -> Result<Arc<T>, E> {
        {
            let mut entries = self.lock();
            entries.tick += 1;
            let tick = entries.tick;
            if let Some(entry) = entries.map.get_mut(text)
                && entry.settings == settings
            {
                entry.last_used = tick;
                let parsed = Arc::clone(&entry.parsed);
                entries.hits += 1;
                return Ok(parsed);
            }
            entries.misses += 1;
        }
        // Parsed without the lock: other threads go on meanwhile.
        let parsed = Arc::new(parse(text)?);
        if self.shared.max_entries > 0 {
            let mut entries = self.lock();
            // A tick of its own, so that no two entries share a place in
            // `by_age`.
            entries.tick += 1;
            let last_used = entries.tick;
            let entry = Entry {
                settings,
                parsed: Arc::clone(&parsed),
                last_used,
            };
            if let Some(held) = entries.map.get_mut(text) {
                // Read again under other settings (or by another thread
                // meanwhile): its place in `by_age` is still there, earlier
                // than this use.
                *held = entry;
            } else {
                if entries.map.len() >= self.shared.max_entries {
                    entries.put_out_oldest();
                }
                let text: Arc<[u8]> = Arc::from(text);
                entries.by_age.insert(last_used, Arc::clone(&text));
                entries.map.insert(text, entry);
            }
        }
        Ok(parsed)
    }
}

impl<T> Entries<T> {
    /// Removes the least recently used entry. Entries met first in
    /// `by_age` that were used since they took their place there move to
    /// the place of their last use; each such move stands for a hit since
    /// the entry's last move, so the work is bounded by the lookups made.
    fn put_out_oldest(&mut self) {
        while let Some((placed, text)) = self.by_age.pop_first() {
            let Some(entry) = self.map.get(&text) else {
                continue;
            };
            if entry.last_used == placed {
                self.map.remove(&text);
                return;
            }
            let last_used = entry.last_used;
            self.by_age.insert(last_used, text);
        }
    }
}

impl<T: 'static> Clone for RecordCache<T> {
    fn clone(&self) -> RecordCache<T> {
        RecordCache {
            shared: match &self.shared {
                Handle::Counted(shared) => Handle::Counted(Arc::clone(shared)),
                Handle::Static(shared) => Handle::Static(shared),
            },
        }
    }
}

impl<T: 'static> Default for RecordCache<T> {
    /// A cache of [`DEFAULT_MAX_ENTRIES`] entries.
    fn default() -> RecordCache<T> {
        RecordCache::new(DEFAULT_MAX_ENTRIES)
    }
}

impl<T: 'static> PartialEq for RecordCache<T> {
    /// Two handles are equal when they share one cache.
    fn eq(&self, other: &RecordCache<T>) -> bool {
        std::ptr::eq::<Shared<T>>(&*self.shared, &*other.shared)
    }
}

impl<T: 'static> Eq for RecordCache<T> {}

impl<T: 'static> fmt::Debug for RecordCache<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecordCache")
            .field("max_entries", &self.shared.max_entries)
            .field("stats", &self.stats())
            .finish()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn parse(text: &[u8]) -> Result<String, ()> {
        if text.starts_with(b"bad") {
            Err(())
        } else {
            Ok(String::from_utf8_lossy(text).into_owned())
        }
    }

    #[test]
    fn second_lookup_is_a_hit_and_shares_the_entry() {
        let cache = RecordCache::default();
        let first = cache.get_or_parse(0, b"one", parse).unwrap();
        let handle = cache.clone();
        let second = handle.get_or_parse(0, b"one", parse).unwrap();
        assert!(Arc::ptr_eq(&first, &second));
        assert_eq!(
            cache.stats(),
            CacheStats {
                entries: 1,
                hits: 1,
                misses: 1
            }
        );
        assert_eq!(cache, handle);
        assert_ne!(cache, RecordCache::default());
    }

    #[test]
    fn other_settings_read_the_record_again() {
        let cache = RecordCache::default();
        let first = cache.get_or_parse(1, b"one", parse).unwrap();
        let second = cache.get_or_parse(2, b"one", parse).unwrap();
        assert!(!Arc::ptr_eq(&first, &second));
        assert_eq!(cache.stats().misses, 2);
        assert_eq!(cache.stats().entries, 1);
        let third = cache.get_or_parse(2, b"one", parse).unwrap();
        assert!(Arc::ptr_eq(&second, &third));
    }

    #[test]
    fn bounded_least_recently_used_goes_first() {
        let cache = RecordCache::new(2);
        cache.get_or_parse(0, b"a", parse).unwrap();
        cache.get_or_parse(0, b"b", parse).unwrap();
        cache.get_or_parse(0, b"a", parse).unwrap(); // now the newest
        cache.get_or_parse(0, b"c", parse).unwrap(); // evicts "b"
        assert_eq!(cache.stats().entries, 2);
        let before = cache.stats().misses;
        cache.get_or_parse(0, b"a", parse).unwrap();
        assert_eq!(cache.stats().misses, before);
        cache.get_or_parse(0, b"b", parse).unwrap();
        assert_eq!(cache.stats().misses, before + 1);
    }

    #[test]
    fn a_cache_beside_shares_the_bound_and_the_clearing() {
        let cache: RecordCache<String> = RecordCache::new(2);
        let beside = cache.beside::<Vec<u8>>().unwrap();
        assert_eq!(beside.max_entries(), 2);
        for text in [b"a", b"b", b"c"] {
            beside
                .get_or_parse(0, text, |t| Ok::<_, ()>(t.to_vec()))
                .unwrap();
        }
        assert_eq!(beside.stats().entries, 2);
        // The same cache for every handle on the one it is beside.
        let handle = cache.clone();
        let again = handle.beside::<Vec<u8>>().unwrap();
        assert!(std::ptr::eq(beside, again));
        assert_eq!(again.stats().entries, 2);
        // One kind beside a cache: another is refused, not mixed in.
        assert!(cache.beside::<u32>().is_none());
        cache.get_or_parse(0, b"x", parse).unwrap();
        cache.clear();
        assert_eq!(cache.stats().entries, 0);
        assert_eq!(beside.stats().entries, 0);
        // Nothing kept beside a cache that keeps nothing.
        let none: RecordCache<String> = RecordCache::new(0);
        let beside = none.beside::<Vec<u8>>().unwrap();
        beside
            .get_or_parse(0, b"a", |t| Ok::<_, ()>(t.to_vec()))
            .unwrap();
        assert_eq!(beside.stats().entries, 0);
    }

    /// Whether `text` is held, without changing its place or the counters
    /// a test reads afterwards.
    fn holds(cache: &RecordCache<String>, text: &[u8]) -> bool {
        cache.lock().map.contains_key(text)
    }

    #[test]
    fn put_out_in_order_of_last_use_however_often_used() {
        let cache = RecordCache::new(3);
        for text in [b"a", b"b", b"c"] {
            cache.get_or_parse(0, text, parse).unwrap();
        }
        // Used in the order c, a, a, b: c is now the least recent.
        for text in [b"c", b"a", b"a", b"b"] {
            cache.get_or_parse(0, text, parse).unwrap();
        }
        cache.get_or_parse(0, b"d", parse).unwrap();
        assert!(!holds(&cache, b"c"));
        cache.get_or_parse(0, b"e", parse).unwrap();
        assert!(!holds(&cache, b"a"));
        cache.get_or_parse(0, b"f", parse).unwrap();
        assert!(!holds(&cache, b"b"));
        assert!(holds(&cache, b"d") && holds(&cache, b"e") && holds(&cache, b"f"));
        // Read again under other settings counts as a use.
        cache.get_or_parse(1, b"d", parse).unwrap();
        cache.get_or_parse(0, b"g", parse).unwrap();
        assert!(!holds(&cache, b"e"));
        assert!(holds(&cache, b"d"));
        let entries = cache.lock();
        assert_eq!(entries.map.len(), 3);
        assert_eq!(entries.by_age.len(), 3);
    }

    #[test]
    fn a_cleared_cache_fills_again() {
        let cache = RecordCache::new(2);
        cache.get_or_parse(0, b"a", parse).unwrap();
        cache.get_or_parse(0, b"b", parse).unwrap();
        cache.clear();
        for text in [b"c", b"d", b"e"] {
            cache.get_or_parse(0, text, parse).unwrap();
        }
        assert!(!holds(&cache, b"c"));
        assert_eq!(cache.stats().entries, 2);
    }

    #[test]
    fn errors_are_not_kept_and_zero_keeps_nothing() {
        let cache = RecordCache::default();
        assert!(cache.get_or_parse(0, b"bad", parse).is_err());
        assert_eq!(cache.stats().entries, 0);
        let none = RecordCache::new(0);
        none.get_or_parse(0, b"one", parse).unwrap();
        none.get_or_parse(0, b"one", parse).unwrap();
        assert_eq!(none.stats().entries, 0);
        assert_eq!(none.stats().misses, 2);
    }
}
