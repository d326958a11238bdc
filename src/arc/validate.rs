//! ARC chain validation (RFC 8617 §5.2) as a sans-IO machine.

use super::{Config, Outcome};
use crate::dns::{Answer, Query};
use crate::machine::{Machine, Poll, UnexpectedAnswer};
use crate::message::HeaderField;

/// Streams a message and collects what validation needs.
///
/// Call [`feed`](Self::feed) with each chunk of the message (any split),
/// then [`finish`](Self::finish), and drive the returned [`Validation`].
#[derive(Debug)]
pub struct Validator {
    config: Config,
}

impl Validator {
    /// A validator for one message.
    pub fn new(config: &Config) -> Validator {
        Validator {
            config: config.clone(),
        }
    }

    /// Feeds the next chunk of the message.
    pub fn feed(&mut self, chunk: &[u8]) {
        let _ = chunk;
        todo!()
    }

    /// Ends the message; the returned machine fetches the keys and
    /// validates the chain.
    pub fn finish(self) -> Validation {
        self.finish_with_fields().0
    }

    /// As [`finish`](Self::finish), also returning the header fields read.
    pub fn finish_with_fields(self) -> (Validation, Vec<HeaderField>) {
        let _ = self.config;
        todo!()
    }
}

/// The key lookups and signature checks of one chain: a [`Machine`] whose
/// output is an [`Outcome`].
#[derive(Debug, Clone)]
pub struct Validation {
    outcome: Outcome,
}

impl Machine for Validation {
    type Output = Outcome;

    fn poll(&mut self) -> Poll<Outcome> {
        let _ = &self.outcome;
        todo!()
    }

    fn supply(&mut self, query: &Query, answer: Answer) -> Result<(), UnexpectedAnswer> {
        let _ = (query, answer);
        todo!()
    }
}
