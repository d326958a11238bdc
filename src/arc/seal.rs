//! ARC sealing (RFC 8617 §5.1): adding an ARC set to a message.

use std::sync::Arc;

use super::{MAX_INSTANCE, Outcome};
use crate::authres::MethodResult;
use crate::dkim::sign::{DEFAULT_HEADERS, InvalidValue};
use crate::dkim::{Algorithm, CryptoError, KeyType, SigningKey};
use crate::message::{HeaderError, HeaderLimits};

/// How to seal. Defaults: the header fields DKIM signs by default
/// ([`DEFAULT_HEADERS`]), relaxed/relaxed, at most 50 sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealOptions {
    /// Header fields the ARC-Message-Signature signs when present (`h=`),
    /// case-insensitive, each instance present listed once.
    pub headers: Vec<String>,
    /// Bounds on the header of the message read.
    pub header_limits: HeaderLimits,
    /// The most ARC sets a message may carry after sealing; a message
    /// that already has this many gets none ([`SealOutcome::TooManySets`]).
    /// Default and ceiling 50.
    pub max_sets: usize,
}

impl Default for SealOptions {
    fn default() -> SealOptions {
        SealOptions {
            headers: DEFAULT_HEADERS.iter().map(|s| (*s).to_owned()).collect(),
            header_limits: HeaderLimits::default(),
            max_sets: MAX_INSTANCE as usize,
        }
    }
}

/// Why a message could not be sealed, or a sealer not built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SealError {
    /// A domain, selector or header name is not valid.
    #[error(transparent)]
    Invalid(#[from] InvalidValue),
    /// The authserv-id is not a valid token or domain.
    #[error("invalid authserv-id {0:?}")]
    AuthservId(String),
    /// The message header went past the configured bounds.
    #[error("message header too large: {0}")]
    Header(#[from] HeaderError),
    /// The key refused to sign.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// The key is of a type this sealer cannot use.
    #[error("no signing algorithm for {0} keys")]
    KeyType(KeyType),
    /// The chain status given is not from this message: the validation
    /// counted `validated` sets, the message holds `found`.
    #[error("chain status for {validated} arc sets, the message has {found}")]
    ChainMismatch {
        /// Sets in the validation outcome.
        validated: usize,
        /// Sets in the message sealed.
        found: usize,
    },
}

/// What sealing gave.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SealOutcome {
    /// The new ARC set to add at the top of the message.
    Sealed(SealedSet),
    /// The chain already failed: no set is added (RFC 8617 §5.1.2: a
    /// sealer does not extend a failed chain).
    ChainFailed,
    /// The message already carries [`SealOptions::max_sets`] sets.
    TooManySets,
}

/// A new ARC set: three header fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedSet {
    instance: u32,
    authentication_results: String,
    message_signature: String,
    seal: String,
}

impl SealedSet {
    /// The instance of the new set.
    pub fn instance(&self) -> u32 {
        self.instance
    }

    /// The value of the ARC-Authentication-Results (after `": "`, folded
    /// with CRLF SP, no final CRLF).
    pub fn authentication_results(&self) -> &str {
        &self.authentication_results
    }

    /// The value of the ARC-Message-Signature.
    pub fn message_signature(&self) -> &str {
        &self.message_signature
    }

    /// The value of the ARC-Seal.
    pub fn seal(&self) -> &str {
        &self.seal
    }

    /// The three fields as `(name, value)` in the order to insert them one
    /// by one at the top of the message (each new one above the previous):
    /// ARC-Authentication-Results, ARC-Message-Signature, ARC-Seal. The
    /// message then reads ARC-Seal, ARC-Message-Signature,
    /// ARC-Authentication-Results from the top.
    pub fn fields(&self) -> [(&'static str, &str); 3] {
        [
            (
                super::parse::AUTHENTICATION_RESULTS,
                &self.authentication_results,
            ),
            (super::parse::MESSAGE_SIGNATURE, &self.message_signature),
            (super::parse::SEAL, &self.seal),
        ]
    }

    /// The three fields as header lines with CRLF, top to bottom, ready to
    /// put in front of the message.
    pub fn to_header_lines(&self) -> String {
        let mut out = String::new();
        for (name, value) in self.fields().iter().rev() {
            out.push_str(name);
            out.push_str(": ");
            out.push_str(value);
            out.push_str("\r\n");
        }
        out
    }
}

/// Who seals and how. Build once, seal many messages.
#[derive(Debug, Clone)]
pub struct Sealer {
    domain: String,
    selector: String,
    authserv_id: String,
    key: Arc<SigningKey>,
    algorithm: Algorithm,
    options: SealOptions,
}

impl Sealer {
    /// A sealer for `domain` (`d=`) and `selector` (`s=`) with `key`
    /// (rsa-sha256 or ed25519-sha256, following the key), writing
    /// `authserv_id` in the ARC-Authentication-Results.
    pub fn new(
        domain: &str,
        selector: &str,
        key: Arc<SigningKey>,
        authserv_id: &str,
        options: SealOptions,
    ) -> Result<Sealer, SealError> {
        let _ = (domain, selector, key, authserv_id, options);
        todo!()
    }

    /// The sealing domain (`d=`).
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// The selector (`s=`).
    pub fn selector(&self) -> &str {
        &self.selector
    }

    /// The authserv-id written in the ARC-Authentication-Results.
    pub fn authserv_id(&self) -> &str {
        &self.authserv_id
    }

    /// The algorithm (`a=`).
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// Starts sealing one message; `now` is the time written in `t=`
    /// (seconds since the Unix epoch).
    pub fn start(&self, now: u64) -> Sealing<'_> {
        let _ = (now, &self.key, &self.options);
        todo!()
    }

    /// As [`start`](Self::start), the sealing owning the sealer.
    pub fn into_sealing(self, now: u64) -> Sealing<'static> {
        let _ = now;
        todo!()
    }

    /// Seals a whole message (see [`Sealing::finish`]).
    pub fn seal(
        &self,
        message: &[u8],
        now: u64,
        chain: &Outcome,
        results: &[MethodResult],
    ) -> Result<SealOutcome, SealError> {
        let mut sealing = self.start(now);
        sealing.update(message);
        sealing.finish(chain, results)
    }
}

/// One message being sealed: feed it with [`update`](Self::update), then
/// [`finish`](Self::finish). Memory stays bounded by the header limits.
#[derive(Debug)]
pub struct Sealing<'a> {
    sealer: std::borrow::Cow<'a, Sealer>,
}

impl Sealing<'_> {
    /// Feeds the next chunk of the message (split anywhere).
    pub fn update(&mut self, chunk: &[u8]) {
        let _ = (chunk, &self.sealer);
        todo!()
    }

    /// Builds the new ARC set. `chain` is the outcome of validating the
    /// same message ([`Validator`](super::Validator)): `none` gives
    /// `cv=none` and instance 1, `pass` gives `cv=pass`, `fail` gives
    /// [`SealOutcome::ChainFailed`]. `results` go into the
    /// ARC-Authentication-Results after the authserv-id, in order (include
    /// the `arc=` result, [`Outcome::to_method_result`]).
    pub fn finish(
        self,
        chain: &Outcome,
        results: &[MethodResult],
    ) -> Result<SealOutcome, SealError> {
        let _ = (chain, results);
        todo!()
    }

    /// As [`finish`](Self::finish), the ARC-Authentication-Results taking
    /// the results of the message's own Authentication-Results fields that
    /// carry the sealer's authserv-id, each result copied as written
    /// (comments kept), in message order.
    pub fn finish_with_header_results(self, chain: &Outcome) -> Result<SealOutcome, SealError> {
        let _ = chain;
        todo!()
    }
}
