//! The sans-IO seam shared by every check.
//!
//! A check (SPF, DKIM verification, DMARC, the inbound pipeline) is a value
//! that never performs I/O. The caller drives it:
//!
//! 1. call [`Machine::poll`]: it returns either the DNS queries the check
//!    needs now ([`Poll::Lookups`]) or the final outcome ([`Poll::Done`]);
//! 2. resolve those queries in any way (blocking, async, in parallel, from
//!    raw packets handed over by an MTA) and hand each answer back with
//!    [`Machine::supply`], in any order;
//! 3. go back to 1.
//!
//! The queries of one [`Poll::Lookups`] are independent of each other, so a
//! caller may resolve them concurrently. Calling `poll` again before all of
//! them are answered returns the ones still outstanding (the call is
//! idempotent); once every outstanding query has an answer, `poll` moves the
//! check forward. [`resolve`] is the blocking driver over a [`Resolver`].

use crate::dns::{Answer, Query, Resolver};

/// What a check asks for next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Poll<T> {
    /// The check needs the answers to these queries before it can go on.
    /// The list is never empty.
    Lookups(Vec<Query>),
    /// The check has finished with this outcome. Polling again returns the
    /// same outcome.
    Done(T),
}

/// An answer was supplied for a query the check is not waiting for.
///
/// The answer is dropped and the check is unchanged; this is a caller bug,
/// not a protocol outcome.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("answer supplied for a query that was not asked: {query}")]
pub struct UnexpectedAnswer {
    /// The query the unexpected answer was for.
    pub query: Query,
}

/// A check driven by DNS answers: the common shape of every sans-IO machine
/// in this crate.
pub trait Machine {
    /// The outcome of the check.
    type Output: Clone;

    /// Advances the check as far as the answers supplied so far allow, and
    /// says what it needs next (see the [module docs](self)).
    fn poll(&mut self) -> Poll<Self::Output>;

    /// Hands over the answer to one query returned by [`Machine::poll`].
    ///
    /// # Errors
    /// [`UnexpectedAnswer`] when the check is not waiting for `query` (never
    /// asked, or answered already).
    fn supply(&mut self, query: &Query, answer: Answer) -> Result<(), UnexpectedAnswer>;
}

/// Drives `machine` to its outcome with a blocking `resolver`.
///
/// ```
/// use mailauth::dns::{Name, ZoneResolver};
/// use mailauth::spf;
///
/// let mut zone = ZoneResolver::new();
/// zone.add_txt(&Name::new("example.org").unwrap(), "v=spf1 ip4:192.0.2.0/24 -all");
/// let input = spf::Input::mail_from("192.0.2.7".parse().unwrap(), "mx.example.org", "alice@example.org");
/// let outcome = mailauth::resolve(spf::Check::new(&input, &spf::Config::default()), &zone);
/// assert_eq!(outcome.result, spf::SpfResult::Pass);
/// ```
pub fn resolve<M: Machine, R: Resolver + ?Sized>(mut machine: M, resolver: &R) -> M::Output {
    loop {
        match machine.poll() {
            Poll::Done(output) => return output,
            Poll::Lookups(queries) => {
                for query in queries {
                    let answer = resolver.lookup(&query);
                    // The machine asked for exactly these queries, so it
                    // cannot refuse the answer.
                    let _ = machine.supply(&query, answer);
                }
            }
        }
    }
}
