//! # mailauth
//!
//! An embeddable mail-authentication engine: SPF (RFC 7208), DKIM
//! (RFC 6376, 8301, 8463), DMARC (RFC 9989, with an RFC 7489 mode) and
//! Authentication-Results (RFC 8601), on a core that performs no I/O.
//!
//! - [`spf`]: `check_host()` for the MAIL FROM and HELO identities;
//! - [`dkim`]: streaming canonicalization, verification, signing, keys;
//! - [`dmarc`]: the author domain, policy discovery, alignment, disposition;
//! - [`arc`]: ARC (RFC 8617) chain validation and sealing;
//! - [`bimi`]: the receiver's BIMI record checks (DMARC requirements,
//!   selector, Assertion Record discovery, BIMI-Location);
//! - [`authres`]: Authentication-Results as a data structure;
//! - [`inbound`]: the one-call pipeline an MTA runs on received mail (SPF,
//!   DKIM and DMARC, with the Authentication-Results field to prepend);
//! - [`report`]: DMARC reports: the aggregate report model (RFC 9990), its
//!   XML, the report e-mail, failure reports (RFC 9991), reading received
//!   reports;
//! - [`dns`]: queries, answers and the resolvers that ship with the crate.
//!
//! ## Data flow
//!
//! ```text
//!   connection facts, message bytes
//!              |
//!              v
//!   +---------------------+   poll() -> Lookups(queries)   +-----------+
//!   |  check (a Machine)  | -----------------------------> |  caller's |
//!   |  spf::Check, ...    | <----------------------------- |  resolver |
//!   +---------------------+   supply(query, answer)        +-----------+
//!              |
//!              v
//!   poll() -> Done(outcome): result, reason, header fields to add
//! ```
//!
//! Every check is a [`Machine`]: it hands out the DNS [`dns::Query`] values
//! it needs and takes [`dns::Answer`] values back, in any order, from any
//! source (a blocking resolver, an async runtime, an MTA's own DNS client
//! handing over raw packets). [`resolve`] is the blocking driver and
//! [`resolve_parallel`] the one that looks up the queries of a round at the
//! same time; a [`Driver`] keeps a machine's open queries by index and its
//! outcome, the state a front end (the C ABI, Python, an event loop) needs
//! to drive any check.
//!
//! A receiving MTA runs everything at once with [`inbound`]: SPF, DKIM and
//! DMARC on one message, as one machine, ending in a verdict with the
//! Authentication-Results field to prepend.
//!
//! ## Example
//!
//! ```
//! use mailauth::dns::ZoneResolver;
//! use mailauth::spf;
//!
//! let zone = ZoneResolver::from_zone_text(
//!     "$ORIGIN example.org.\n@ 3600 IN TXT \"v=spf1 ip4:192.0.2.0/24 -all\"\n",
//! )
//! .unwrap();
//! let input = spf::Input::mail_from(
//!     "192.0.2.10".parse().unwrap(),
//!     "mail.example.org",
//!     "alice@example.org",
//! );
//! let mut check = spf::Check::new(&input, &spf::Config::default());
//! let outcome = loop {
//!     match mailauth::Machine::poll(&mut check) {
//!         mailauth::Poll::Done(outcome) => break outcome,
//!         mailauth::Poll::Lookups(queries) => {
//!             for query in queries {
//!                 let answer = mailauth::dns::Resolver::lookup(&zone, &query);
//!                 mailauth::Machine::supply(&mut check, &query, answer).unwrap();
//!             }
//!         }
//!     }
//! };
//! assert_eq!(outcome.result, spf::SpfResult::Pass);
//! ```
//!
//! The core contains no `unsafe` code, opens no sockets (except in
//! [`dns::StubResolver`], the network client), reads no clock and holds no
//! global state: time and randomness come in as arguments.
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

/// Short texts held inline (up to 23 octets) and longer ones shared:
/// the type of [`dns::Name`]'s text, of [`authres::Property::value`] and
/// of the texts [`spf::Config`] copies into every check.
pub use smol_str::SmolStr;

pub mod arc;
pub mod authres;
pub mod bimi;
pub mod cache;
pub mod dkim;
pub mod dmarc;
pub mod dns;
pub mod inbound;
pub mod machine;
pub mod message;
pub mod report;
pub mod session;
pub mod spf;
mod word;

pub use machine::{
    Driver, Machine, MachineExt, Poll, Progress, SupplyError, UnexpectedAnswer, resolve,
    resolve_parallel,
};
