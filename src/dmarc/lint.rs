//! Linting a domain's DMARC policy record and its report destinations.
//!
//! [`Lint`] is a [`Machine`]: drive it with [`crate::resolve`]. It runs
//! policy discovery ([`Discovery`], by the strategy of [`Config::mode`]),
//! reads the record where the policy was found with the core's parser
//! ([`Record::parse`]), and checks each `mailto:` destination of `rua` and
//! `ruf` that lies in another Organizational Domain for its authorization
//! record, `<policy-domain>._report._dmarc.<destination-domain>`, which
//! must exist and start with `v=DMARC1` (RFC 9990 "Verifying External
//! Destinations", RFC 7489 §7.1).
//!
//! ```
//! use mailauth::dmarc::{Config, lint::{Authorization, Lint}};
//! use mailauth::dns::{Name, ZoneResolver};
//!
//! let mut zone = ZoneResolver::new();
//! zone.add_txt(&Name::new("_dmarc.example.org").unwrap(), "v=DMARC1; p=reject; rua=mailto:d@example.net");
//! zone.add_txt(&Name::new("example.org._report._dmarc.example.net").unwrap(), "v=DMARC1");
//! let domain = Name::new("example.org").unwrap();
//! let report = mailauth::resolve(Lint::new(&domain, &Config::default()), &zone);
//! assert!(report.is_clean());
//! assert_eq!(report.destinations[0].authorization, Authorization::Authorized);
//! ```
//!
//! The work is bounded: discovery by [`Config::max_tree_walk_queries`], the
//! destinations by [`Config::max_report_uris`] per tag and their
//! Organizational Domains by [`Config::max_identifiers`] (a destination
//! beyond it is treated as external).

use std::fmt;

use super::discovery::{Discovery, PolicyLookup, PolicyStatus};
use super::record::{Record, TagError};
use super::{Config, Mode};
use crate::dns::{Answer, Failure, Name, Query, Records};
use crate::machine::{Lookups, Machine, Poll, UnexpectedAnswer};

/// Which report a destination receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReportKind {
    /// `rua`: aggregate reports.
    Aggregate,
    /// `ruf`: failure reports.
    Failure,
}

impl ReportKind {
    /// The tag: `rua` or `ruf`.
    pub fn as_str(self) -> &'static str {
        match self {
            ReportKind::Aggregate => "rua",
            ReportKind::Failure => "ruf",
        }
    }
}

/// Whether a destination may receive the domain's reports.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Authorization {
    /// The destination is in the policy domain's Organizational Domain: no
    /// authorization needed.
    SameOrganization,
    /// The authorization record exists.
    Authorized,
    /// No authorization record: reports must not be sent there.
    NotAuthorized,
    /// The lookup of the authorization record failed.
    DnsFailure(Failure),
    /// Not a `mailto:` URI with a valid domain: not checked.
    Unsupported,
}

impl Authorization {
    /// `same-organization`, `authorized`, `not-authorized`, `dns-failure`
    /// or `unsupported`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Authorization::SameOrganization => "same-organization",
            Authorization::Authorized => "authorized",
            Authorization::NotAuthorized => "not-authorized",
            Authorization::DnsFailure(_) => "dns-failure",
            Authorization::Unsupported => "unsupported",
        }
    }
}

/// One report destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination {
    /// The URI as written.
    pub uri: String,
    /// `rua` or `ruf`.
    pub kind: ReportKind,
    /// The domain of a `mailto:` address.
    pub domain: Option<Name>,
    /// The name of the authorization record, when one is needed.
    pub authorization_name: Option<Name>,
    /// The verdict.
    pub authorization: Authorization,
}

/// Something wrong with the policy or its destinations.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Problem {
    /// No policy record applies to the domain.
    NoRecord {
        /// The domain linted.
        domain: Name,
    },
    /// Several DMARC records at one name: all are discarded.
    MultipleRecords {
        /// The `_dmarc` name.
        name: Name,
        /// How many.
        count: usize,
    },
    /// A tag that receivers ignore (or, strict ones, refuse the record
    /// for); a bad or missing `p` leaves the record without policy.
    Tag {
        /// The `_dmarc` name.
        name: Name,
        /// The tag and what is wrong.
        error: TagError,
    },
    /// A lookup failed: the report is incomplete.
    DnsFailure {
        /// The name queried.
        name: Name,
        /// What went wrong.
        failure: Failure,
    },
    /// A destination in another Organizational Domain without
    /// authorization record.
    NotAuthorized {
        /// The URI.
        uri: String,
        /// The record that is missing.
        authorization_name: Name,
    },
    /// A destination that is not a `mailto:` URI with a valid domain.
    UnsupportedUri {
        /// The URI.
        uri: String,
    },
}

impl Problem {
    /// Whether this is a DNS failure (the report is then incomplete).
    pub fn is_dns_failure(&self) -> bool {
        matches!(self, Problem::DnsFailure { .. })
    }

    /// A short stable name for the kind of problem, such as `tag`.
    pub fn kind(&self) -> &'static str {
        match self {
            Problem::NoRecord { .. } => "no-record",
            Problem::MultipleRecords { .. } => "multiple-records",
            Problem::Tag { .. } => "tag",
            Problem::DnsFailure { .. } => "dns-failure",
            Problem::NotAuthorized { .. } => "not-authorized",
            Problem::UnsupportedUri { .. } => "unsupported-uri",
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::NoRecord { domain } => write!(f, "no dmarc policy record applies to {domain}"),
            Problem::MultipleRecords { name, count } => {
                write!(f, "{name}: {count} dmarc records (all are discarded)")
            }
            Problem::Tag { name, error } => write!(f, "{name}: {error}"),
            Problem::DnsFailure { name, failure } => write!(f, "dns {failure} for {name}"),
            Problem::NotAuthorized {
                uri,
                authorization_name,
            } => write!(
                f,
                "{uri} is not authorized: no v=DMARC1 record at {authorization_name}"
            ),
            Problem::UnsupportedUri { uri } => {
                write!(f, "{uri} is not a mailto: uri with a valid domain")
            }
        }
    }
}

/// The outcome of a [`Lint`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LintReport {
    /// The domain linted.
    pub domain: Name,
    /// How the policy was looked for.
    pub mode: Mode,
    /// The Organizational Domain of the domain, when found.
    pub organizational_domain: Option<Name>,
    /// What discovery concluded.
    pub status: PolicyStatus,
    /// Where the record was found (without `_dmarc`), also when it has no
    /// usable policy.
    pub record_domain: Option<Name>,
    /// The record's text.
    pub record_text: Option<String>,
    /// The record as parsed (its [`Record::tag_errors`] are also problems).
    pub record: Option<Record>,
    /// The `rua` then the `ruf` destinations.
    pub destinations: Vec<Destination>,
    /// What is wrong; empty when the record is clean.
    pub problems: Vec<Problem>,
    /// DNS queries asked (discovery included).
    pub queries: usize,
}

impl LintReport {
    /// Whether no problem was found.
    pub fn is_clean(&self) -> bool {
        self.problems.is_empty()
    }

    /// Whether a DNS lookup failed.
    pub fn has_dns_failure(&self) -> bool {
        self.problems.iter().any(Problem::is_dns_failure)
    }
}

#[derive(Debug, Clone)]
enum Stage {
    Discover(Box<Discovery>),
    /// Reading the record text at these `_dmarc` names.
    Record,
    /// The Organizational Domains of the destinations.
    Organizations(Box<Discovery>),
    /// The authorization records.
    Authorize,
    Done(Box<LintReport>),
}

/// The DMARC lint of one domain, as a [`Machine`].
#[derive(Debug, Clone)]
pub struct Lint {
    config: Config,
    stage: Stage,
    report: LintReport,
    answers: Lookups,
    queries: usize,
}

impl Lint {
    /// A lint of `domain`'s policy under `config` (its mode, strictness and
    /// limits).
    pub fn new(domain: &Name, config: &Config) -> Lint {
        Lint {
            config: config.clone(),
            stage: Stage::Discover(Box::new(Discovery::new(domain, config))),
            report: LintReport {
                domain: domain.clone(),
                mode: config.mode,
                organizational_domain: None,
                status: PolicyStatus::NoPolicy {
                    unusable_record_at: None,
                },
                record_domain: None,
                record_text: None,
                record: None,
                destinations: Vec::new(),
                problems: Vec::new(),
                queries: 0,
            },
            answers: Lookups::default(),
            queries: 0,
        }
    }

    fn open(&self) -> Vec<Query> {
        self.answers.open()
    }

    fn ask(&mut self, query: Query) {
        self.answers.ask(query);
    }

    fn problem(&mut self, problem: Problem) {
        if !self.report.problems.contains(&problem) {
            self.report.problems.push(problem);
        }
    }

    /// Discovery is done: ask for the record text.
    fn discovered(&mut self, lookup: &PolicyLookup) {
        self.queries += lookup.queries;
        self.report.organizational_domain = lookup
            .organizational_domains
            .first()
            .and_then(|o| o.organizational_domain.as_ref().ok().cloned());
        self.report.status = lookup.status.clone();
        let mut names = Vec::new();
        match &lookup.status {
            PolicyStatus::Found(found) => names.push(found.policy_domain.clone()),
            PolicyStatus::BadRecord { domain, .. } => names.push(domain.clone()),
            PolicyStatus::NoPolicy {
                unusable_record_at: Some(domain),
            } => names.push(domain.clone()),
            PolicyStatus::NoPolicy {
                unusable_record_at: None,
            } => {
                // Several records at a name look like none to discovery:
                // read the domain's and its Organizational Domain's.
                names.push(lookup.author_domain.clone());
                if let Some(org) = &self.report.organizational_domain {
                    names.push(org.clone());
                }
            }
            PolicyStatus::DnsError(failure) => {
                self.problem(Problem::DnsFailure {
                    name: failure.name.clone(),
                    failure: failure.failure,
                });
            }
        }
        for name in names {
            if let Ok(dmarc) = name.prepend("_dmarc") {
                self.ask(Query::txt(dmarc));
            }
        }
        self.stage = Stage::Record;
    }

    /// The record texts are in: parse, list the destinations, find their
    /// Organizational Domains.
    fn read_records(&mut self) {
        let mut answers: Vec<(Query, Answer)> = self.answers.drain_answered().collect();
        answers.sort_by(|a, b| a.0.name.cmp(&b.0.name));
        self.queries += answers.len();
        for (query, answer) in answers {
            let texts: Vec<Vec<u8>> = match &answer {
                Answer::Records(Records::Txt(txts)) => txts
                    .iter()
                    .map(crate::dns::Txt::joined)
                    .filter(|t| Record::parse(t, &self.config).is_ok())
                    .collect(),
                Answer::TempFail(failure) | Answer::PermFail(failure) => {
                    self.problem(Problem::DnsFailure {
                        name: query.name.clone(),
                        failure: *failure,
                    });
                    continue;
                }
                _ => Vec::new(),
            };
            match texts.as_slice() {
                [] => {}
                [text] if self.report.record.is_none() => {
                    let Ok(record) = Record::parse(text, &self.config) else {
                        continue;
                    };
                    for error in &record.tag_errors {
                        self.problem(Problem::Tag {
                            name: query.name.clone(),
                            error: *error,
                        });
                    }
                    self.report.record_domain = query.name.parent();
                    self.report.record_text = Some(String::from_utf8_lossy(text).into_owned());
                    self.report.record = Some(record);
                }
                [_] => {}
                several => self.problem(Problem::MultipleRecords {
                    name: query.name.clone(),
                    count: several.len(),
                }),
            }
        }
        if self.report.record.is_none() && !self.report.has_dns_failure() {
            self.problem(Problem::NoRecord {
                domain: self.report.domain.clone(),
            });
        }
        let Some(record) = self.report.record.clone() else {
            return self.finish();
        };
        let uris = record
            .aggregate_report_uris
            .iter()
            .map(|u| (u, ReportKind::Aggregate))
            .chain(
                record
                    .failure_report_uris
                    .iter()
                    .map(|u| (u, ReportKind::Failure)),
            );
        for (uri, kind) in uris {
            let domain = mailto_domain(uri);
            if domain.is_none() {
                self.problem(Problem::UnsupportedUri { uri: uri.clone() });
            }
            self.report.destinations.push(Destination {
                uri: uri.clone(),
                kind,
                domain,
                authorization_name: None,
                authorization: Authorization::Unsupported,
            });
        }
        let mut domains: Vec<Name> = Vec::new();
        for domain in self
            .report
            .destinations
            .iter()
            .filter_map(|d| d.domain.clone())
        {
            if !domains.contains(&domain) {
                domains.push(domain);
            }
        }
        match Discovery::organizational_domains_only(&domains, &self.config) {
            Some(discovery) => self.stage = Stage::Organizations(Box::new(discovery)),
            None => self.finish(),
        }
    }

    /// The destinations' Organizational Domains are known: ask for the
    /// authorization records of the external ones.
    fn organizations(&mut self, orgs: &PolicyLookup) {
        self.queries += orgs.queries;
        let own = self.report.organizational_domain.clone();
        let policy_domain = self.report.record_domain.clone();
        for index in 0..self.report.destinations.len() {
            let Some(domain) = self.report.destinations[index].domain.clone() else {
                continue;
            };
            let org = orgs.organizational_domain(&domain);
            if let Some(Err(failure)) = org {
                self.problem(Problem::DnsFailure {
                    name: failure.name.clone(),
                    failure: failure.failure,
                });
            }
            let same = match (org, &own) {
                (Some(Ok(org)), Some(own)) => org == own,
                _ => false,
            };
            let destination = &mut self.report.destinations[index];
            if same {
                destination.authorization = Authorization::SameOrganization;
                continue;
            }
            let name = policy_domain
                .as_ref()
                .and_then(|p| Name::new(&format!("{p}._report._dmarc.{domain}")).ok());
            match name {
                Some(name) => {
                    destination.authorization_name = Some(name.clone());
                    self.ask(Query::txt(name));
                }
                None => destination.authorization = Authorization::Unsupported,
            }
        }
        self.stage = Stage::Authorize;
    }

    /// The authorization records are in.
    fn authorize(&mut self) {
        self.queries += self.answers.len();
        for index in 0..self.report.destinations.len() {
            let Some(name) = self.report.destinations[index].authorization_name.clone() else {
                continue;
            };
            let Some(answer) = self.answers.answer(&Query::txt(name.clone())) else {
                continue;
            };
            let authorization = match answer {
                Answer::Records(Records::Txt(txts)) => {
                    if txts
                        .iter()
                        .any(|t| Record::parse(&t.joined(), &self.config).is_ok())
                    {
                        Authorization::Authorized
                    } else {
                        Authorization::NotAuthorized
                    }
                }
                Answer::TempFail(failure) | Answer::PermFail(failure) => {
                    Authorization::DnsFailure(*failure)
                }
                _ => Authorization::NotAuthorized,
            };
            let uri = self.report.destinations[index].uri.clone();
            match &authorization {
                Authorization::NotAuthorized => self.problem(Problem::NotAuthorized {
                    uri,
                    authorization_name: name.clone(),
                }),
                Authorization::DnsFailure(failure) => self.problem(Problem::DnsFailure {
                    name: name.clone(),
                    failure: *failure,
                }),
                _ => {}
            }
            self.report.destinations[index].authorization = authorization;
        }
        self.finish();
    }

    fn finish(&mut self) {
        self.report.queries = self.queries;
        self.stage = Stage::Done(Box::new(self.report.clone()));
    }
}

/// The domain of a `mailto:` URI (`mailto:addr@domain[!size]`), if valid.
fn mailto_domain(uri: &str) -> Option<Name> {
    let scheme = uri.get(..7)?;
    if !scheme.eq_ignore_ascii_case("mailto:") {
        return None;
    }
    let address = uri.get(7..)?;
    let address = address.split(['!', '?']).next()?;
    let (_, domain) = address.rsplit_once('@')?;
    Name::new(domain).ok().map(|n| n.to_lowercase())
}

impl Machine for Lint {
    type Output = LintReport;

    fn poll(&mut self) -> Poll<LintReport> {
        loop {
            match &mut self.stage {
                Stage::Done(report) => return Poll::Done((**report).clone()),
                Stage::Discover(discovery) => match discovery.poll() {
                    Poll::Lookups(queries) => return Poll::Lookups(queries),
                    Poll::Done(lookup) => self.discovered(&lookup),
                },
                Stage::Organizations(discovery) => match discovery.poll() {
                    Poll::Lookups(queries) => return Poll::Lookups(queries),
                    Poll::Done(orgs) => self.organizations(&orgs),
                },
                Stage::Record | Stage::Authorize => {
                    let open = self.open();
                    if !open.is_empty() {
                        return Poll::Lookups(open);
                    }
                    if matches!(self.stage, Stage::Record) {
                        self.read_records();
                    } else {
                        self.authorize();
                    }
                }
            }
        }
    }

    fn supply(&mut self, query: &Query, answer: Answer) -> Result<(), UnexpectedAnswer> {
        match &mut self.stage {
            Stage::Discover(discovery) | Stage::Organizations(discovery) => {
                discovery.supply(query, answer)
            }
            _ => self.answers.supply(query, answer),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dns::{Resolver, ZoneResolver};

    fn name(text: &str) -> Name {
        Name::new(text).unwrap()
    }

    fn zone(text: &str) -> ZoneResolver {
        ZoneResolver::from_zone_text(text).unwrap()
    }

    fn lint<R: Resolver>(resolver: &R, domain: &str, config: &Config) -> LintReport {
        crate::resolve(Lint::new(&name(domain), config), resolver)
    }

    fn kinds(report: &LintReport) -> Vec<&'static str> {
        report.problems.iter().map(Problem::kind).collect()
    }

    const ZONE: &str = "$ORIGIN example.org.\n\
        _dmarc TXT \"v=DMARC1; p=reject; rua=mailto:agg@example.org,mailto:d@reports.example.net!10m; ruf=mailto:f@example.com\"\n\
        mail A 192.0.2.1\n\
        $ORIGIN example.net.\n\
        example.org._report._dmarc.reports TXT \"v=DMARC1\"\n";

    #[test]
    fn destinations_authorized_or_not() {
        let report = lint(&zone(ZONE), "mail.example.org", &Config::default());
        assert_eq!(report.record_domain, Some(name("example.org")));
        assert_eq!(report.organizational_domain, Some(name("example.org")));
        assert!(
            matches!(&report.status, PolicyStatus::Found(f) if f.policy_domain == name("example.org"))
        );
        let verdicts: Vec<&str> = report
            .destinations
            .iter()
            .map(|d| d.authorization.as_str())
            .collect();
        assert_eq!(
            verdicts,
            ["same-organization", "authorized", "not-authorized"]
        );
        assert_eq!(
            report.destinations[1].authorization_name,
            Some(name("example.org._report._dmarc.reports.example.net"))
        );
        assert_eq!(report.destinations[2].kind, ReportKind::Failure);
        assert_eq!(
            report.problems,
            [Problem::NotAuthorized {
                uri: "mailto:f@example.com".to_owned(),
                authorization_name: name("example.org._report._dmarc.example.com"),
            }]
        );
        assert!(!report.has_dns_failure());
    }

    #[test]
    fn the_public_suffix_list_mode_finds_the_same_policy() {
        let report = lint(&zone(ZONE), "mail.example.org", &Config::rfc7489());
        assert_eq!(report.mode, Mode::Rfc7489);
        assert_eq!(report.record_domain, Some(name("example.org")));
        assert_eq!(kinds(&report), ["not-authorized"]);
    }

    #[test]
    fn a_record_that_does_not_authorize() {
        let zone = zone(
            "$ORIGIN example.org.\n\
             _dmarc TXT \"v=DMARC1; p=none; rua=mailto:d@example.net\"\n\
             $ORIGIN example.net.\n\
             example.org._report._dmarc TXT \"v=spf1 -all\"\n",
        );
        let report = lint(&zone, "example.org", &Config::default());
        assert_eq!(
            report.destinations[0].authorization,
            Authorization::NotAuthorized
        );
    }

    #[test]
    fn tag_errors_and_unsupported_uris() {
        let zone = zone(
            "$ORIGIN example.org.\n\
             _dmarc TXT \"v=DMARC1; p=reject; adkim=x; p=none; rua=https://example.org/r\"\n",
        );
        let report = lint(&zone, "example.org", &Config::default());
        assert_eq!(kinds(&report), ["tag", "tag", "unsupported-uri"]);
        assert_eq!(
            report.destinations[0].authorization,
            Authorization::Unsupported
        );
        let strict = Config {
            strict_records: true,
            ..Config::default()
        };
        let report = lint(&zone, "example.org", &strict);
        assert!(matches!(report.status, PolicyStatus::BadRecord { .. }));
        assert!(report.record.is_some());
        assert_eq!(kinds(&report), ["tag", "tag", "unsupported-uri"]);
    }

    #[test]
    fn missing_and_multiple_records() {
        let report = lint(
            &zone("$ORIGIN example.org.\nwww A 192.0.2.1\n"),
            "www.example.org",
            &Config::default(),
        );
        assert_eq!(kinds(&report), ["no-record"]);
        let zone = zone(
            "$ORIGIN example.org.\n\
             _dmarc TXT \"v=DMARC1; p=none\"\n\
             _dmarc TXT \"v=DMARC1; p=reject\"\n",
        );
        let report = lint(&zone, "example.org", &Config::default());
        assert_eq!(kinds(&report), ["multiple-records", "no-record"]);
    }

    /// Fails the lookups of authorization records.
    struct FailingReports(ZoneResolver);

    impl Resolver for FailingReports {
        fn lookup_with_ttl(&self, query: &Query) -> (Answer, Option<u32>) {
            if query.name.as_str().contains("._report.") {
                (Answer::TempFail(Failure::ServerFailure), None)
            } else {
                self.0.lookup_with_ttl(query)
            }
        }
    }

    #[test]
    fn an_authorization_lookup_that_fails() {
        let report = lint(
            &FailingReports(zone(ZONE)),
            "example.org",
            &Config::default(),
        );
        assert_eq!(
            report.destinations[1].authorization,
            Authorization::DnsFailure(Failure::ServerFailure)
        );
        assert!(report.has_dns_failure());
    }

    #[test]
    fn destinations_are_bounded() {
        let uris: Vec<String> = (0..100)
            .map(|i| format!("mailto:r@d{i}.example.net"))
            .collect();
        let mut zone = ZoneResolver::new();
        zone.add_txt(
            &name("_dmarc.example.org"),
            format!("v=DMARC1; p=none; rua={}", uris.join(",")),
        );
        let config = Config::default();
        let report = lint(&zone, "example.org", &config);
        assert_eq!(report.destinations.len(), config.max_report_uris);
        assert!(
            report
                .destinations
                .iter()
                .all(|d| d.authorization == Authorization::NotAuthorized)
        );
    }
}
