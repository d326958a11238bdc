//! Key records parsed once and kept across messages.
//!
//! Reading a key record costs more than it seems: the tag list, the base64
//! of `p=`, the DER of the RSA key, and (in the crypto backend) the
//! precomputation each RSA modulus needs before its first signature check,
//! or the decoding of an Ed25519 point. Mail from one domain keeps using the
//! same key, so a [`KeyCache`] keeps what was read, keyed by the exact text
//! of the TXT record: a changed record is a different entry, so the cache
//! never changes a verdict, it only saves work. DNS caching is a separate
//! matter (see [`crate::dns::CachingResolver`]); this cache holds no TTL.
//!
//! [`VerifyConfig::default`](super::verify::VerifyConfig) holds
//! [`KeyCache::process_wide`], one cache of [`DEFAULT_MAX_ENTRIES`] entries
//! for the whole process, so every verifier (and the C and Python bindings,
//! which use the default settings) shares the keys it read. A config may
//! name its own cache instead, or none.

use std::fmt;
use std::sync::{Arc, LazyLock};

use crate::cache::{CacheStats, RecordCache};

use super::KeyType;
use super::crypto::{KeyError, PublicKey};
use super::key::{KeyRecord, KeyRecordError};

/// A key record and its public key, both read once.
#[derive(Debug)]
pub(crate) struct ParsedKey {
    /// The key record's tags.
    pub(crate) record: KeyRecord,
    /// The public key; `None` when the record is revoked (empty `p=`).
    pub(crate) key: Option<Result<PublicKey, KeyError>>,
}

impl ParsedKey {
    /// Reads a key record (the TXT strings joined) and, unless it is
    /// revoked, its public key.
    pub(crate) fn parse(text: &[u8]) -> Result<ParsedKey, KeyRecordError> {
        let record = KeyRecord::parse(text)?;
        let key = (!record.is_revoked())
            .then(|| PublicKey::from_record_data(record.key_type, &record.public_key));
        Ok(ParsedKey { record, key })
    }

    /// The key type the record declares.
    pub(crate) fn key_type(&self) -> KeyType {
        self.record.key_type
    }
}

/// The number of entries a [`KeyCache::default`] holds.
pub const DEFAULT_MAX_ENTRIES: usize = crate::cache::DEFAULT_MAX_ENTRIES;

/// Parsed key records shared by verifiers, up to a fixed number of entries
/// (the least recently used goes first): a [`RecordCache`] of keys.
/// Cloning gives another handle on the same cache; it may be used from
/// several threads at once.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct KeyCache {
    cache: RecordCache<ParsedKey>,
}

/// Counters of a [`KeyCache`].
pub type KeyCacheStats = CacheStats;

impl KeyCache {
    /// A cache of at most `max_entries` key records; 0 keeps nothing.
    pub fn new(max_entries: usize) -> KeyCache {
        KeyCache {
            cache: RecordCache::new(max_entries),
        }
    }

    /// The cache shared by the whole process, of [`DEFAULT_MAX_ENTRIES`]
    /// entries: the one [`VerifyConfig::default`](super::verify::VerifyConfig)
    /// uses.
    pub fn process_wide() -> KeyCache {
        static PROCESS_WIDE: LazyLock<RecordCache<ParsedKey>> = LazyLock::new(RecordCache::default);
        KeyCache {
            cache: RecordCache::process_wide_handle(&PROCESS_WIDE),
        }
    }

    /// The most entries this cache holds.
    pub fn max_entries(&self) -> usize {
        self.cache.max_entries()
    }

    /// How many entries it holds and how lookups went.
    pub fn stats(&self) -> KeyCacheStats {
        self.cache.stats()
    }

    /// Drops every entry (the counters stay).
    pub fn clear(&self) {
        self.cache.clear();
    }

    /// The parsed form of the record `text`, read now if it is not held.
    /// Records that do not parse are not kept.
    pub(crate) fn get_or_parse(&self, text: &[u8]) -> Result<Arc<ParsedKey>, KeyRecordError> {
        self.cache.get_or_parse(0, text, ParsedKey::parse)
    }
}

impl fmt::Debug for KeyCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyCache")
            .field("max_entries", &self.max_entries())
            .field("stats", &self.stats())
            .finish()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const ED_RECORD: &[u8] = b"v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";

    #[test]
    fn second_lookup_is_a_hit_and_shares_the_entry() {
        let cache = KeyCache::default();
        let first = cache.get_or_parse(ED_RECORD).unwrap();
        let handle = cache.clone();
        let second = handle.get_or_parse(ED_RECORD).unwrap();
        assert!(Arc::ptr_eq(&first, &second));
        assert_eq!(
            cache.stats(),
            KeyCacheStats {
                entries: 1,
                hits: 1,
                misses: 1
            }
        );
        assert_eq!(cache, handle);
        assert_ne!(cache, KeyCache::default());
        assert_eq!(KeyCache::process_wide(), KeyCache::process_wide());
    }

    #[test]
    fn bounded_least_recently_used_goes_first() {
        let cache = KeyCache::new(2);
        cache.get_or_parse(b"p=").unwrap();
        cache.get_or_parse(b"t=y; p=").unwrap();
        cache.get_or_parse(b"p=").unwrap(); // now the newest
        cache.get_or_parse(b"t=s; p=").unwrap(); // evicts "t=y; p="
        assert_eq!(cache.stats().entries, 2);
        let before = cache.stats().misses;
        cache.get_or_parse(b"p=").unwrap();
        assert_eq!(cache.stats().misses, before);
        cache.get_or_parse(b"t=y; p=").unwrap();
        assert_eq!(cache.stats().misses, before + 1);
    }

    #[test]
    fn errors_are_not_kept_and_zero_keeps_nothing() {
        let cache = KeyCache::default();
        assert!(cache.get_or_parse(b"k=nonsense; p=").is_err());
        assert_eq!(cache.stats().entries, 0);
        let none = KeyCache::new(0);
        none.get_or_parse(ED_RECORD).unwrap();
        none.get_or_parse(ED_RECORD).unwrap();
        assert_eq!(none.stats().entries, 0);
        assert_eq!(none.stats().misses, 2);
    }

    #[test]
    fn revoked_and_bad_keys_are_read_once() {
        let cache = KeyCache::default();
        assert!(cache.get_or_parse(b"p=").unwrap().key.is_none());
        let bad = cache.get_or_parse(b"k=ed25519; p=AAAA").unwrap();
        assert!(matches!(
            bad.key,
            Some(Err(KeyError::Ed25519Length { length: 3 }))
        ));
        assert_eq!(bad.key_type(), KeyType::Ed25519);
    }
}
