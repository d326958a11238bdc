//! Policy discovery and Organizational Domains.
//!
//! [`Mode::Rfc9989`]: the DNS Tree Walk (RFC 9989 "DNS Tree Walk"). For a
//! starting domain of `x` labels the walk queries `_dmarc.<domain>`, then,
//! if `x >= 8`, jumps to the name made of the last 7 labels, otherwise to
//! the parent, and goes on one label at a time up to the top-level label:
//! never more than [`Config::max_tree_walk_queries`] (8) queries. A
//! TXT answer counts as a record only if exactly one of its records starts
//! with `v=DMARC1`; several such records are all discarded. The walk stops
//! early at a record with `psd=y` or `psd=n`.
//!
//! The policy record (RFC 9989 "DMARC Policy Discovery") is the Author
//! Domain's own if it has one, otherwise the one of its Organizational
//! Domain, otherwise the one of its Public Suffix Domain. The
//! Organizational Domain (RFC 9989 "Identifier Alignment Evaluation") is
//! chosen among the names of the walk that have a record, from the longest:
//! one with `psd=n`; the name one label below one with `psd=y` (other than
//! the starting name); otherwise the one with the fewest labels; without
//! any record, the starting domain itself.
//!
//! All the names of a walk are known in advance, so [`Discovery`] asks for
//! all of them in its first poll (one round trip), and shares the queries
//! that the walks of the author domain and of the SPF/DKIM identifiers have
//! in common. When the applicable policy could be `np` (a record found
//! above the Author Domain, with an `np` tag), one more query asks whether
//! the Author Domain exists: an `A` query, which answers NXDOMAIN when the
//! name does not exist (RFC 9989 "Non-existent Domains", RFC 8020).
//!
//! [`Mode::Rfc7489`] (RFC 7489 §6.6.3): `_dmarc.<author domain>`, then
//! `_dmarc.<organizational domain>` from the Public Suffix List, asked
//! together; the identifiers' Organizational Domains need no DNS.

use std::collections::HashMap;
use std::sync::Arc;

use super::psl::PublicSuffixList;
use super::record::{PublicSuffixFlag, Record, RecordError};
use super::{Config, Mode};
use crate::dns::{Answer, Failure, Name, Query, RecordType, Records};
use crate::machine::{Machine, Poll, UnexpectedAnswer};

/// A DNS failure that kept a question open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsFailure {
    /// The name queried.
    pub name: Name,
    /// What went wrong.
    pub failure: Failure,
    /// Whether it may go away if asked later (timeout, SERVFAIL) rather
    /// than being permanent.
    pub temporary: bool,
}

/// The policy record that applies to the Author Domain.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FoundPolicy {
    /// The record.
    pub record: Record,
    /// Where it was found (without the `_dmarc` label): the Author Domain,
    /// its Organizational Domain or its Public Suffix Domain.
    pub policy_domain: Name,
    /// Whether the Author Domain exists, when that was asked (only when the
    /// record has an `np` tag and was found above the Author Domain);
    /// `None` when not asked or when the answer was a DNS failure.
    pub author_domain_exists: Option<bool>,
}

/// What policy discovery found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PolicyStatus {
    /// A policy record applies.
    Found(Box<FoundPolicy>),
    /// No policy record applies: DMARC does not apply to the message.
    NoPolicy {
        /// A record was found at this domain, but without a valid `p` (or
        /// with an invalid `sp` or `np`) and without a valid `rua`, so it
        /// does not count (RFC 9989 "DMARC Policy Discovery").
        unusable_record_at: Option<Name>,
    },
    /// A DNS failure kept discovery from finishing.
    DnsError(DnsFailure),
    /// [`Config::strict_records`]: the record has a bad tag.
    BadRecord {
        /// Where the record was found.
        domain: Name,
        /// The problem.
        error: RecordError,
    },
}

/// The Organizational Domain of one domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgDomain {
    /// The domain (the Author Domain, or an SPF or DKIM identifier).
    pub domain: Name,
    /// Its Organizational Domain, or the DNS failure that kept the walk
    /// from finding it.
    pub organizational_domain: Result<Name, DnsFailure>,
}

/// The output of [`Discovery`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PolicyLookup {
    /// The Author Domain the lookup was for.
    pub author_domain: Name,
    /// The policy found, or why none was.
    pub status: PolicyStatus,
    /// The Organizational Domains of the Author Domain (first) and of each
    /// identifier given to [`Discovery::with_identifiers`].
    pub organizational_domains: Vec<OrgDomain>,
    /// How many DNS queries were made.
    pub queries: usize,
}

impl PolicyLookup {
    /// The Organizational Domain found for `domain`, if it was looked up.
    pub fn organizational_domain(&self, domain: &Name) -> Option<&Result<Name, DnsFailure>> {
        self.organizational_domains
            .iter()
            .find(|o| &o.domain == domain)
            .map(|o| &o.organizational_domain)
    }

    /// Adds the Organizational Domain of another domain (for instance from a
    /// later [`Discovery::organizational_domains_only`] run).
    pub fn add_organizational_domain(&mut self, org: OrgDomain) {
        if self.organizational_domain(&org.domain).is_none() {
            self.organizational_domains.push(org);
        }
    }
}

/// What one `_dmarc` TXT answer says.
#[derive(Debug, Clone)]
enum Found {
    Record(Box<Record>),
    Nothing,
    Failed(Failure, bool),
}

/// The names a tree walk from `start` queries (without `_dmarc`), longest
/// first: `start`, then the last `min(x - 1, max - 1)` labels, then one
/// label fewer each time.
pub fn tree_walk_names(start: &Name, max_queries: usize) -> Vec<Name> {
    let max_queries = max_queries.max(1);
    let text = start.as_str();
    let labels: Vec<&str> = text.split('.').collect();
    let total = labels.len();
    let mut names = vec![start.clone()];
    let first = (total - 1).min(max_queries - 1);
    for keep in (1..=first).rev() {
        let suffix = labels.get(total - keep..).unwrap_or_default().join(".");
        if let Ok(name) = Name::new(&suffix) {
            names.push(name);
        }
    }
    names
}

/// The last `count` labels of `name`.
fn last_labels(name: &Name, count: usize) -> Option<Name> {
    let labels: Vec<&str> = name.labels().collect();
    let start = labels.len().checked_sub(count)?;
    Name::new(&labels.get(start..)?.join(".")).ok()
}

fn dmarc_name(domain: &Name) -> Option<Name> {
    domain.prepend("_dmarc").ok()
}

/// Reads a `_dmarc` TXT answer: exactly one record starting with
/// `v=DMARC1`, or nothing.
fn interpret(answer: &Answer, config: &Config) -> Found {
    match answer {
        Answer::Records(Records::Txt(txts)) => {
            let mut found = None;
            let mut count = 0usize;
            for txt in txts {
                match Record::parse(&txt.joined(), config) {
                    Ok(record) => {
                        count += 1;
                        found = Some(record);
                    }
                    Err(_) => continue,
                }
            }
            match (count, found) {
                (1, Some(record)) => Found::Record(Box::new(record)),
                _ => Found::Nothing,
            }
        }
        Answer::TempFail(failure) => Found::Failed(*failure, true),
        Answer::PermFail(failure) => Found::Failed(*failure, false),
        _ => Found::Nothing,
    }
}

/// One level of a walk: the domain and its `_dmarc` name (`None` when
/// too long to exist).
type Level = (Name, Option<Name>);

/// The result of one walk: the records it found (index in the walk, name,
/// record) up to where it stopped, or the failure met before that.
type WalkRecords<'a> = Result<Vec<(usize, &'a Name, &'a Record)>, DnsFailure>;

#[derive(Debug, Clone)]
enum Stage {
    /// Waiting for the `_dmarc` answers.
    Records,
    /// Waiting for the existence answer of the Author Domain.
    Existence(Box<PolicyLookup>, Query),
    Done(Box<PolicyLookup>),
}

/// Finds the DMARC policy of an Author Domain and the Organizational
/// Domains that alignment needs. A [`Machine`] whose output is a
/// [`PolicyLookup`]; drive it with [`crate::resolve`] or by hand.
#[derive(Debug, Clone)]
pub struct Discovery {
    config: Config,
    psl: Option<Arc<PublicSuffixList>>,
    author: Name,
    identifiers: Vec<Name>,
    /// Whether the policy is wanted (false: Organizational Domains only).
    want_policy: bool,
    /// The walk of each domain (author first), as `_dmarc` names; `None`
    /// for a level whose `_dmarc` name is too long to exist.
    walks: Vec<(Name, Vec<Level>)>,
    answers: HashMap<Query, Option<Answer>>,
    stage: Stage,
}

impl Discovery {
    /// Policy discovery for `author_domain`, with its Organizational Domain.
    pub fn new(author_domain: &Name, config: &Config) -> Discovery {
        Discovery::build(author_domain, &[], config, true)
    }

    /// Policy discovery plus the Organizational Domains of `identifiers`
    /// (the SPF-authenticated domain, the DKIM `d=` domains), looked up in
    /// parallel, so that [`evaluate`](super::evaluate()) can decide relaxed
    /// alignment. At most [`Config::max_identifiers`] distinct identifiers
    /// other than the Author Domain are looked up.
    pub fn with_identifiers(
        author_domain: &Name,
        identifiers: &[Name],
        config: &Config,
    ) -> Discovery {
        Discovery::build(author_domain, identifiers, config, true)
    }

    /// Only the Organizational Domains of `identifiers` (no policy), for a
    /// caller that learns them after [`Discovery::new`] has run; merge the
    /// result with [`PolicyLookup::add_organizational_domain`].
    pub fn organizational_domains_only(identifiers: &[Name], config: &Config) -> Option<Discovery> {
        let (first, rest) = identifiers.split_first()?;
        Some(Discovery::build(first, rest, config, false))
    }

    fn build(author: &Name, identifiers: &[Name], config: &Config, want_policy: bool) -> Discovery {
        let author = author.to_lowercase();
        let mut ids: Vec<Name> = Vec::new();
        for id in identifiers {
            let id = id.to_lowercase();
            if id != author && !ids.contains(&id) && ids.len() < config.max_identifiers {
                ids.push(id);
            }
        }
        let psl = (config.mode == Mode::Rfc7489).then(|| config.public_suffix_list());
        let mut discovery = Discovery {
            config: config.clone(),
            psl,
            author: author.clone(),
            identifiers: ids,
            want_policy,
            walks: Vec::new(),
            answers: HashMap::new(),
            stage: Stage::Records,
        };
        let domains: Vec<Name> = std::iter::once(author.clone())
            .chain(discovery.identifiers.iter().cloned())
            .collect();
        match (&discovery.psl, config.mode) {
            (Some(psl), _) => {
                if want_policy {
                    let mut levels = vec![author.clone()];
                    let org = psl.organizational_domain(&author);
                    if org != author {
                        levels.push(org);
                    }
                    let walk: Vec<Level> = levels
                        .into_iter()
                        .map(|d| (d.clone(), dmarc_name(&d)))
                        .collect();
                    discovery.walks.push((author, walk));
                }
            }
            (None, _) => {
                for domain in domains {
                    let walk = tree_walk_names(&domain, config.max_tree_walk_queries)
                        .into_iter()
                        .map(|d| {
                            let q = dmarc_name(&d);
                            (d, q)
                        })
                        .collect();
                    discovery.walks.push((domain, walk));
                }
            }
        }
        for (_, walk) in &discovery.walks {
            for (_, query_name) in walk {
                if let Some(name) = query_name {
                    discovery
                        .answers
                        .entry(Query::txt(name.clone()))
                        .or_insert(None);
                }
            }
        }
        discovery
    }

    fn found(&self, query_name: Option<&Name>) -> Found {
        let Some(name) = query_name else {
            return Found::Nothing;
        };
        match self.answers.get(&Query::txt(name.clone())) {
            Some(Some(answer)) => interpret(answer, &self.config),
            _ => Found::Nothing,
        }
    }

    /// The records of the walk from `start`, up to a record with `psd=y` or
    /// `psd=n`; the first DNS failure met on the way ends it.
    fn walk_records<'a>(&self, walk: &'a [Level], found: &'a [Found]) -> WalkRecords<'a> {
        let mut records = Vec::new();
        for (index, ((domain, query_name), found)) in walk.iter().zip(found).enumerate() {
            match found {
                Found::Record(record) => {
                    records.push((index, domain, &**record));
                    if self.psl.is_none() && record.public_suffix != PublicSuffixFlag::Unknown {
                        break;
                    }
                }
                Found::Nothing => {}
                Found::Failed(failure, temporary) => {
                    return Err(DnsFailure {
                        name: query_name.clone().unwrap_or_else(|| domain.clone()),
                        failure: *failure,
                        temporary: *temporary,
                    });
                }
            }
        }
        Ok(records)
    }

    /// The Organizational Domain from the records of a walk from `start`.
    fn select_org(start: &Name, records: &[(usize, &Name, &Record)]) -> Name {
        match records.last() {
            None => start.clone(),
            Some((index, domain, record)) => match record.public_suffix {
                PublicSuffixFlag::Yes if *index != 0 => {
                    last_labels(start, domain.label_count() + 1).unwrap_or_else(|| start.clone())
                }
                _ => (*domain).clone(),
            },
        }
    }

    fn finish_records(&self) -> (PolicyLookup, Option<Query>) {
        let mut orgs = Vec::new();
        let mut status = PolicyStatus::NoPolicy {
            unusable_record_at: None,
        };
        for (walk_index, (start, walk)) in self.walks.iter().enumerate() {
            let found: Vec<Found> = walk.iter().map(|(_, q)| self.found(q.as_ref())).collect();
            let records = self.walk_records(walk, &found);
            if let Some(psl) = &self.psl {
                // RFC 7489 §6.6.3: the author's record, else the
                // Organizational Domain's; the walk has at most two names.
                orgs.push(OrgDomain {
                    domain: start.clone(),
                    organizational_domain: Ok(psl.organizational_domain(start)),
                });
                status = match records {
                    Ok(records) => match records.first() {
                        Some((_, domain, record)) => self.policy_status(domain, record),
                        None => PolicyStatus::NoPolicy {
                            unusable_record_at: None,
                        },
                    },
                    Err(failure) => {
                        // A failure at the Organizational Domain matters
                        // only when the author has no record.
                        match found.first() {
                            Some(Found::Record(record)) => self.policy_status(start, record),
                            _ => PolicyStatus::DnsError(failure),
                        }
                    }
                };
                continue;
            }
            let org = records
                .as_ref()
                .map(|records| Discovery::select_org(start, records))
                .map_err(Clone::clone);
            if walk_index == 0 && self.want_policy {
                status = match (&found.first(), &records, &org) {
                    // The Author Domain's own record applies whatever
                    // happened further up.
                    (Some(Found::Record(record)), _, _) => self.policy_status(start, record),
                    (_, Err(failure), _) => PolicyStatus::DnsError(failure.clone()),
                    (_, Ok(records), Ok(org)) => {
                        let at_org = records.iter().find(|(_, d, _)| *d == org);
                        let at_psd = records
                            .iter()
                            .find(|(_, _, r)| r.public_suffix == PublicSuffixFlag::Yes);
                        match at_org.or(at_psd) {
                            Some((_, domain, record)) => self.policy_status(domain, record),
                            None => PolicyStatus::NoPolicy {
                                unusable_record_at: None,
                            },
                        }
                    }
                    (_, Ok(_), Err(failure)) => PolicyStatus::DnsError(failure.clone()),
                };
            }
            orgs.push(OrgDomain {
                domain: start.clone(),
                organizational_domain: org,
            });
        }
        if let Some(psl) = &self.psl {
            if orgs.is_empty() {
                orgs.push(OrgDomain {
                    domain: self.author.clone(),
                    organizational_domain: Ok(psl.organizational_domain(&self.author)),
                });
            }
            for id in &self.identifiers {
                orgs.push(OrgDomain {
                    domain: id.clone(),
                    organizational_domain: Ok(psl.organizational_domain(id)),
                });
            }
        }
        let queries = self.answers.len();
        // Whether the Author Domain exists matters when the record came
        // from above it, has `np`, and the author is not the
        // Organizational Domain itself.
        let mut existence = None;
        if let PolicyStatus::Found(found) = &status {
            let author_org = orgs
                .first()
                .and_then(|o| o.organizational_domain.as_ref().ok());
            if self.psl.is_none()
                && found.policy_domain != self.author
                && author_org != Some(&self.author)
                && found.record.nonexistent_subdomain_policy.is_some()
            {
                existence = Some(Query::new(self.author.clone(), RecordType::A));
            }
        }
        (
            PolicyLookup {
                author_domain: self.author.clone(),
                status: if self.want_policy {
                    status
                } else {
                    PolicyStatus::NoPolicy {
                        unusable_record_at: None,
                    }
                },
                organizational_domains: orgs,
                queries,
            },
            existence,
        )
    }

    fn policy_status(&self, domain: &Name, record: &Record) -> PolicyStatus {
        if self.config.strict_records
            && let Some(error) = record.tag_errors.first()
        {
            return PolicyStatus::BadRecord {
                domain: domain.clone(),
                error: RecordError::Tag(*error),
            };
        }
        if record.policy_is_broken() && record.aggregate_report_uris.is_empty() {
            return PolicyStatus::NoPolicy {
                unusable_record_at: Some(domain.clone()),
            };
        }
        PolicyStatus::Found(Box::new(FoundPolicy {
            record: record.clone(),
            policy_domain: domain.clone(),
            author_domain_exists: None,
        }))
    }

    fn outstanding(&self) -> Vec<Query> {
        let mut queries: Vec<Query> = self
            .answers
            .iter()
            .filter(|(_, a)| a.is_none())
            .map(|(q, _)| q.clone())
            .collect();
        queries.sort_by(|a, b| a.name.cmp(&b.name));
        queries
    }
}

impl Machine for Discovery {
    type Output = PolicyLookup;

    fn poll(&mut self) -> Poll<PolicyLookup> {
        loop {
            match &mut self.stage {
                Stage::Done(lookup) => return Poll::Done((**lookup).clone()),
                Stage::Records => {
                    let pending = self.outstanding();
                    if !pending.is_empty() {
                        return Poll::Lookups(pending);
                    }
                    let (lookup, existence) = self.finish_records();
                    self.stage = match existence {
                        Some(query) => {
                            self.answers.insert(query.clone(), None);
                            Stage::Existence(Box::new(lookup), query)
                        }
                        None => Stage::Done(Box::new(lookup)),
                    };
                }
                Stage::Existence(lookup, query) => {
                    let answer = match self.answers.get(query) {
                        Some(Some(answer)) => answer.clone(),
                        _ => return Poll::Lookups(vec![query.clone()]),
                    };
                    let mut lookup = std::mem::replace(
                        lookup,
                        Box::new(PolicyLookup {
                            author_domain: self.author.clone(),
                            status: PolicyStatus::NoPolicy {
                                unusable_record_at: None,
                            },
                            organizational_domains: Vec::new(),
                            queries: 0,
                        }),
                    );
                    lookup.queries += 1;
                    if let PolicyStatus::Found(found) = &mut lookup.status {
                        found.author_domain_exists = match answer {
                            Answer::NxDomain => Some(false),
                            Answer::Records(_) | Answer::NoData => Some(true),
                            _ => None,
                        };
                    }
                    self.stage = Stage::Done(lookup);
                }
            }
        }
    }

    fn supply(&mut self, query: &Query, answer: Answer) -> Result<(), UnexpectedAnswer> {
        match self.answers.get_mut(query) {
            Some(slot @ None) => {
                *slot = Some(answer);
                Ok(())
            }
            _ => Err(UnexpectedAnswer {
                query: query.clone(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dns::{Resolver, ZoneResolver};
    use std::cell::RefCell;

    fn n(s: &str) -> Name {
        Name::new(s).unwrap()
    }

    /// A resolver that records the names it was asked.
    struct Recording<'a> {
        zone: &'a ZoneResolver,
        asked: RefCell<Vec<String>>,
    }

    impl Resolver for Recording<'_> {
        fn lookup_with_ttl(&self, query: &Query) -> (Answer, Option<u32>) {
            self.asked.borrow_mut().push(query.name.to_string());
            self.zone.lookup_with_ttl(query)
        }
    }

    fn discover(zone: &ZoneResolver, author: &str, config: &Config) -> (PolicyLookup, Vec<String>) {
        let recording = Recording {
            zone,
            asked: RefCell::new(Vec::new()),
        };
        let lookup = crate::resolve(Discovery::new(&n(author), config), &recording);
        let mut asked = recording.asked.into_inner();
        asked.sort();
        (lookup, asked)
    }

    fn zone(records: &[(&str, &str)]) -> ZoneResolver {
        let mut zone = ZoneResolver::new();
        for (name, text) in records {
            zone.add_txt(&n(name), text);
        }
        zone
    }

    fn policy_domain(lookup: &PolicyLookup) -> Option<&str> {
        match &lookup.status {
            PolicyStatus::Found(found) => Some(found.policy_domain.as_str()),
            _ => None,
        }
    }

    fn org(lookup: &PolicyLookup) -> &str {
        lookup.organizational_domains[0]
            .organizational_domain
            .as_ref()
            .unwrap()
            .as_str()
    }

    #[test]
    fn walk_names_follow_the_shortcut() {
        let names = |d: &str| -> Vec<String> {
            tree_walk_names(&n(d), 8)
                .iter()
                .map(|n| n.to_string())
                .collect()
        };
        assert_eq!(
            names("a.mail.example.com"),
            [
                "a.mail.example.com",
                "mail.example.com",
                "example.com",
                "com"
            ]
        );
        // The RFC's own example: ten labels before mail.example.com.
        assert_eq!(
            names("a.b.c.d.e.f.g.h.i.j.mail.example.com"),
            [
                "a.b.c.d.e.f.g.h.i.j.mail.example.com",
                "g.h.i.j.mail.example.com",
                "h.i.j.mail.example.com",
                "i.j.mail.example.com",
                "j.mail.example.com",
                "mail.example.com",
                "example.com",
                "com"
            ]
        );
        assert_eq!(names("com"), ["com"]);
        assert_eq!(tree_walk_names(&n("a.b.c.d.e"), 3).len(), 3);
    }

    #[test]
    fn deep_name_makes_at_most_eight_queries() {
        let labels: Vec<String> = (0..20).map(|i| format!("l{i}")).collect();
        let author = format!("{}.example.com", labels.join("."));
        assert_eq!(n(&author).label_count(), 22);
        let z = zone(&[("_dmarc.example.com", "v=DMARC1; p=reject")]);
        let (lookup, asked) = discover(&z, &author, &Config::default());
        assert_eq!(asked.len(), 8, "{asked:?}");
        assert_eq!(lookup.queries, 8);
        assert_eq!(policy_domain(&lookup), Some("example.com"));
        assert_eq!(org(&lookup), "example.com");
        // A record between the author and the 7-label name is never seen.
        let mut z = z.clone();
        z.add_txt(
            &n(&format!("_dmarc.{}", author.split_once('.').unwrap().1)),
            "v=DMARC1; p=none; psd=n",
        );
        let (lookup, asked) = discover(&z, &author, &Config::default());
        assert_eq!(asked.len(), 8);
        assert_eq!(policy_domain(&lookup), Some("example.com"));
        // A smaller bound is honoured.
        let config = Config {
            max_tree_walk_queries: 3,
            ..Config::default()
        };
        let (_, asked) = discover(&z, &author, &config);
        assert_eq!(asked.len(), 3);
    }

    #[test]
    fn organizational_domain_rules() {
        // The fewest labels wins.
        let z = zone(&[
            ("_dmarc.mail.example.com", "v=DMARC1; p=quarantine"),
            ("_dmarc.example.com", "v=DMARC1; p=reject"),
        ]);
        let (lookup, _) = discover(&z, "a.mail.example.com", &Config::default());
        assert_eq!(org(&lookup), "example.com");
        assert_eq!(policy_domain(&lookup), Some("example.com"));
        // psd=n marks an Organizational Domain and stops the walk.
        let z = zone(&[
            ("_dmarc.mail.example.com", "v=DMARC1; p=quarantine; psd=n"),
            ("_dmarc.example.com", "v=DMARC1; p=reject"),
        ]);
        let (lookup, asked) = discover(&z, "a.mail.example.com", &Config::default());
        assert_eq!(org(&lookup), "mail.example.com");
        assert_eq!(policy_domain(&lookup), Some("mail.example.com"));
        assert_eq!(asked.len(), 4, "all names are asked at once");
        // psd=y: the Organizational Domain is one label below.
        let z = zone(&[("_dmarc.com", "v=DMARC1; p=reject; sp=quarantine; psd=y")]);
        let (lookup, _) = discover(&z, "a.mail.example.com", &Config::default());
        assert_eq!(org(&lookup), "example.com");
        assert_eq!(policy_domain(&lookup), Some("com"));
        // psd=y at the starting name: that name is its own Organizational Domain.
        let (lookup, _) = discover(&z, "com", &Config::default());
        assert_eq!(org(&lookup), "com");
        // No record at all: the domain itself, and no policy.
        let (lookup, _) = discover(&ZoneResolver::new(), "a.b.example", &Config::default());
        assert_eq!(org(&lookup), "a.b.example");
        assert_eq!(
            lookup.status,
            PolicyStatus::NoPolicy {
                unusable_record_at: None
            }
        );
    }

    #[test]
    fn record_selection() {
        // Several DMARC records at one name are all discarded; other TXT
        // records are ignored.
        let mut z = zone(&[
            ("_dmarc.example.com", "v=DMARC1; p=reject"),
            ("_dmarc.example.com", "v=DMARC1; p=none"),
            ("_dmarc.com", "v=DMARC1; p=quarantine; psd=y"),
        ]);
        z.add_txt(&n("_dmarc.mail.example.com"), "v=spf1 -all");
        z.add_txt(&n("_dmarc.mail.example.com"), "hello");
        let (lookup, _) = discover(&z, "mail.example.com", &Config::default());
        assert_eq!(policy_domain(&lookup), Some("com"));
        assert_eq!(org(&lookup), "example.com");
    }

    #[test]
    fn rfc7489_mode_uses_the_list() {
        let z = zone(&[
            ("_dmarc.example.co.uk", "v=DMARC1; p=reject"),
            ("_dmarc.co.uk", "v=DMARC1; p=none; psd=y"),
        ]);
        let (lookup, asked) = discover(&z, "a.b.example.co.uk", &Config::rfc7489());
        assert_eq!(asked, ["_dmarc.a.b.example.co.uk", "_dmarc.example.co.uk"]);
        assert_eq!(policy_domain(&lookup), Some("example.co.uk"));
        assert_eq!(org(&lookup), "example.co.uk");
        let list = PublicSuffixList::parse("uk\n");
        let config = Config {
            public_suffix_list: Some(Arc::new(list)),
            ..Config::rfc7489()
        };
        let (lookup, asked) = discover(&z, "a.b.example.co.uk", &config);
        assert_eq!(asked, ["_dmarc.a.b.example.co.uk", "_dmarc.co.uk"]);
        assert_eq!(policy_domain(&lookup), Some("co.uk"));
    }

    #[test]
    fn machine_contract() {
        let mut discovery = Discovery::new(&n("example.com"), &Config::default());
        let Poll::Lookups(queries) = discovery.poll() else {
            panic!()
        };
        assert_eq!(queries.len(), 2);
        assert_eq!(discovery.poll(), Poll::Lookups(queries.clone()));
        let stray = Query::txt(n("_dmarc.other.example"));
        assert!(discovery.supply(&stray, Answer::NxDomain).is_err());
        for q in &queries {
            discovery.supply(q, Answer::NxDomain).unwrap();
        }
        assert!(discovery.supply(&queries[0], Answer::NxDomain).is_err());
        let Poll::Done(lookup) = discovery.poll() else {
            panic!()
        };
        assert_eq!(
            lookup.status,
            PolicyStatus::NoPolicy {
                unusable_record_at: None
            }
        );
        assert_eq!(discovery.poll(), Poll::Done(lookup));
    }

    #[test]
    fn huge_and_hostile_records() {
        let huge = format!(
            "v=DMARC1; p=reject; rua={}",
            "mailto:a@b.example,".repeat(5000)
        );
        let mut z = zone(&[("_dmarc.example.com", &huge)]);
        let (lookup, _) = discover(&z, "example.com", &Config::default());
        assert_eq!(
            lookup.status,
            PolicyStatus::NoPolicy {
                unusable_record_at: None
            }
        );
        z.remove(&n("_dmarc.example.com"));
        z.add_txt(&n("_dmarc.example.com"), b"v=DMARC1; p=\xff\xfe");
        let (lookup, _) = discover(&z, "example.com", &Config::default());
        assert_eq!(
            lookup.status,
            PolicyStatus::NoPolicy {
                unusable_record_at: Some(n("example.com"))
            }
        );
    }
}
