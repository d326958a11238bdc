//! ARC, the Authenticated Received Chain (RFC 8617): chain validation and
//! sealing, built on the DKIM machinery (canonicalization, tag lists, key
//! records, the key cache, the crypto backends, signing keys).
//!
//! - Validating: a [`Validator`] takes the message in chunks of any size;
//!   [`Validator::finish`] turns it into a [`Validation`], a
//!   [`Machine`](crate::Machine) that asks for every key record at once and
//!   ends in an [`Outcome`]: `none`, `pass` or `fail` ([`ArcResult`]), the
//!   number of ARC sets, the oldest instance whose ARC-Message-Signature
//!   still validates (`header.oldest-pass`) and, when not `pass`, a typed
//!   [`Reason`].
//! - Sealing: a [`Sealer`] (domain, selector,
//!   [`SigningKey`](crate::dkim::SigningKey), authserv-id,
//!   [`SealOptions`]) starts a [`Sealing`] that takes the message in chunks;
//!   [`Sealing::finish`] takes the chain status found by a validation of the
//!   same message and the authentication results to record, and gives a
//!   [`SealOutcome`]: the new ARC set ([`SealedSet`]: ARC-Authentication-
//!   Results, ARC-Message-Signature, ARC-Seal) or why none is added.
//!
//! Memory stays constant whatever the body size: the body is hashed while
//! it streams.
//!
//! # Readings of RFC 8617
//!
//! Where the RFC leaves room, this module reads it as the ValiMail ARC test
//! suite does (`tests/arc_suite.rs`, all cases pass):
//! - an ARC-Message-Signature without `c=` is relaxed/relaxed (suite case
//!   `ams_fields_c_na`); its `h=` may be empty or hold empty names, need not
//!   name From, and must not name ARC-Seal (`ams_fields_h_includes_as`);
//! - a chain found failing is sealed with `cv=fail`, the seal then covering
//!   the new set alone (`i1_base_fail`); a chain whose newest seal already
//!   says `cv=fail` gets no new set (`no_additional_sig`);
//! - `t=` is not checked against any clock;
//! - `header.oldest-pass` is 0 when every ARC-Message-Signature validates,
//!   else the lowest instance from which all newer ones do.
//!
//! ```
//! use std::sync::Arc;
//! use mailauth::arc::{self, ArcResult, SealOptions, SealOutcome, Sealer, Validator};
//! use mailauth::authres::MethodResult;
//! use mailauth::dkim::{NewKey, keygen};
//! use mailauth::dns::{Name, ZoneResolver};
//!
//! let key = keygen::generate(NewKey::Ed25519).unwrap();
//! let mut zone = ZoneResolver::new();
//! zone.add_txt(&Name::new("arc._domainkey.relay.example").unwrap(), key.record().text());
//! let key = Arc::new(key.into_signing_key());
//! let message = b"From: a@example.com\r\nSubject: hi\r\n\r\nHello.\r\n";
//!
//! // A first hop: the message has no ARC set yet (arc=none).
//! let config = arc::Config::default();
//! let mut validator = Validator::new(&config);
//! validator.feed(message);
//! let chain = mailauth::resolve(validator.finish(), &zone);
//! assert_eq!(chain.result, ArcResult::None);
//!
//! let sealer = Sealer::new("relay.example", "arc", key, "mx.relay.example", SealOptions::default()).unwrap();
//! let results = [chain.to_method_result(), MethodResult {
//!     method: "spf".into(), result: "pass".into(), reason: None, properties: Vec::new(),
//! }];
//! let SealOutcome::Sealed(set) = sealer.seal(message, 1_700_000_000, &chain, &results).unwrap() else {
//!     panic!("sealed");
//! };
//! assert_eq!(set.instance(), 1);
//!
//! // The next hop validates the sealed message.
//! let mut sealed = set.to_header_lines().into_bytes();
//! sealed.extend_from_slice(message);
//! let mut validator = Validator::new(&config);
//! validator.feed(&sealed);
//! let outcome = mailauth::resolve(validator.finish(), &zone);
//! assert_eq!(outcome.result, ArcResult::Pass);
//! assert_eq!(outcome.sets, 1);
//! ```

use std::fmt;

pub mod parse;
pub mod seal;
pub mod trust;
pub mod validate;

pub use parse::{ArcField, FieldError};
pub use seal::{SealError, SealOptions, SealOutcome, SealedSet, Sealer, Sealing};
pub use trust::trusted_override;
pub use validate::{Validation, Validator};

use crate::authres::{MethodResult, Property};
use crate::dkim::KeyCache;
use crate::dns::Name;
use crate::message::{HeaderError, HeaderLimits};
use crate::word::Word;

/// The highest instance number an ARC set may carry (RFC 8617 §4.2.1).
pub const MAX_INSTANCE: u32 = 50;

/// Settings of ARC validation. Every limit has a safe default; build with
/// `Config { field: value, ..Config::default() }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The most ARC sets accepted; a chain with more fails
    /// ([`StructureError::TooManySets`]). Default and ceiling 50, the
    /// highest instance RFC 8617 §4.2.1 allows.
    pub max_sets: usize,
    /// Accept rsa-sha1 signatures. Default false (RFC 8301 §3.1).
    pub allow_sha1: bool,
    /// Smallest RSA key accepted, in bits. Default 1024 (RFC 8301 §3.2).
    pub min_rsa_bits: usize,
    /// Also verify the ARC-Message-Signatures older than the newest, to
    /// report [`Outcome::oldest_pass`] (RFC 8617 §5.2 step 5, optional
    /// there). Costs one signature check per older set: validating n sets
    /// takes n + 1 checks without it, 2n with it. Default false.
    pub oldest_pass: bool,
    /// The most header fields read (default 1,000).
    pub max_header_fields: usize,
    /// The most header octets read (default 1 MiB).
    pub max_header_bytes: usize,
    /// Key records read once and kept across messages; shared with DKIM
    /// by default ([`KeyCache::process_wide`]). `None` reads each key
    /// record anew.
    pub key_cache: Option<KeyCache>,
}

impl Default for Config {
    fn default() -> Config {
        let limits = HeaderLimits::default();
        Config {
            max_sets: MAX_INSTANCE as usize,
            allow_sha1: false,
            min_rsa_bits: 1024,
            oldest_pass: false,
            max_header_fields: limits.max_fields,
            max_header_bytes: limits.max_bytes,
            key_cache: Some(KeyCache::process_wide()),
        }
    }
}

/// The ARC result of a message (RFC 8617 §4.4, the `arc` method of
/// RFC 8601), also the chain validation status written in `cv=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ArcResult {
    /// No ARC set in the message.
    None,
    /// Every ARC-Seal and the newest ARC-Message-Signature validate.
    Pass,
    /// The chain is broken or malformed (see [`Outcome::reason`]).
    Fail,
}

impl ArcResult {
    /// The word of Authentication-Results and of `cv=`: `none`, `pass`,
    /// `fail`.
    pub fn as_str(self) -> &'static str {
        match self {
            ArcResult::None => "none",
            ArcResult::Pass => "pass",
            ArcResult::Fail => "fail",
        }
    }
}

impl Word for ArcResult {
    const ALL: &'static [ArcResult] = &[ArcResult::None, ArcResult::Pass, ArcResult::Fail];

    fn word(self) -> &'static str {
        self.as_str()
    }
}

impl std::str::FromStr for ArcResult {
    type Err = crate::authres::UnknownResult;

    /// `none`, `pass` or `fail`, in any case.
    fn from_str(s: &str) -> Result<ArcResult, crate::authres::UnknownResult> {
        ArcResult::from_word(s).ok_or(crate::authres::UnknownResult)
    }
}

impl fmt::Display for ArcResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A problem with the shape of the chain (RFC 8617 §5.1.1, §5.2 step 2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StructureError {
    /// An ARC field whose `i=` is missing or not a number from 1 to 50.
    #[error("{field} with a missing or invalid instance")]
    InvalidInstance {
        /// The kind of field.
        field: ArcField,
        /// What is wrong with it.
        error: FieldError,
    },
    /// An instance lacks one of its three fields.
    #[error("{field} missing for instance {instance}")]
    MissingField {
        /// The instance.
        instance: u32,
        /// The missing kind of field.
        field: ArcField,
    },
    /// Two fields of the same kind carry the same instance.
    #[error("more than one {field} for instance {instance}")]
    DuplicateField {
        /// The instance.
        instance: u32,
        /// The repeated kind of field.
        field: ArcField,
    },
    /// Instances do not run from 1 without a gap: `instance` is absent
    /// while a higher one is present.
    #[error("no arc set for instance {instance} below the highest")]
    MissingSet {
        /// The first absent instance.
        instance: u32,
    },
    /// More ARC sets than [`Config::max_sets`].
    #[error("{found} arc sets, at most {max} accepted")]
    TooManySets {
        /// The highest instance found.
        found: u32,
        /// The configured maximum.
        max: usize,
    },
}

/// Why a chain is `fail`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Reason {
    /// The sets are missing, duplicated, have gaps or are too many.
    #[error("{0}")]
    Structure(StructureError),
    /// A field of an instance is malformed.
    #[error("malformed {field} for instance {instance}: {error}")]
    Malformed {
        /// The instance.
        instance: u32,
        /// The kind of field.
        field: ArcField,
        /// What is wrong.
        error: FieldError,
    },
    /// The newest ARC-Seal says an earlier hop found the chain failed
    /// (`cv=fail`).
    #[error("chain marked failed by instance {instance}")]
    ChainFailed {
        /// The instance with `cv=fail`.
        instance: u32,
    },
    /// An ARC-Seal has the wrong `cv=`: instance 1 must say `none`, the
    /// others `pass` (RFC 8617 §5.1.2).
    #[error("instance {instance} has cv={found}")]
    UnexpectedChainStatus {
        /// The instance.
        instance: u32,
        /// Its `cv=`.
        found: ArcResult,
    },
    /// The newest ARC-Message-Signature does not validate.
    #[error("arc-message-signature {instance}: {reason}")]
    MessageSignature {
        /// The instance.
        instance: u32,
        /// Why, in DKIM's terms.
        reason: crate::dkim::Reason,
    },
    /// An ARC-Seal does not validate.
    #[error("arc-seal {instance}: {reason}")]
    Seal {
        /// The instance.
        instance: u32,
        /// Why, in DKIM's terms.
        reason: crate::dkim::Reason,
    },
    /// The message header went past a configured bound, so the ARC fields
    /// cannot be trusted to be all there.
    #[error("message header too large: {0}")]
    HeaderLimit(HeaderError),
}

/// What a validation tells about one ARC set.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SetSummary {
    /// The instance (`i=`).
    pub instance: u32,
    /// The ARC-Seal's `d=`.
    pub seal_domain: Name,
    /// The ARC-Seal's `s=`.
    pub seal_selector: String,
    /// The ARC-Message-Signature's `d=`.
    pub signature_domain: Name,
    /// The ARC-Message-Signature's `s=`.
    pub signature_selector: String,
    /// The ARC-Seal's `cv=`.
    pub chain_status: ArcResult,
}

/// The outcome of validating a message's ARC chain (RFC 8617 §5.2).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Outcome {
    /// `none`, `pass` or `fail`.
    pub result: ArcResult,
    /// Why the result is `fail`; `None` for `none` and `pass`.
    pub reason: Option<Reason>,
    /// The number of ARC sets (the highest instance), also when they fail;
    /// 0 for `none`. When the structure is broken, the highest instance
    /// seen.
    pub sets: usize,
    /// `header.oldest-pass` (RFC 8617 §7.2): with a `pass` and
    /// [`Config::oldest_pass`], the lowest instance from which every
    /// ARC-Message-Signature up to the newest validates, or 0 when all of
    /// them validate. `None` when not computed or not `pass`.
    pub oldest_pass: Option<u32>,
    /// One summary per ARC set, oldest first, when the structure is sound
    /// (empty otherwise).
    pub instances: Vec<SetSummary>,
    /// The header went past a configured bound.
    pub header_error: Option<HeaderError>,
}

impl Outcome {
    /// The outcome of a message without ARC sets.
    pub fn none() -> Outcome {
        Outcome {
            result: ArcResult::None,
            reason: None,
            sets: 0,
            oldest_pass: None,
            instances: Vec::new(),
            header_error: None,
        }
    }

    /// The `arc=` entry of Authentication-Results (RFC 8617 §10.1, RFC 8601
    /// registry: `header.oldest-pass`).
    pub fn to_method_result(&self) -> MethodResult {
        let mut properties = Vec::new();
        if let Some(oldest) = self.oldest_pass {
            properties.push(Property::new(
                "header",
                "oldest-pass",
                smol_str::format_smolstr!("{oldest}"),
            ));
        }
        MethodResult {
            method: "arc".into(),
            result: self.result.as_str().into(),
            reason: self.reason.as_ref().map(ToString::to_string),
            properties,
        }
    }
}

#[cfg(test)]
mod tests;
