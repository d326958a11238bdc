//! DKIM (RFC 6376, with RFC 8301 and RFC 8463).
//!
//! - Verifying: a [`Verifier`] takes the message in chunks, and
//!   [`Verifier::finish`] turns it into a [`VerifyCheck`], a
//!   [`Machine`](crate::Machine) that asks for the key records and ends in a
//!   [`Verification`]: one [`SignatureResult`] per DKIM-Signature field.
//! - Signing: a [`Signer`] (domain, selector, [`SigningKey`],
//!   [`SignOptions`]) makes the DKIM-Signature field to prepend; a
//!   [`SigningTable`] chooses the signer from the From address.
//! - Keys: [`keygen`] makes new keys and the TXT record to publish;
//!   [`KeyRecord`] is a published record, parsed; a [`KeyCache`] keeps
//!   parsed keys across messages.
//!
//! The types are re-exported here; their modules hold the constants and the
//! functions.
//!
//! ```
//! use std::sync::Arc;
//! use mailauth::dkim::{DkimResult, NewKey, SignOptions, Signer, Verifier, VerifyConfig, keygen};
//! use mailauth::dns::{Name, ZoneResolver};
//!
//! let now = 1_700_000_000;
//! let key = keygen::generate(NewKey::Ed25519).unwrap();
//! let mut zone = ZoneResolver::new();
//! zone.add_txt(&Name::new("mail._domainkey.example.com").unwrap(), key.record().text());
//!
//! let key = Arc::new(key.into_signing_key());
//! let signer = Signer::new("example.com", "mail", key, SignOptions::default()).unwrap();
//! let message = b"From: a@example.com\r\nSubject: hi\r\n\r\nHello.\r\n";
//! let field = signer.sign(message, now).unwrap();
//!
//! let mut verifier = Verifier::new(&VerifyConfig::default(), now);
//! verifier.feed(field.to_header_line().as_bytes());
//! verifier.feed(message);
//! let verification = mailauth::resolve(verifier.finish(), &zone);
//! assert_eq!(verification.signatures[0].result, DkimResult::Pass);
//! ```

use std::fmt;

pub mod cache;
pub mod canon;
pub mod crypto;
pub mod key;
pub mod keygen;
pub mod sign;
pub mod signature;
pub mod table;
pub mod tags;
pub mod verify;

pub use cache::{KeyCache, KeyCacheStats};
pub use canon::{
    BodyCanonicalization, BodyHash, BodyHasher, Canonicalization, HeaderCanonicalization,
};
pub use crypto::{CryptoError, KeyError, PublicKey, SigningKey};
pub use key::{KeyRecord, KeyRecordError};
pub use keygen::{GeneratedKey, KeygenError, NewKey, RecordCheck, RecordProblem};
pub use sign::{InvalidValue, SignError, SignOptions, SignatureField, Signer, Signing};
pub use signature::{Identity, Signature, SignatureFieldError};
pub use table::{
    KeyEntry, KeyTableEntry, Pattern, Selection, SigningDomain, SigningTable, TableError,
};
pub use tags::TagError;
pub use verify::{
    DkimResult, Reason, SignatureResult, UnsignedBodyContent, Verification, Verifier, VerifyCheck,
    VerifyConfig,
};

/// The key types of a DKIM key record's `k=` tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyType {
    /// RSA (RFC 6376 §3.3.1).
    Rsa,
    /// Ed25519 (RFC 8463).
    Ed25519,
}

impl KeyType {
    /// The name used in `k=` (`"rsa"`, `"ed25519"`).
    pub fn as_str(self) -> &'static str {
        match self {
            KeyType::Rsa => "rsa",
            KeyType::Ed25519 => "ed25519",
        }
    }
}

impl fmt::Display for KeyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The hash algorithms of DKIM (`h=` of a key record, second half of `a=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HashAlgorithm {
    /// SHA-1: refused by default (RFC 8301 §3.1).
    Sha1,
    /// SHA-256.
    Sha256,
}

impl HashAlgorithm {
    /// The name used in tags (`"sha1"`, `"sha256"`).
    pub fn as_str(self) -> &'static str {
        match self {
            HashAlgorithm::Sha1 => "sha1",
            HashAlgorithm::Sha256 => "sha256",
        }
    }
}

impl fmt::Display for HashAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A signing algorithm: the `a=` tag of a DKIM-Signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Algorithm {
    /// `rsa-sha1`: refused by default (RFC 8301 §3.1).
    RsaSha1,
    /// `rsa-sha256` (RFC 6376 §3.3.2).
    RsaSha256,
    /// `ed25519-sha256` (RFC 8463 §3).
    Ed25519Sha256,
}

impl Algorithm {
    /// Parses the value of `a=` (case-insensitive).
    pub fn from_name(name: &str) -> Option<Algorithm> {
        [
            Algorithm::RsaSha1,
            Algorithm::RsaSha256,
            Algorithm::Ed25519Sha256,
        ]
        .into_iter()
        .find(|a| a.as_str().eq_ignore_ascii_case(name))
    }

    /// The name used in `a=`.
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::RsaSha1 => "rsa-sha1",
            Algorithm::RsaSha256 => "rsa-sha256",
            Algorithm::Ed25519Sha256 => "ed25519-sha256",
        }
    }

    /// The key type the algorithm signs with.
    pub fn key_type(self) -> KeyType {
        match self {
            Algorithm::RsaSha1 | Algorithm::RsaSha256 => KeyType::Rsa,
            Algorithm::Ed25519Sha256 => KeyType::Ed25519,
        }
    }

    /// The hash algorithm used for the body and the header data.
    pub fn hash(self) -> HashAlgorithm {
        match self {
            Algorithm::RsaSha1 => HashAlgorithm::Sha1,
            Algorithm::RsaSha256 | Algorithm::Ed25519Sha256 => HashAlgorithm::Sha256,
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
