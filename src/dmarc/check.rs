//! [`Check`]: DMARC for one message as one [`Machine`], from the From
//! field(s) or an author domain to the [`Outcome`].
//!
//! The steps of the [module docs](super) composed once, for every front end
//! (the inbound pipeline, the C ABI, Python): the author domain is taken
//! from the header ([`Check::from_fields`]) or given
//! ([`Check::from_author_domain`]); policy discovery looks up the policy
//! record and the Organizational Domains of the author domain and of every
//! SPF and DKIM identifier in the same rounds; evaluation combines them
//! with the results.
//!
//! A pipeline that starts discovery before the SPF and DKIM results are
//! known (so that all three ask their DNS queries together) uses
//! [`PolicyCheck`] instead: its outcome, a [`PolicyFound`], evaluates the
//! results once they are in.
//!
//! ```
//! use mailauth::dkim::verify::DkimResult;
//! use mailauth::dmarc::{self, Check, Config, DkimAuth};
//! use mailauth::dns::{Name, ZoneResolver};
//! use mailauth::message::HeaderField;
//!
//! let mut zone = ZoneResolver::new();
//! zone.add_txt(&Name::new("_dmarc.example.org").unwrap(), "v=DMARC1; p=reject");
//! let fields = [HeaderField::from_raw(b"From: Alice <alice@mail.example.org>".to_vec())];
//! let dkim = vec![DkimAuth { domain: Name::new("example.org").unwrap(), result: DkimResult::Pass }];
//! let check = Check::from_fields(&fields, &Config::default()).with_dkim(dkim);
//! let outcome = mailauth::resolve(check, &zone);
//! assert_eq!(outcome.result, dmarc::DmarcResult::Pass);
//! ```

use std::fmt;

use super::discovery::{Discovery, PolicyLookup};
use super::evaluate::{DkimAuth, Outcome, SpfAuth, evaluate};
use super::{Config, FromError, author_domain_with};
use crate::dns::{Answer, Name, Query};
use crate::machine::{Machine, Poll, Progress, UnexpectedAnswer};
use crate::message::HeaderField;
use std::sync::Arc;

/// The random draw for the `pct` tag of the RFC 7489 mode (RFC 7489
/// §6.6.4): a number from 0 to 99; the policy applies fully when it is
/// below `pct`. The core reads no randomness of its own: the caller draws
/// it. [`Sample::default`] (0) always applies the policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Sample(u8);

impl Sample {
    /// The draw under every `pct` from 1 up: the policy always applies.
    pub const ALWAYS: Sample = Sample(0);

    /// A draw from 0 to 99.
    ///
    /// # Errors
    /// [`SampleError`] for a number above 99.
    pub fn new(draw: u8) -> Result<Sample, SampleError> {
        if draw > 99 {
            return Err(SampleError { draw });
        }
        Ok(Sample(draw))
    }

    /// The draw, 0 to 99.
    pub fn get(self) -> u8 {
        self.0
    }
}

impl TryFrom<u8> for Sample {
    type Error = SampleError;

    fn try_from(draw: u8) -> Result<Sample, SampleError> {
        Sample::new(draw)
    }
}

impl fmt::Display for Sample {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A [`Sample`] out of range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("sample must be 0 to 99, not {draw}")]
pub struct SampleError {
    /// The number given.
    pub draw: u8,
}

/// Policy discovery for a message whose SPF and DKIM results come later: a
/// [`Machine`] whose outcome, a [`PolicyFound`], evaluates them.
///
/// Give it the identifiers SPF and DKIM will authenticate (the MAIL FROM
/// or HELO domain, each signature's `d=`) so that their Organizational
/// Domains are looked up with the policy.
#[derive(Debug, Clone)]
pub struct PolicyCheck {
    discovery: Option<Discovery>,
    found: PolicyFound,
}

impl PolicyCheck {
    /// Discovery for `author` (the author domain, or why the message has
    /// none: then the check finishes at once and evaluates to a
    /// `permerror`), looking up the Organizational Domains of
    /// `identifiers` too.
    pub fn new(
        author: Result<Name, FromError>,
        identifiers: &[Name],
        config: &Config,
        sample: Sample,
    ) -> PolicyCheck {
        // Each way written as a whole, so that the discovery is made where
        // the check holds it.
        match author {
            Ok(author) => PolicyCheck {
                discovery: Some(Discovery::with_identifiers(&author, identifiers, config)),
                found: PolicyFound {
                    // Replaced by the lookup when discovery finishes.
                    lookup: Err(FromError::NoFrom),
                    config: config.clone(),
                    sample,
                },
            },
            Err(error) => PolicyCheck {
                discovery: None,
                found: PolicyFound {
                    lookup: Err(error),
                    config: config.clone(),
                    sample,
                },
            },
        }
    }
}

impl Machine for PolicyCheck {
    type Output = PolicyFound;

    fn poll(&mut self) -> Poll<PolicyFound> {
        let mut queries = Vec::new();
        match self.progress(&mut queries) {
            Progress::Waiting => Poll::Lookups(queries),
            Progress::Done => Poll::Done(self.found.clone()),
        }
    }

    fn progress(&mut self, queries: &mut Vec<Query>) -> Progress {
        // The discovery stays where it is (half a kilobyte): its lookup is
        // taken out of it once it is done.
        let Some(discovery) = &mut self.discovery else {
            return Progress::Done;
        };
        if discovery.progress(queries) == Progress::Waiting {
            return Progress::Waiting;
        }
        match discovery.take_lookup() {
            Some(lookup) => self.found.lookup = Ok(lookup),
            None => match discovery.poll() {
                Poll::Done(lookup) => self.found.lookup = Ok(lookup),
                Poll::Lookups(asked) => {
                    queries.extend(asked);
                    return Progress::Waiting;
                }
            },
        }
        self.discovery = None;
        Progress::Done
    }

    fn into_output(mut self) -> Result<PolicyFound, PolicyCheck> {
        match self.progress(&mut Vec::new()) {
            Progress::Done => Ok(self.found),
            Progress::Waiting => Err(self),
        }
    }

    fn into_output_boxed(mut self: Box<PolicyCheck>) -> Result<PolicyFound, Box<PolicyCheck>> {
        match self.progress(&mut Vec::new()) {
            Progress::Done => Ok(self.found),
            Progress::Waiting => Err(self),
        }
    }

    fn supply(&mut self, query: &Query, answer: Answer) -> Result<(), UnexpectedAnswer> {
        match &mut self.discovery {
            Some(discovery) => discovery.supply(query, answer),
            None => Err(UnexpectedAnswer {
                query: query.clone(),
            }),
        }
    }

    fn supply_shared(
        &mut self,
        query: &Query,
        answer: Arc<Answer>,
    ) -> Result<(), UnexpectedAnswer> {
        match &mut self.discovery {
            Some(discovery) => discovery.supply_shared(query, answer),
            None => Err(UnexpectedAnswer {
                query: query.clone(),
            }),
        }
    }
}

/// The outcome of a [`PolicyCheck`]: the policy lookup (or why the message
/// has no author domain), ready to evaluate SPF and DKIM results.
#[derive(Debug, Clone)]
pub struct PolicyFound {
    lookup: Result<PolicyLookup, FromError>,
    config: Config,
    sample: Sample,
}

impl PolicyFound {
    /// The policy lookup, or why the message has no single author domain.
    ///
    /// # Errors
    /// The [`FromError`] of the From field(s).
    pub fn lookup(&self) -> Result<&PolicyLookup, &FromError> {
        self.lookup.as_ref()
    }

    /// The DMARC outcome for these results: the SPF result of the MAIL
    /// FROM (or HELO) identity, when checked, and each DKIM signature's.
    pub fn evaluate(&self, spf: Option<&SpfAuth>, dkim: &[DkimAuth]) -> Outcome {
        match &self.lookup {
            Ok(lookup) => evaluate(lookup, spf, dkim, &self.config, self.sample),
            Err(error) => Outcome::from_error(error),
        }
    }
}

/// DMARC for one message: a [`Machine`] whose outcome is the DMARC
/// [`Outcome`]. See the [module docs](self).
#[derive(Debug, Clone)]
pub struct Check {
    author: Option<Result<Name, FromError>>,
    config: Config,
    sample: Sample,
    spf: Option<SpfAuth>,
    dkim: Vec<DkimAuth>,
    /// Started at the first poll, once every identifier is known.
    policy: Option<PolicyCheck>,
}

impl Check {
    /// DMARC for the message with these header fields: the author domain is
    /// the domain of its single From address ([`author_domain_with`]); a
    /// message without one gets a `permerror` outcome without DNS.
    pub fn from_fields(fields: &[HeaderField], config: &Config) -> Check {
        Check::from_author(author_domain_with(fields, config), config)
    }

    /// DMARC for a message whose author domain is `domain`.
    pub fn from_author_domain(domain: &Name, config: &Config) -> Check {
        Check::from_author(Ok(domain.clone()), config)
    }

    /// DMARC for `author`: the author domain, or why the message has none.
    pub fn from_author(author: Result<Name, FromError>, config: &Config) -> Check {
        Check {
            author: Some(author),
            config: config.clone(),
            sample: Sample::ALWAYS,
            spf: None,
            dkim: Vec::new(),
            policy: None,
        }
    }

    /// The SPF result of the MAIL FROM identity (or of HELO when MAIL FROM
    /// was empty); `None` (the default) when SPF was not checked.
    pub fn with_spf(mut self, spf: Option<SpfAuth>) -> Check {
        self.spf = spf;
        self
    }

    /// The result of each DKIM signature (default none).
    pub fn with_dkim(mut self, dkim: Vec<DkimAuth>) -> Check {
        self.dkim = dkim;
        self
    }

    /// The draw for `pct` sampling in the RFC 7489 mode (default
    /// [`Sample::ALWAYS`]).
    pub fn with_sample(mut self, sample: Sample) -> Check {
        self.sample = sample;
        self
    }

    fn start(&mut self) -> &mut PolicyCheck {
        self.policy.get_or_insert_with(|| {
            let identifiers: Vec<Name> = self
                .spf
                .iter()
                .map(|s| s.domain.clone())
                .chain(self.dkim.iter().map(|d| d.domain.clone()))
                .collect();
            let author = self.author.take().unwrap_or(Err(FromError::NoFrom));
            PolicyCheck::new(author, &identifiers, &self.config, self.sample)
        })
    }
}

impl Machine for Check {
    type Output = Outcome;

    fn poll(&mut self) -> Poll<Outcome> {
        match self.start().poll() {
            Poll::Lookups(queries) => Poll::Lookups(queries),
            Poll::Done(found) => Poll::Done(found.evaluate(self.spf.as_ref(), &self.dkim)),
        }
    }

    fn supply(&mut self, query: &Query, answer: Answer) -> Result<(), UnexpectedAnswer> {
        match &mut self.policy {
            Some(policy) => policy.supply(query, answer),
            None => Err(UnexpectedAnswer {
                query: query.clone(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dkim::verify::DkimResult;
    use crate::dmarc::DmarcResult;
    use crate::dns::ZoneResolver;
    use crate::spf::SpfResult;

    fn name(s: &str) -> Name {
        Name::new(s).unwrap()
    }

    fn zone() -> ZoneResolver {
        let mut zone = ZoneResolver::new();
        zone.add_txt(&name("_dmarc.example.org"), "v=DMARC1; p=reject; pct=50");
        zone
    }

    #[test]
    fn sample_is_validated() {
        assert_eq!(Sample::new(99).unwrap().get(), 99);
        assert_eq!(Sample::new(100), Err(SampleError { draw: 100 }));
        assert_eq!(
            Sample::try_from(255).unwrap_err().to_string(),
            "sample must be 0 to 99, not 255"
        );
        assert_eq!(Sample::default(), Sample::ALWAYS);
    }

    #[test]
    fn from_fields_and_from_domain_agree() {
        let fields = [HeaderField::from_raw(b"From: a@Mail.Example.ORG".to_vec())];
        let spf = SpfAuth {
            domain: name("bounce.example.org"),
            result: SpfResult::Pass,
        };
        let config = Config::default();
        let by_fields = crate::resolve(
            Check::from_fields(&fields, &config).with_spf(Some(spf.clone())),
            &zone(),
        );
        let by_domain = crate::resolve(
            Check::from_author_domain(&name("mail.example.org"), &config).with_spf(Some(spf)),
            &zone(),
        );
        assert_eq!(by_fields.result, DmarcResult::Pass);
        assert_eq!(by_fields, by_domain);
    }

    #[test]
    fn no_author_domain_is_a_permerror_without_dns() {
        let fields = [HeaderField::from_raw(b"To: a@example.org".to_vec())];
        let mut check = Check::from_fields(&fields, &Config::default());
        let Poll::Done(outcome) = check.poll() else {
            panic!("no DNS expected");
        };
        assert_eq!(outcome.result, DmarcResult::PermError);
        assert_eq!(outcome.reason.to_string(), "no from field");
    }

    #[test]
    fn sample_reaches_pct_in_rfc7489_mode() {
        let config = Config::rfc7489();
        let dkim = vec![DkimAuth {
            domain: name("example.net"),
            result: DkimResult::Pass,
        }];
        let run = |draw| {
            let check = Check::from_author_domain(&name("example.org"), &config)
                .with_dkim(dkim.clone())
                .with_sample(Sample::new(draw).unwrap());
            crate::resolve(check, &zone())
        };
        assert_eq!(run(10).disposition, crate::dmarc::Disposition::Reject);
        assert_eq!(run(60).disposition, crate::dmarc::Disposition::Quarantine);
    }

    #[test]
    fn policy_check_evaluates_results_given_later() {
        let config = Config::default();
        let check = PolicyCheck::new(
            Ok(name("example.org")),
            &[name("example.org")],
            &config,
            Sample::ALWAYS,
        );
        let found = crate::resolve(check, &zone());
        assert!(found.lookup().is_ok());
        let pass = found.evaluate(
            None,
            &[DkimAuth {
                domain: name("example.org"),
                result: DkimResult::Pass,
            }],
        );
        assert_eq!(pass.result, DmarcResult::Pass);
        assert_eq!(found.evaluate(None, &[]).result, DmarcResult::Fail);
    }
}
