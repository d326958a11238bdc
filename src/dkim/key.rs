//! DKIM key records (RFC 6376 §3.6.1), parsed.
//!
//! ```text
//! v= DKIM1 (optional, first if present)   h= acceptable hashes (default all)
//! k= key type (default rsa)               n= notes
//! p= public key, base64 (required; empty = revoked)
//! s= service types (default *)            t= flags: y (testing), s (strict i=)
//! ```
//!
//! Unknown tags, unknown hash names in `h=`, unknown service types and
//! unknown flags are ignored, as §3.6.1 says. An unknown `k=` is an error.

use super::tags::{self, TagError, TagList};
use super::{HashAlgorithm, KeyType};

/// Why a key record cannot be used (a permanent error).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyRecordError {
    /// The tag list is malformed, `p=` is missing or not base64.
    #[error(transparent)]
    Tag(#[from] TagError),
    /// `v=` is present but is not `DKIM1`.
    #[error("unsupported key record version")]
    UnsupportedVersion,
    /// `v=` is present but is not the first tag.
    #[error("key record version tag is not first")]
    VersionNotFirst,
    /// `k=` names a key type this library does not know.
    #[error("unsupported key type")]
    UnsupportedKeyType,
}

/// A parsed key record.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct KeyRecord {
    /// `h=`: the hash algorithms the key may be used with; `None` when the
    /// tag is absent (all allowed). Unknown names are dropped, so a list of
    /// only unknown names allows nothing.
    pub acceptable_hashes: Option<Vec<HashAlgorithm>>,
    /// `k=`: the key type (default RSA).
    pub key_type: KeyType,
    /// `n=`: notes for humans.
    pub notes: Option<String>,
    /// `p=`: the public key data, base64-decoded. Empty means the key was
    /// revoked.
    pub public_key: Vec<u8>,
    /// `s=`: the service types, as written (default `*`).
    pub service_types: Vec<String>,
    /// `t=y`: the domain is testing DKIM.
    pub testing: bool,
    /// `t=s`: the domain of `i=` must be exactly `d=`, not a subdomain.
    pub strict_identity: bool,
}

impl KeyRecord {
    /// Parses a key record (the TXT record's strings joined).
    ///
    /// # Errors
    /// A [`KeyRecordError`] naming the first problem found.
    pub fn parse(text: &[u8]) -> Result<KeyRecord, KeyRecordError> {
        let list = TagList::parse(text)?;
        if let Some(version) = list.get("v") {
            if version != b"DKIM1" {
                return Err(KeyRecordError::UnsupportedVersion);
            }
            if list.tags().first().map(|t| t.name) != Some("v") {
                return Err(KeyRecordError::VersionNotFirst);
            }
        }
        let acceptable_hashes = list.get("h").map(|h| {
            tags::split_list(h)
                .filter_map(|name| {
                    if name.eq_ignore_ascii_case(b"sha1") {
                        Some(HashAlgorithm::Sha1)
                    } else if name.eq_ignore_ascii_case(b"sha256") {
                        Some(HashAlgorithm::Sha256)
                    } else {
                        None
                    }
                })
                .collect()
        });
        let key_type = match list.get("k") {
            None => KeyType::Rsa,
            Some(k) if k.eq_ignore_ascii_case(b"rsa") => KeyType::Rsa,
            Some(k) if k.eq_ignore_ascii_case(b"ed25519") => KeyType::Ed25519,
            Some(_) => return Err(KeyRecordError::UnsupportedKeyType),
        };
        let notes = list
            .get("n")
            .map(|n| String::from_utf8_lossy(n).into_owned());
        let public_key = tags::decode_base64("p", list.required("p")?)?;
        let service_types = match list.get("s") {
            Some(s) => tags::split_list(s)
                .map(|t| String::from_utf8_lossy(t).into_owned())
                .collect(),
            None => vec!["*".to_owned()],
        };
        let flags: Vec<&[u8]> = list
            .get("t")
            .map(|t| tags::split_list(t).collect())
            .unwrap_or_default();
        Ok(KeyRecord {
            acceptable_hashes,
            key_type,
            notes,
            public_key,
            service_types,
            testing: flags.contains(&&b"y"[..]),
            strict_identity: flags.contains(&&b"s"[..]),
        })
    }

    /// Whether the key was revoked (empty `p=`, RFC 6376 §3.6.1).
    pub fn is_revoked(&self) -> bool {
        self.public_key.is_empty()
    }

    /// Whether the key may be used with `hash` (`h=`).
    pub fn allows_hash(&self, hash: HashAlgorithm) -> bool {
        self.acceptable_hashes
            .as_ref()
            .is_none_or(|hashes| hashes.contains(&hash))
    }

    /// Whether the key may be used for email (`s=` holds `email` or `*`).
    pub fn allows_email(&self) -> bool {
        self.service_types
            .iter()
            .any(|s| s == "*" || s.eq_ignore_ascii_case("email"))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn rfc8463_records() {
        let key =
            KeyRecord::parse(b"v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=")
                .unwrap();
        assert_eq!(key.key_type, KeyType::Ed25519);
        assert_eq!(key.public_key.len(), 32);
        assert!(key.allows_email());
        assert!(key.allows_hash(HashAlgorithm::Sha1));
        assert!(!key.is_revoked());
    }

    #[test]
    fn flags_and_lists() {
        let key = KeyRecord::parse(
            b"v=DKIM1; s=email:web:fine; x1 = extra ; t = y:n:extra; h=md5:sha1; p=AAAA ; ",
        )
        .unwrap();
        assert!(key.testing);
        assert!(!key.strict_identity);
        assert!(key.allows_hash(HashAlgorithm::Sha1));
        assert!(!key.allows_hash(HashAlgorithm::Sha256));
        let key = KeyRecord::parse(b"t=s; h=bad; s=chat; p=").unwrap();
        assert!(key.strict_identity);
        assert!(key.is_revoked());
        assert!(!key.allows_hash(HashAlgorithm::Sha256));
        assert!(!key.allows_email());
    }

    #[test]
    fn errors() {
        assert_eq!(
            KeyRecord::parse(b"v=DKIM1:; p=AAAA"),
            Err(KeyRecordError::UnsupportedVersion)
        );
        assert_eq!(
            KeyRecord::parse(b"v=DKIM3; p=AAAA"),
            Err(KeyRecordError::UnsupportedVersion)
        );
        assert_eq!(
            KeyRecord::parse(b"p=AAAA; v=DKIM1"),
            Err(KeyRecordError::VersionNotFirst)
        );
        assert_eq!(
            KeyRecord::parse(b"k=foobar; p=AAAA"),
            Err(KeyRecordError::UnsupportedKeyType)
        );
        assert_eq!(
            KeyRecord::parse(b"k=rsa"),
            Err(KeyRecordError::Tag(TagError::MissingTag { name: "p" }))
        );
        assert_eq!(
            KeyRecord::parse(b""),
            Err(KeyRecordError::Tag(TagError::MissingTag { name: "p" }))
        );
        assert_eq!(
            KeyRecord::parse(b"k=rsa; t; p="),
            Err(KeyRecordError::Tag(TagError::MissingEquals {
                name: "t".into()
            }))
        );
        assert!(matches!(
            KeyRecord::parse(b"\xff\x00garbage"),
            Err(KeyRecordError::Tag(_))
        ));
    }
}
