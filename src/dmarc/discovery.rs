//! Policy discovery and Organizational Domains.
//!
//! [`Discovery`] is the [`Machine`]; what it asks and what it concludes
//! belongs to the strategy of [`Config::mode`], each in its own module:
//!
//! - [`Mode::Rfc9989`]: the DNS Tree Walk (RFC 9989 "DNS Tree Walk",
//!   "DMARC Policy Discovery", "Identifier Alignment Evaluation"), in
//!   `discovery/tree_walk.rs`;
//! - [`Mode::Rfc7489`]: the Public Suffix List (RFC 7489 §3.2 and
//!   §6.6.3), in `discovery/public_suffix.rs`.
//!
//! Each strategy names its `_dmarc` TXT queries up front, so [`Discovery`]
//! asks them all in its first poll (one round trip) and shares the queries
//! that several walks have in common. From the answers the strategy builds
//! a complete [`PolicyLookup`]: the policy record, and the Organizational
//! Domains of the Author Domain and of every identifier, so that
//! [`evaluate`](super::evaluate()) never derives one itself. A strategy may
//! ask one more question, whether the Author Domain exists (RFC 9989
//! "Non-existent Domains"): an `A` query, which answers NXDOMAIN when the
//! name does not exist (RFC 8020).

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use super::psl::PublicSuffixList;
use super::record::{Record, RecordError};
use super::{Config, Mode};
use crate::dns::{Answer, Failure, Name, Query, RecordType, Records};
use crate::machine::{Machine, Poll, Progress, UnexpectedAnswer};

mod public_suffix;
mod tree_walk;

use public_suffix::SuffixListLookup;
use tree_walk::TreeWalk;
pub use tree_walk::tree_walk_names;

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

impl fmt::Display for DnsFailure {
    /// `dns <failure> for <name>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "dns {} for {}", self.failure, self.name)
    }
}

/// The policy record that applies to the Author Domain.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FoundPolicy {
    /// The record (shared with the record cache).
    pub record: Arc<Record>,
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
    Found(FoundPolicy),
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

impl PolicyStatus {
    /// No record found.
    const NONE: PolicyStatus = PolicyStatus::NoPolicy {
        unusable_record_at: None,
    };

    /// The status for the record found at `domain` (RFC 9989 "DMARC Policy
    /// Discovery"; RFC 7489 §6.6.3 step 6): a record without a valid
    /// policy and without a valid `rua` does not count.
    fn of_record(domain: &Name, record: &Arc<Record>, config: &Config) -> PolicyStatus {
        if config.strict_records
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
        PolicyStatus::Found(FoundPolicy {
            record: Arc::clone(record),
            policy_domain: domain.clone(),
            author_domain_exists: None,
        })
    }
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
    /// In [`Mode::Rfc7489`], the list that gives the Organizational Domain
    /// of any other name without DNS (RFC 7489 §3.2).
    suffix_list: SuffixList,
}

impl PolicyLookup {
    /// A lookup for `author_domain` before discovery: no policy, no
    /// Organizational Domain, no query.
    fn of(author_domain: &Name) -> PolicyLookup {
        PolicyLookup {
            author_domain: author_domain.clone(),
            status: PolicyStatus::NONE,
            organizational_domains: Vec::new(),
            queries: 0,
            suffix_list: SuffixList::default(),
        }
    }

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

    /// The Organizational Domain of `domain` as alignment needs it: the
    /// one found, or in [`Mode::Rfc7489`] the one the Public Suffix List
    /// gives for a name that was not looked up; `None` when unknown.
    pub(crate) fn organizational_domain_for(
        &self,
        domain: &Name,
    ) -> Option<Result<Cow<'_, Name>, &DnsFailure>> {
        match self.organizational_domain(domain) {
            Some(Ok(org)) => Some(Ok(Cow::Borrowed(org))),
            Some(Err(failure)) => Some(Err(failure)),
            None => self
                .suffix_list
                .0
                .as_ref()
                .map(|list| Ok(Cow::Owned(list.organizational_domain(domain)))),
        }
    }
}

/// The Public Suffix List a lookup answers further Organizational Domains
/// from. Compared by identity and shown by size: it is configuration, not
/// something discovery found.
#[derive(Clone, Default)]
struct SuffixList(Option<Arc<PublicSuffixList>>);

impl fmt::Debug for SuffixList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Some(list) => write!(f, "PublicSuffixList({} rules)", list.rule_count()),
            None => f.write_str("None"),
        }
    }
}

impl PartialEq for SuffixList {
    fn eq(&self, other: &SuffixList) -> bool {
        match (&self.0, &other.0) {
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            (None, None) => true,
            _ => false,
        }
    }
}

impl Eq for SuffixList {}

/// What one `_dmarc` TXT answer says.
#[derive(Debug, Clone)]
enum Found {
    Record(Arc<Record>),
    Nothing,
    Failed(Failure, bool),
}

impl Found {
    /// Reads a `_dmarc` TXT answer: exactly one record starting with
    /// `v=DMARC1` (RFC 9989 "DMARC Policy Discovery"; several are all
    /// discarded), or nothing.
    fn interpret(answer: &Answer, config: &Config) -> Found {
        match answer {
            Answer::Records(Records::Txt(txts)) => {
                let mut found = None;
                let mut count = 0usize;
                for txt in txts {
                    if let Ok(record) = parse_record(&txt.joined_bytes(), config) {
                        count += 1;
                        found = Some(record);
                    }
                }
                match (count, found) {
                    (1, Some(record)) => Found::Record(record),
                    _ => Found::Nothing,
                }
            }
            Answer::TempFail(failure) => Found::Failed(*failure, true),
            Answer::PermFail(failure) => Found::Failed(*failure, false),
            _ => Found::Nothing,
        }
    }
}

/// A policy record read from `text`, through the configured record cache.
/// What else the parsing depends on (the mode, the bounds) is part of the
/// cache's key; a record longer than the bound is refused before the cache
/// is asked.
fn parse_record(text: &[u8], config: &Config) -> Result<Arc<Record>, RecordError> {
    match &config.record_cache {
        Some(cache) if text.len() <= config.max_record_bytes => {
            let settings =
                (config.max_report_uris as u64) << 1 | u64::from(config.mode == Mode::Rfc7489);
            cache.get_or_parse(settings, text, |text| Record::parse(text, config))
        }
        _ => Record::parse(text, config).map(Arc::new),
    }
}

/// The `_dmarc` names asked, each with what its TXT answer says once
/// supplied: a short list searched in order (a discovery asks at most a few
/// dozen names), where comparing names beats hashing them.
#[derive(Debug, Clone, Default)]
struct Asked {
    /// A discovery asks a few names: held inline.
    entries: smallvec::SmallVec<[(Name, Option<Found>); 4]>,
}

impl Asked {
    /// Adds `name` unless it is listed already.
    fn ask(&mut self, name: &Name) {
        if !self.entries.iter().any(|(asked, _)| asked == name) {
            self.entries
                .extend(std::iter::once(name).map(|name| (name.clone(), None)));
        }
    }

    fn get(&self, name: &Name) -> Option<&Option<Found>> {
        self.entries
            .iter()
            .find(|(asked, _)| asked == name)
            .map(|(_, found)| found)
    }

    fn get_mut(&mut self, name: &Name) -> Option<&mut Option<Found>> {
        self.entries
            .iter_mut()
            .find(|(asked, _)| asked == name)
            .map(|(_, found)| found)
    }

    fn len(&self) -> usize {
        self.entries.len()
    }
}

/// One name a strategy asks about: a domain and its `_dmarc` name (`None`
/// when too long to exist, so never asked).
#[derive(Debug, Clone)]
struct Level {
    domain: Name,
    query_name: Option<Name>,
}

impl Level {
    fn new(domain: Name) -> Level {
        let query_name = domain.prepend("_dmarc").ok();
        Level { domain, query_name }
    }
}

/// The `_dmarc` TXT answers of a discovery, as read when supplied.
#[derive(Debug, Clone, Copy)]
struct Answers<'a> {
    found: &'a Asked,
}

impl Answers<'_> {
    /// How many queries were asked.
    fn asked(&self) -> usize {
        self.found.len()
    }

    /// The DMARC record at `level`, none, or the DNS failure that hid it.
    fn at(&self, level: &Level) -> Result<Option<&Arc<Record>>, DnsFailure> {
        let Some(name) = &level.query_name else {
            return Ok(None);
        };
        match self.found.get(name) {
            Some(Some(Found::Record(record))) => Ok(Some(record)),
            Some(Some(Found::Failed(failure, temporary))) => Err(DnsFailure {
                name: name.clone(),
                failure: *failure,
                temporary: *temporary,
            }),
            Some(Some(Found::Nothing) | None) | None => Ok(None),
        }
    }
}

/// What a strategy concludes from its answers (for the strategies' tests).
#[cfg(test)]
#[derive(Debug)]
struct Conclusion {
    /// The lookup, complete but for [`FoundPolicy::author_domain_exists`].
    lookup: PolicyLookup,
    /// Whether to ask if the Author Domain exists before finishing.
    ask_existence: bool,
}

/// The two modes of discovery, one type each. Both take the Author Domain
/// and the distinct identifiers, name their `_dmarc` queries at once, and
/// conclude a complete [`PolicyLookup`] from the answers.
#[derive(Debug, Clone)]
enum Strategy {
    /// [`Mode::Rfc9989`].
    TreeWalk(TreeWalk),
    /// [`Mode::Rfc7489`].
    SuffixList(SuffixListLookup),
}

impl Strategy {
    fn new(author: &Name, identifiers: &[Name], config: &Config, want_policy: bool) -> Strategy {
        match config.mode {
            Mode::Rfc7489 => Strategy::SuffixList(SuffixListLookup::new(
                author,
                identifiers,
                config.public_suffix_list(),
                want_policy,
            )),
            Mode::Rfc9989 => Strategy::TreeWalk(TreeWalk::new(
                author,
                identifiers,
                config.max_tree_walk_queries,
                want_policy,
                config.record_cache.as_ref(),
            )),
        }
    }

    /// Asks every `_dmarc` name to query (repeats are asked once).
    fn ask_all(&self, asked: &mut Asked) {
        match self {
            Strategy::TreeWalk(walk) => walk.query_names().for_each(|name| asked.ask(name)),
            Strategy::SuffixList(list) => list.query_names().for_each(|name| asked.ask(name)),
        }
    }

    /// Writes the lookup into `lookup`; whether to ask if the Author
    /// Domain exists before finishing.
    fn conclude(&self, answers: &Answers<'_>, config: &Config, lookup: &mut PolicyLookup) -> bool {
        match self {
            Strategy::TreeWalk(walk) => walk.conclude(answers, config, lookup),
            Strategy::SuffixList(list) => list.conclude(answers, config, lookup),
        }
    }
}

#[derive(Debug, Clone)]
enum Stage {
    /// Waiting for the `_dmarc` answers.
    Records,
    /// Waiting for the answer to whether the Author Domain exists.
    Existence {
        query: Query,
        /// Once answered: whether the name exists (`None` when the answer
        /// does not say).
        exists: Option<Option<bool>>,
    },
    /// The lookup is complete.
    Done,
}

/// Finds the DMARC policy of an Author Domain and the Organizational
/// Domains that alignment needs, by the strategy of [`Config::mode`]. A
/// [`Machine`] whose output is a [`PolicyLookup`]; drive it with
/// [`crate::resolve`] or by hand. The first poll asks every `_dmarc` query
/// at once; a second one may ask whether the Author Domain exists.
#[derive(Debug, Clone)]
pub struct Discovery {
    config: Config,
    strategy: Strategy,
    /// Each `_dmarc` name asked, with what its TXT answer says once
    /// supplied.
    found: Asked,
    stage: Stage,
    /// The lookup, filled in where it is kept as the answers come (built
    /// aside and moved in, it would be copied right after being written).
    lookup: PolicyLookup,
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
        // Names compare ignoring case: an identifier is lowercased only
        // when it is kept (most are the Author Domain itself).
        for id in identifiers {
            if id != &author && !ids.contains(id) && ids.len() < config.max_identifiers {
                ids.push(id.to_lowercase());
            }
        }
        let strategy = Strategy::new(&author, &ids, config, want_policy);
        let mut found = Asked::default();
        strategy.ask_all(&mut found);
        Discovery {
            config: config.clone(),
            strategy,
            found,
            stage: Stage::Records,
            lookup: PolicyLookup::of(&author),
        }
    }

    /// Adds the `_dmarc` queries still unanswered to `queries`, in the
    /// order the strategy named them.
    fn outstanding(&self, queries: &mut Vec<Query>) {
        let entries = &self.found.entries;
        let unanswered = entries.iter().filter(|(_, found)| found.is_none()).count();
        if unanswered == entries.len() {
            // All of them, as when first asked: an iterator of known
            // length writes each query where it goes (pushed one by one,
            // each would be built aside and copied right after, a copy
            // that waits for the writes just made).
            queries.extend(entries.iter().map(|(name, _)| Query::txt(name.clone())));
        } else if unanswered > 0 {
            queries.extend(
                entries
                    .iter()
                    .filter(|(_, found)| found.is_none())
                    .map(|(name, _)| Query::txt(name.clone())),
            );
        }
    }

    /// The stage after the `_dmarc` answers are all in.
    fn conclude(&mut self) -> Stage {
        let answers = Answers { found: &self.found };
        if !self
            .strategy
            .conclude(&answers, &self.config, &mut self.lookup)
        {
            return Stage::Done;
        }
        Stage::Existence {
            query: Query::new(self.lookup.author_domain.clone(), RecordType::A),
            exists: None,
        }
    }
}

impl Discovery {
    /// The lookup of a finished discovery, taken out of it (the discovery
    /// is spent); `None` while it is not finished.
    pub(crate) fn take_lookup(&mut self) -> Option<PolicyLookup> {
        match self.stage {
            Stage::Done => Some(std::mem::replace(
                &mut self.lookup,
                PolicyLookup::of(&Name::root()),
            )),
            _ => None,
        }
    }
}

/// Whether a name exists, from the answer to an `A` query about it (RFC
/// 8020: NXDOMAIN means nothing exists below it either); `None` for a DNS
/// failure.
fn exists(answer: &Answer) -> Option<bool> {
    match answer {
        Answer::NxDomain => Some(false),
        Answer::Records(_) | Answer::NoData => Some(true),
        _ => None,
    }
}

impl Discovery {
    /// Goes on until discovery is done (`false`) or needs answers (`true`,
    /// the queries added to `queries`).
    fn run(&mut self, queries: &mut Vec<Query>) -> bool {
        loop {
            match &mut self.stage {
                Stage::Done => return false,
                Stage::Records => {
                    let before = queries.len();
                    self.outstanding(queries);
                    if queries.len() > before {
                        return true;
                    }
                    self.stage = self.conclude();
                }
                Stage::Existence { query, exists, .. } => {
                    let Some(exists) = *exists else {
                        queries.push(query.clone());
                        return true;
                    };
                    self.lookup.queries += 1;
                    if let PolicyStatus::Found(found) = &mut self.lookup.status {
                        found.author_domain_exists = exists;
                    }
                    self.stage = Stage::Done;
                }
            }
        }
    }
}

impl Machine for Discovery {
    type Output = PolicyLookup;

    fn poll(&mut self) -> Poll<PolicyLookup> {
        let mut queries = Vec::new();
        loop {
            if let Stage::Done = self.stage {
                return Poll::Done(self.lookup.clone());
            }
            if self.run(&mut queries) {
                return Poll::Lookups(queries);
            }
        }
    }

    fn progress(&mut self, queries: &mut Vec<Query>) -> Progress {
        if self.run(queries) {
            Progress::Waiting
        } else {
            Progress::Done
        }
    }

    fn into_output(self) -> Result<PolicyLookup, Discovery> {
        match self.stage {
            Stage::Done => Ok(self.lookup),
            _ => Err(self),
        }
    }

    fn take_output(&mut self) -> Option<PolicyLookup> {
        self.take_lookup()
    }

    fn supply(&mut self, query: &Query, answer: Answer) -> Result<(), UnexpectedAnswer> {
        self.take_answer(query, &answer)
    }

    fn supply_shared(
        &mut self,
        query: &Query,
        answer: Arc<Answer>,
    ) -> Result<(), UnexpectedAnswer> {
        self.take_answer(query, &answer)
    }
}

impl Discovery {
    /// Reads the answer to `query`: what it says is kept, not the answer.
    fn take_answer(&mut self, query: &Query, answer: &Answer) -> Result<(), UnexpectedAnswer> {
        let slot = match &mut self.stage {
            Stage::Records if query.record_type == RecordType::Txt => self
                .found
                .get_mut(&query.name)
                .filter(|found| found.is_none())
                .map(|found| {
                    *found = Some(Found::interpret(answer, &self.config));
                }),
            Stage::Existence {
                query: asked,
                exists: slot @ None,
                ..
            } if asked == query => {
                *slot = Some(exists(answer));
                Some(())
            }
            _ => None,
        };
        slot.ok_or_else(|| UnexpectedAnswer {
            query: query.clone(),
        })
    }
}

/// What a strategy's `conclude` writes for `author` from what `resolver`
/// answers to `names` (for the strategies' tests).
#[cfg(test)]
fn concluded<'a>(
    author: &Name,
    names: impl Iterator<Item = &'a Name>,
    resolver: &impl crate::dns::Resolver,
    config: &Config,
    conclude: impl FnOnce(&Answers<'_>, &mut PolicyLookup) -> bool,
) -> Conclusion {
    let found = answered(names, resolver, config);
    let mut lookup = PolicyLookup::of(author);
    let ask_existence = conclude(&Answers { found: &found }, &mut lookup);
    Conclusion {
        lookup,
        ask_existence,
    }
}

/// What `resolver` answers to `names` as `_dmarc` TXT queries, read as
/// [`Discovery`] reads them (for the strategies' tests).
#[cfg(test)]
fn answered<'a>(
    names: impl Iterator<Item = &'a Name>,
    resolver: &impl crate::dns::Resolver,
    config: &Config,
) -> Asked {
    let mut asked = Asked::default();
    for name in names {
        asked.ask(name);
    }
    for (name, found) in &mut asked.entries {
        let answer = resolver.lookup(&Query::txt(name.clone()));
        *found = Some(Found::interpret(&answer, config));
    }
    asked
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
