//! Linting a domain's SPF record: the record, the records it includes or
//! redirects to (as a tree), and what evaluating them would cost against the
//! RFC 7208 §4.6.4 limits, without a client address.
//!
//! [`Lint`] is a [`Machine`] like [`Check`](super::Check): drive it with
//! [`crate::resolve`]. Its [`LintReport`] holds every record reached, each
//! with its terms, what their lookups gave and its own DNS-term count, and
//! the [`Problem`]s found.
//!
//! ```
//! use mailauth::dns::{Name, ZoneResolver};
//! use mailauth::spf::lint::{Lint, LintConfig, Problem};
//!
//! let mut zone = ZoneResolver::new();
//! zone.add_txt(&Name::new("example.org").unwrap(), "v=spf1 include:_spf.example.org ptr -all");
//! zone.add_txt(&Name::new("_spf.example.org").unwrap(), "v=spf1 ip4:192.0.2.0/24 -all");
//! let report = mailauth::resolve(Lint::new(&Name::new("example.org").unwrap(), &LintConfig::default()), &zone);
//! assert_eq!(report.dns_terms, 2);
//! assert_eq!(report.nodes[0].children, [1]);
//! assert!(matches!(report.problems[..], [Problem::Ptr { .. }]));
//! ```
//!
//! What the lint cannot know without a message (terms whose domain holds
//! macros, `ptr`) is counted but not looked up. Every term that queries DNS
//! counts, as in the worst case where no mechanism matches before it. The
//! `a` mechanism is looked up as both `A` and `AAAA` and counts as a void
//! lookup when neither has addresses. As in the evaluation, an include or
//! redirect without record is not a void lookup (it is a `permerror`).

use std::fmt;

use super::MacroString;
use super::record::{Mechanism, Qualifier, Record, RecordError, is_spf_record};
use crate::dns::{Answer, Failure, Name, Query, RecordType, Records};
use crate::machine::{Lookups, Machine, Poll, UnexpectedAnswer};

/// Limits of a lint. The first three are the RFC 7208 §4.6.4 limits the
/// records are measured against; the others bound the lint's own work.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LintConfig {
    /// DNS terms an evaluation may use (§4.6.4: 10).
    pub max_dns_terms: usize,
    /// Void lookups an evaluation may meet (§4.6.4: 2).
    pub max_void_lookups: usize,
    /// MX names an `mx` mechanism may give (§4.6.4: 10).
    pub max_mx_names: usize,
    /// Terms a record may hold ([`super::Config::max_terms`], default
    /// 32,768).
    pub max_terms: usize,
    /// Records read in all (default 64): more includes are not followed.
    pub max_records: usize,
    /// Include and redirect nesting followed (default 16).
    pub max_depth: usize,
    /// Distinct DNS queries asked in all (default 256): further terms are
    /// not looked up.
    pub max_queries: usize,
    /// Problems listed while walking the tree (default 100; the last place
    /// then says the list was cut), besides the two totals: a hostile
    /// record could otherwise give one per term.
    pub max_problems: usize,
}

impl Default for LintConfig {
    fn default() -> LintConfig {
        let spf = super::Config::default();
        LintConfig {
            max_dns_terms: spf.max_dns_mechanisms,
            max_void_lookups: spf.max_void_lookups,
            max_mx_names: spf.max_mx_names,
            max_terms: spf.max_terms,
            max_records: 64,
            max_depth: 16,
            max_queries: 256,
            max_problems: 100,
        }
    }
}

/// How a record was reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Via {
    /// The linted domain's own record.
    Top,
    /// An `include:` of its parent.
    Include,
    /// The `redirect=` of its parent.
    Redirect,
}

impl Via {
    /// `top`, `include` or `redirect`.
    pub fn as_str(self) -> &'static str {
        match self {
            Via::Top => "top",
            Via::Include => "include",
            Via::Redirect => "redirect",
        }
    }
}

/// What the lookup of one term gave.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TermLookup {
    /// The term queries no DNS (`all`, `ip4`, `ip6`, `exp=`).
    NotNeeded,
    /// Not looked up: the domain holds macros, or the term is `ptr`, whose
    /// lookups depend on the client.
    DependsOnMessage,
    /// The lookup is still open (never in a finished report unless the
    /// lint was cut short).
    Pending,
    /// This many records were found.
    Found(usize),
    /// NXDOMAIN or no data: a void lookup.
    Void,
    /// The lookup failed.
    Failed(Failure),
    /// The record reached through this `include` or `redirect`: the index
    /// of its node in [`LintReport::nodes`].
    Record(usize),
    /// Not followed: a loop, a limit of [`LintConfig`], or a domain that is
    /// not a valid name (see [`LintReport::problems`]).
    NotFollowed,
}

/// One term of a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LintTerm {
    /// The term as written.
    pub text: String,
    /// Whether it counts against the DNS-term limit.
    pub dns_term: bool,
    /// What its lookup gave.
    pub lookup: TermLookup,
    queries: Vec<Query>,
}

/// One record of the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LintNode {
    /// The domain whose record this is.
    pub domain: Name,
    /// How it was reached.
    pub via: Via,
    /// The parent node (`None` for the top).
    pub parent: Option<usize>,
    /// The SPF record found (`None` when there is none, several, or the
    /// lookup failed).
    pub record: Option<String>,
    /// Its directives in order, then `redirect=` and `exp=` (unknown
    /// modifiers are not listed).
    pub terms: Vec<LintTerm>,
    /// The DNS terms of this record alone.
    pub dns_terms: usize,
    /// The void lookups of this record's terms alone.
    pub void_lookups: usize,
    /// The nodes of its includes and redirect, in term order.
    pub children: Vec<usize>,
    awaiting_record: bool,
}

/// A limit of [`LintConfig`] that cut the lint short.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LintLimit {
    /// [`LintConfig::max_records`].
    Records,
    /// [`LintConfig::max_depth`].
    Depth,
    /// [`LintConfig::max_queries`].
    Queries,
    /// [`LintConfig::max_problems`].
    Problems,
}

/// Something wrong with the records.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Problem {
    /// No SPF record at the domain (for an include, a `permerror`).
    NoRecord {
        /// The domain.
        domain: Name,
    },
    /// Several SPF records at the domain: a `permerror` (§4.5).
    MultipleRecords {
        /// The domain.
        domain: Name,
        /// How many.
        count: usize,
    },
    /// The record does not parse: a `permerror`.
    Syntax {
        /// The domain.
        domain: Name,
        /// What is wrong.
        error: RecordError,
        /// The offset in the record (in octets) where the offending term
        /// starts.
        position: usize,
    },
    /// A lookup failed: the report is incomplete.
    DnsFailure {
        /// The query.
        query: Query,
        /// What went wrong.
        failure: Failure,
    },
    /// An include or redirect leads back to a record on its own path: the
    /// evaluation would exhaust the DNS-term limit.
    Loop {
        /// The record holding the term.
        domain: Name,
        /// The domain it names again.
        target: Name,
    },
    /// An include or redirect domain that is not a valid name: a
    /// `permerror`.
    InvalidDomain {
        /// The record holding the term.
        domain: Name,
        /// The term.
        term: String,
    },
    /// More DNS terms than the limit: a `permerror` once evaluation gets
    /// that far.
    TooManyDnsTerms {
        /// The terms counted over the tree.
        count: usize,
        /// The limit.
        limit: usize,
    },
    /// More void lookups than the limit: a `permerror` once evaluation gets
    /// that far.
    TooManyVoidLookups {
        /// The void lookups counted over the tree.
        count: usize,
        /// The limit.
        limit: usize,
    },
    /// An `mx` mechanism whose domain has more MX names than the limit: a
    /// `permerror`.
    TooManyMxNames {
        /// The record holding the term.
        domain: Name,
        /// The term.
        term: String,
        /// The MX names found.
        count: usize,
        /// The limit.
        limit: usize,
    },
    /// The `ptr` mechanism, which §5.5 says should not be used.
    Ptr {
        /// The record holding it.
        domain: Name,
    },
    /// `+all` or `?all`: every host on the Internet passes or is neutral.
    PermissiveAll {
        /// The record holding it.
        domain: Name,
        /// The term.
        term: String,
    },
    /// `redirect=` in a record with an `all` mechanism, which makes it
    /// ignored (§6.1).
    RedirectIgnored {
        /// The record.
        domain: Name,
    },
    /// `exp=` in a record reached by `include`: its explanation is never
    /// used (§6.2).
    ExplanationIgnored {
        /// The record.
        domain: Name,
    },
    /// A limit of [`LintConfig`] stopped the lint before every record was
    /// read.
    LimitReached {
        /// Which one.
        limit: LintLimit,
    },
}

impl Problem {
    /// Whether this is a DNS failure (the report is then incomplete, not
    /// necessarily wrong).
    pub fn is_dns_failure(&self) -> bool {
        matches!(self, Problem::DnsFailure { .. })
    }

    /// A short stable name for the kind of problem, such as
    /// `too-many-dns-terms`.
    pub fn kind(&self) -> &'static str {
        match self {
            Problem::NoRecord { .. } => "no-record",
            Problem::MultipleRecords { .. } => "multiple-records",
            Problem::Syntax { .. } => "syntax",
            Problem::DnsFailure { .. } => "dns-failure",
            Problem::Loop { .. } => "loop",
            Problem::InvalidDomain { .. } => "invalid-domain",
            Problem::TooManyDnsTerms { .. } => "too-many-dns-terms",
            Problem::TooManyVoidLookups { .. } => "too-many-void-lookups",
            Problem::TooManyMxNames { .. } => "too-many-mx-names",
            Problem::Ptr { .. } => "ptr",
            Problem::PermissiveAll { .. } => "permissive-all",
            Problem::RedirectIgnored { .. } => "redirect-ignored",
            Problem::ExplanationIgnored { .. } => "explanation-ignored",
            Problem::LimitReached { .. } => "limit-reached",
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::NoRecord { domain } => write!(f, "{domain}: no spf record"),
            Problem::MultipleRecords { domain, count } => {
                write!(f, "{domain}: {count} spf records (permerror)")
            }
            Problem::Syntax {
                domain,
                error,
                position,
            } => write!(f, "{domain}: {error} at offset {position} (permerror)"),
            Problem::DnsFailure { query, failure } => {
                write!(f, "dns {failure} for {query}")
            }
            Problem::Loop { domain, target } => {
                write!(
                    f,
                    "{domain}: {target} is already on the include path (loop)"
                )
            }
            Problem::InvalidDomain { domain, term } => {
                write!(
                    f,
                    "{domain}: {term:?} does not name a valid domain (permerror)"
                )
            }
            Problem::TooManyDnsTerms { count, limit } => {
                write!(f, "{count} dns terms, more than {limit} (permerror)")
            }
            Problem::TooManyVoidLookups { count, limit } => {
                write!(f, "{count} void lookups, more than {limit} (permerror)")
            }
            Problem::TooManyMxNames {
                domain,
                term,
                count,
                limit,
            } => write!(
                f,
                "{domain}: {term} gives {count} mx names, more than {limit} (permerror)"
            ),
            Problem::Ptr { domain } => {
                write!(f, "{domain}: ptr should not be used (RFC 7208 section 5.5)")
            }
            Problem::PermissiveAll { domain, term } => {
                write!(f, "{domain}: {term} lets any host through")
            }
            Problem::RedirectIgnored { domain } => {
                write!(f, "{domain}: redirect= is ignored beside an all mechanism")
            }
            Problem::ExplanationIgnored { domain } => {
                write!(f, "{domain}: exp= in an included record is never used")
            }
            Problem::LimitReached { limit } => {
                let what = match limit {
                    LintLimit::Records => "records",
                    LintLimit::Depth => "nesting depth",
                    LintLimit::Queries => "dns queries",
                    LintLimit::Problems => "problems listed",
                };
                write!(
                    f,
                    "lint stopped at its limit of {what}: the report is incomplete"
                )
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
    /// The records reached; index 0 is the domain's own.
    pub nodes: Vec<LintNode>,
    /// DNS terms over the whole tree.
    pub dns_terms: usize,
    /// Void lookups over the whole tree.
    pub void_lookups: usize,
    /// What is wrong, in the order found; empty for a clean record.
    pub problems: Vec<Problem>,
    /// Distinct DNS queries asked.
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

/// The SPF lint of one domain, as a [`Machine`].
///
/// Each poll reads every answer at hand, follows the includes and redirects
/// it reveals and asks the queries of all open records and terms at once.
/// Work is bounded by [`LintConfig::max_records`],
/// [`LintConfig::max_depth`] and [`LintConfig::max_queries`]; loops are
/// recognised on the path from the top.
#[derive(Debug, Clone)]
pub struct Lint {
    config: LintConfig,
    domain: Name,
    nodes: Vec<LintNode>,
    answers: Lookups,
    problems: Vec<Problem>,
    done: Option<LintReport>,
}

impl Lint {
    /// A lint of `domain`'s SPF record.
    pub fn new(domain: &Name, config: &LintConfig) -> Lint {
        let mut lint = Lint {
            config: config.clone(),
            domain: domain.clone(),
            nodes: Vec::new(),
            answers: Lookups::default(),
            problems: Vec::new(),
            done: None,
        };
        lint.answers.ask(Query::txt(domain.clone()));
        lint.nodes.push(LintNode {
            domain: domain.clone(),
            via: Via::Top,
            parent: None,
            record: None,
            terms: Vec::new(),
            dns_terms: 0,
            void_lookups: 0,
            children: Vec::new(),
            awaiting_record: true,
        });
        lint
    }

    fn problem(&mut self, problem: Problem) {
        if self.problems.contains(&problem) {
            return;
        }
        if self.problems.len() + 1 < self.config.max_problems {
            self.problems.push(problem);
        } else if self.problems.len() + 1 == self.config.max_problems {
            // The last place says the list is cut.
            self.problems.push(Problem::LimitReached {
                limit: LintLimit::Problems,
            });
        }
    }

    /// Registers `query`, unless the query budget is spent.
    fn ask(&mut self, query: &Query) -> bool {
        if self.answers.contains(query) {
            return true;
        }
        if self.answers.len() >= self.config.max_queries {
            self.problem(Problem::LimitReached {
                limit: LintLimit::Queries,
            });
            return false;
        }
        self.answers.ask(query.clone());
        true
    }

    fn answer(&self, query: &Query) -> Option<&Answer> {
        self.answers.answer(query)
    }

    fn open(&self) -> Vec<Query> {
        self.answers.open()
    }

    /// Reads every answer at hand, asking the queries that reveals.
    fn advance(&mut self) {
        let mut index = 0;
        // Nodes are added while the loop runs; each is visited once.
        while index < self.nodes.len() {
            if self.nodes[index].awaiting_record {
                let query = Query::txt(self.nodes[index].domain.clone());
                match self.answer(&query).cloned() {
                    Some(answer) => self.read_record(index, &query, answer),
                    None => {
                        index += 1;
                        continue;
                    }
                }
            }
            for term in 0..self.nodes[index].terms.len() {
                if self.nodes[index].terms[term].lookup == TermLookup::Pending {
                    self.read_term(index, term);
                }
            }
            index += 1;
        }
    }

    fn read_record(&mut self, index: usize, query: &Query, answer: Answer) {
        self.nodes[index].awaiting_record = false;
        let domain = self.nodes[index].domain.clone();
        let via = self.nodes[index].via;
        let txts = match answer {
            Answer::Records(Records::Txt(txts)) => txts,
            Answer::TempFail(failure) | Answer::PermFail(failure) => {
                self.problem(Problem::DnsFailure {
                    query: query.clone(),
                    failure,
                });
                return;
            }
            // A missing record is a permerror of its own (for an include
            // or redirect), not a void lookup, as in the evaluation.
            _ => return self.problem(Problem::NoRecord { domain }),
        };
        let mut records: Vec<Vec<u8>> = txts
            .iter()
            .map(crate::dns::Txt::joined)
            .filter(|t| is_spf_record(t))
            .collect();
        let text = match records.len() {
            0 => return self.problem(Problem::NoRecord { domain }),
            1 => records.pop().unwrap_or_default(),
            count => return self.problem(Problem::MultipleRecords { domain, count }),
        };
        self.nodes[index].record = Some(String::from_utf8_lossy(&text).into_owned());
        let record = match Record::parse(&text, self.config.max_terms) {
            Ok(record) => record,
            Err(error) => {
                let position = error_position(&text, &error);
                return self.problem(Problem::Syntax {
                    domain,
                    error,
                    position,
                });
            }
        };
        let has_all = record
            .directives
            .iter()
            .any(|d| d.mechanism == Mechanism::All);
        for directive in &record.directives {
            let text = directive.as_str().to_owned();
            let (lookup, queries) = match &directive.mechanism {
                Mechanism::All => {
                    if matches!(directive.qualifier, Qualifier::Pass | Qualifier::Neutral) {
                        self.problem(Problem::PermissiveAll {
                            domain: domain.clone(),
                            term: text.clone(),
                        });
                    }
                    (TermLookup::NotNeeded, Vec::new())
                }
                Mechanism::Ip4 { .. } | Mechanism::Ip6 { .. } => {
                    (TermLookup::NotNeeded, Vec::new())
                }
                Mechanism::Ptr { .. } => {
                    self.problem(Problem::Ptr {
                        domain: domain.clone(),
                    });
                    (TermLookup::DependsOnMessage, Vec::new())
                }
                Mechanism::Include { domain: spec } => {
                    let lookup = self.follow(index, spec, Via::Include, &text);
                    (lookup, Vec::new())
                }
                Mechanism::A { domain: spec, .. } => {
                    self.term_queries(&domain, spec.as_ref(), &[RecordType::A, RecordType::Aaaa])
                }
                Mechanism::Mx { domain: spec, .. } => {
                    self.term_queries(&domain, spec.as_ref(), &[RecordType::Mx])
                }
                Mechanism::Exists { domain: spec } => {
                    self.term_queries(&domain, Some(spec), &[RecordType::A])
                }
            };
            self.push_term(
                index,
                text,
                directive.mechanism.queries_dns(),
                lookup,
                queries,
            );
        }
        if let Some(spec) = &record.redirect {
            let text = format!("redirect={spec}");
            let lookup = if has_all {
                self.problem(Problem::RedirectIgnored {
                    domain: domain.clone(),
                });
                TermLookup::NotFollowed
            } else {
                self.follow(index, spec, Via::Redirect, &text)
            };
            // An ignored redirect is never evaluated, so it does not count.
            self.push_term(index, text, !has_all, lookup, Vec::new());
        }
        if let Some(spec) = &record.explanation {
            if via == Via::Include {
                self.problem(Problem::ExplanationIgnored {
                    domain: domain.clone(),
                });
            }
            self.push_term(
                index,
                format!("exp={spec}"),
                false,
                TermLookup::NotNeeded,
                Vec::new(),
            );
        }
    }

    fn push_term(
        &mut self,
        index: usize,
        text: String,
        dns_term: bool,
        lookup: TermLookup,
        queries: Vec<Query>,
    ) {
        let node = &mut self.nodes[index];
        if dns_term {
            node.dns_terms += 1;
        }
        node.terms.push(LintTerm {
            text,
            dns_term,
            lookup,
            queries,
        });
    }

    /// The queries of an `a`, `mx` or `exists` term.
    fn term_queries(
        &mut self,
        current: &Name,
        spec: Option<&MacroString>,
        types: &[RecordType],
    ) -> (TermLookup, Vec<Query>) {
        let name = match spec {
            None => current.clone(),
            Some(spec) => match literal_domain(spec) {
                Some(Ok(name)) => name,
                // Evaluation finds no match for an invalid name; the lint
                // cannot say more.
                Some(Err(())) | None => return (TermLookup::DependsOnMessage, Vec::new()),
            },
        };
        let queries: Vec<Query> = types.iter().map(|t| Query::new(name.clone(), *t)).collect();
        for query in &queries {
            if !self.ask(query) {
                return (TermLookup::NotFollowed, Vec::new());
            }
        }
        (TermLookup::Pending, queries)
    }

    /// Adds the node an `include` or `redirect` leads to.
    fn follow(&mut self, parent: usize, spec: &MacroString, via: Via, term: &str) -> TermLookup {
        let domain = self.nodes[parent].domain.clone();
        let target = match literal_domain(spec) {
            None => return TermLookup::DependsOnMessage,
            Some(Err(())) => {
                self.problem(Problem::InvalidDomain {
                    domain,
                    term: term.to_owned(),
                });
                return TermLookup::NotFollowed;
            }
            Some(Ok(target)) => target,
        };
        let mut ancestor = Some(parent);
        let mut depth = 0usize;
        while let Some(at) = ancestor {
            if self.nodes[at].domain == target {
                self.problem(Problem::Loop { domain, target });
                return TermLookup::NotFollowed;
            }
            ancestor = self.nodes[at].parent;
            depth += 1;
        }
        if depth > self.config.max_depth {
            self.problem(Problem::LimitReached {
                limit: LintLimit::Depth,
            });
            return TermLookup::NotFollowed;
        }
        if self.nodes.len() >= self.config.max_records {
            self.problem(Problem::LimitReached {
                limit: LintLimit::Records,
            });
            return TermLookup::NotFollowed;
        }
        if !self.ask(&Query::txt(target.clone())) {
            return TermLookup::NotFollowed;
        }
        let child = self.nodes.len();
        self.nodes.push(LintNode {
            domain: target,
            via,
            parent: Some(parent),
            record: None,
            terms: Vec::new(),
            dns_terms: 0,
            void_lookups: 0,
            children: Vec::new(),
            awaiting_record: true,
        });
        self.nodes[parent].children.push(child);
        TermLookup::Record(child)
    }

    /// Reads the answers of a term's queries, unless one is still open.
    fn read_term(&mut self, index: usize, term: usize) {
        let queries = self.nodes[index].terms[term].queries.clone();
        let mut found = 0usize;
        let mut failure = None;
        for query in &queries {
            match self.answer(query) {
                None => return,
                Some(Answer::Records(records)) => found += records.len(),
                Some(Answer::TempFail(f) | Answer::PermFail(f)) => {
                    failure = Some((query.clone(), *f));
                }
                Some(_) => {}
            }
        }
        let domain = self.nodes[index].domain.clone();
        let text = self.nodes[index].terms[term].text.clone();
        let lookup = if let Some((query, failure)) = failure {
            self.problem(Problem::DnsFailure { query, failure });
            TermLookup::Failed(failure)
        } else if found == 0 {
            self.nodes[index].void_lookups += 1;
            TermLookup::Void
        } else {
            if queries.first().map(|q| q.record_type) == Some(RecordType::Mx)
                && found > self.config.max_mx_names
            {
                self.problem(Problem::TooManyMxNames {
                    domain,
                    term: text,
                    count: found,
                    limit: self.config.max_mx_names,
                });
            }
            TermLookup::Found(found)
        };
        self.nodes[index].terms[term].lookup = lookup;
    }

    fn finish(&mut self) -> LintReport {
        let dns_terms = self.nodes.iter().map(|n| n.dns_terms).sum();
        let void_lookups = self.nodes.iter().map(|n| n.void_lookups).sum();
        let mut problems = std::mem::take(&mut self.problems);
        if dns_terms > self.config.max_dns_terms {
            problems.push(Problem::TooManyDnsTerms {
                count: dns_terms,
                limit: self.config.max_dns_terms,
            });
        }
        if void_lookups > self.config.max_void_lookups {
            problems.push(Problem::TooManyVoidLookups {
                count: void_lookups,
                limit: self.config.max_void_lookups,
            });
        }
        LintReport {
            domain: self.domain.clone(),
            nodes: self.nodes.clone(),
            dns_terms,
            void_lookups,
            problems,
            queries: self.answers.len(),
        }
    }
}

/// The domain a domain-spec names when it holds no macro: `None` when it
/// does, `Some(Err)` when the text is not a valid name.
fn literal_domain(spec: &MacroString) -> Option<Result<Name, ()>> {
    let text = spec.as_str();
    if text.contains('%') {
        return None;
    }
    Some(Name::new(text.strip_suffix('.').unwrap_or(text)).map_err(|_| ()))
}

/// Where in `text` the term `error` is about starts.
fn error_position(text: &[u8], error: &RecordError) -> usize {
    let terms = || {
        let mut offset = 0usize;
        text.split(|&b| b == b' ').filter_map(move |term| {
            let start = offset;
            offset += term.len() + 1;
            (!term.is_empty() && start > 0).then_some((start, term))
        })
    };
    let term_at = |wanted: &str| {
        terms()
            .find(|(_, term)| *term == wanted.as_bytes())
            .map_or(0, |(start, _)| start)
    };
    match error {
        RecordError::NotSpf => 0,
        RecordError::NonAscii => text.iter().position(|&b| b > 0x7f).unwrap_or(0),
        RecordError::ControlCharacter => text
            .iter()
            .position(|&b| b < 0x20 || b == 0x7f)
            .unwrap_or(0),
        RecordError::TooManyTerms { limit } => terms().nth(*limit).map_or(0, |(start, _)| start),
        RecordError::UnknownMechanism(term)
        | RecordError::UnexpectedArgument(term)
        | RecordError::MissingArgument(term)
        | RecordError::EmptyDomainSpec(term)
        | RecordError::InvalidDomainSpec(term)
        | RecordError::Macro { term, .. }
        | RecordError::InvalidCidr(term)
        | RecordError::InvalidIp4(term)
        | RecordError::InvalidIp6(term) => term_at(term),
        RecordError::DuplicateRedirect | RecordError::DuplicateExplanation => {
            let name: &[u8] = if *error == RecordError::DuplicateRedirect {
                b"redirect="
            } else {
                b"exp="
            };
            terms()
                .filter(|(_, term)| {
                    term.get(..name.len())
                        .is_some_and(|p| p.eq_ignore_ascii_case(name))
                })
                .nth(1)
                .map_or(0, |(start, _)| start)
        }
    }
}

impl Machine for Lint {
    type Output = LintReport;

    fn poll(&mut self) -> Poll<LintReport> {
        if let Some(report) = &self.done {
            return Poll::Done(report.clone());
        }
        if self.open().is_empty() {
            self.advance();
        }
        let open = self.open();
        if open.is_empty() {
            let report = self.finish();
            self.done = Some(report.clone());
            return Poll::Done(report);
        }
        Poll::Lookups(open)
    }

    fn supply(&mut self, query: &Query, answer: Answer) -> Result<(), UnexpectedAnswer> {
        self.answers.supply(query, answer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dns::ZoneResolver;

    fn name(text: &str) -> Name {
        Name::new(text).unwrap()
    }

    fn lint_with(zone: &str, domain: &str, config: &LintConfig) -> LintReport {
        let zone = ZoneResolver::from_zone_text(zone).unwrap();
        crate::resolve(Lint::new(&name(domain), config), &zone)
    }

    fn lint(zone: &str) -> LintReport {
        lint_with(zone, "example.org", &LintConfig::default())
    }

    fn kinds(report: &LintReport) -> Vec<&'static str> {
        report.problems.iter().map(Problem::kind).collect()
    }

    #[test]
    fn clean_record_with_a_tree() {
        let report = lint(
            "$ORIGIN example.org.\n\
             @ TXT \"v=spf1 a mx include:_spf.example.org -all\"\n\
             @ A 192.0.2.1\n\
             @ MX 10 mx\n\
             _spf TXT \"v=spf1 ip4:192.0.2.0/24 include:_deep.example.org -all\"\n\
             _deep TXT \"v=spf1 a:mx.example.org -all\"\n\
             mx AAAA 2001:db8::1\n",
        );
        assert!(report.is_clean(), "{:?}", report.problems);
        assert_eq!(report.dns_terms, 5);
        assert_eq!(report.void_lookups, 0);
        assert_eq!(report.nodes.len(), 3);
        assert_eq!(report.nodes[0].dns_terms, 3);
        assert_eq!(report.nodes[1].parent, Some(0));
        assert_eq!(report.nodes[2].domain, name("_deep.example.org"));
        assert_eq!(report.nodes[2].via, Via::Include);
        assert_eq!(report.nodes[0].terms[0].lookup, TermLookup::Found(1));
        assert_eq!(report.nodes[0].terms[2].lookup, TermLookup::Record(1));
        assert_eq!(report.nodes[2].terms[0].lookup, TermLookup::Found(1));
    }

    #[test]
    fn deep_tree_counts_every_level_and_exceeds_the_limit() {
        let mut zone =
            String::from("$ORIGIN example.org.\n@ TXT \"v=spf1 include:l1.example.org -all\"\n");
        for level in 1..12 {
            zone.push_str(&format!(
                "l{level} TXT \"v=spf1 include:l{}.example.org -all\"\n",
                level + 1
            ));
        }
        zone.push_str("l12 TXT \"v=spf1 ip4:192.0.2.1 -all\"\n");
        let report = lint(&zone);
        assert_eq!(report.nodes.len(), 13);
        assert_eq!(report.dns_terms, 12);
        // The evaluation agrees: a client that matches nothing meets the
        // limit.
        let input = super::super::Input::mail_from(
            "203.0.113.9".parse().unwrap(),
            "mx.example.net",
            "a@example.org",
        );
        let outcome = crate::resolve(
            super::super::Check::new(&input, &super::super::Config::default()),
            &ZoneResolver::from_zone_text(&zone).unwrap(),
        );
        assert_eq!(outcome.result, super::super::SpfResult::PermError);
        assert_eq!(
            report.problems,
            [Problem::TooManyDnsTerms {
                count: 12,
                limit: 10
            }]
        );
    }

    #[test]
    fn loops_are_reported_and_not_followed() {
        let report = lint(
            "$ORIGIN example.org.\n\
             @ TXT \"v=spf1 include:a.example.org -all\"\n\
             a TXT \"v=spf1 include:b.example.org -all\"\n\
             b TXT \"v=spf1 redirect=EXAMPLE.org\"\n",
        );
        assert_eq!(report.nodes.len(), 3);
        assert_eq!(
            report.problems,
            [Problem::Loop {
                domain: name("b.example.org"),
                target: name("example.org")
            }]
        );
        assert_eq!(report.nodes[2].terms[0].lookup, TermLookup::NotFollowed);
    }

    #[test]
    fn void_lookups_are_counted_against_the_limit() {
        let report = lint(
            "$ORIGIN example.org.\n\
             @ TXT \"v=spf1 a:gone1.example.org mx:gone2.example.org exists:gone3.example.org include:gone4.example.org -all\"\n",
        );
        assert_eq!(report.void_lookups, 3);
        assert_eq!(report.nodes[0].terms[0].lookup, TermLookup::Void);
        assert_eq!(
            kinds(&report),
            ["no-record", "too-many-void-lookups"],
            "{:?}",
            report.problems
        );
    }

    #[test]
    fn several_records_and_missing_records() {
        let report = lint(
            "$ORIGIN example.org.\n\
             @ TXT \"v=spf1 -all\"\n\
             @ TXT \"v=spf1 +all\"\n\
             @ TXT \"google-site-verification=x\"\n",
        );
        assert_eq!(
            report.problems,
            [Problem::MultipleRecords {
                domain: name("example.org"),
                count: 2
            }]
        );
        assert!(report.nodes[0].record.is_none());
        let report = lint("$ORIGIN example.org.\n@ TXT \"hello\"\n");
        assert_eq!(kinds(&report), ["no-record"]);
    }

    #[test]
    fn syntax_errors_give_the_offending_term_position() {
        let report =
            lint("$ORIGIN example.org.\n@ TXT \"v=spf1 ip4:192.0.2.0/24 ip4:300.1.1.1 -all\"\n");
        let [
            Problem::Syntax {
                error, position, ..
            },
        ] = &report.problems[..]
        else {
            panic!("{:?}", report.problems);
        };
        assert!(matches!(error, RecordError::InvalidIp4(_)));
        assert_eq!(*position, 24);
        let record = report.nodes[0].record.as_deref().unwrap();
        assert!(record[*position..].starts_with("ip4:300"));
        let report = lint(
            "$ORIGIN example.org.\n@ TXT \"v=spf1 redirect=a.example.org  redirect=b.example.org\"\n",
        );
        let [
            Problem::Syntax {
                error: RecordError::DuplicateRedirect,
                position,
                ..
            },
        ] = &report.problems[..]
        else {
            panic!("{:?}", report.problems);
        };
        let record = report.nodes[0].record.as_deref().unwrap();
        assert!(record[*position..].starts_with("redirect=b"), "{position}");
    }

    #[test]
    fn a_permerror_in_an_include_is_reported() {
        let report = lint(
            "$ORIGIN example.org.\n\
             @ TXT \"v=spf1 include:bad.example.org include:none.example.org -all\"\n\
             bad TXT \"v=spf1 foo:bar -all\"\n\
             none A 192.0.2.1\n",
        );
        assert_eq!(kinds(&report), ["syntax", "no-record"]);
        // A missing record is a permerror, not a void lookup.
        assert_eq!(report.void_lookups, 0);
    }

    #[test]
    fn discouraged_and_ignored_terms() {
        let report = lint(
            "$ORIGIN example.org.\n\
             @ TXT \"v=spf1 ptr include:inc.example.org ?all redirect=other.example.org\"\n\
             inc TXT \"v=spf1 ip4:192.0.2.1 exp=explain.example.org -all\"\n",
        );
        assert_eq!(
            kinds(&report),
            [
                "ptr",
                "permissive-all",
                "redirect-ignored",
                "explanation-ignored"
            ]
        );
        // The ignored redirect does not count: ptr and include do.
        assert_eq!(report.dns_terms, 2);
        assert_eq!(report.nodes.len(), 2);
    }

    #[test]
    fn too_many_mx_names() {
        let mut zone = String::from("$ORIGIN example.org.\n@ TXT \"v=spf1 mx -all\"\n");
        for i in 0..11 {
            zone.push_str(&format!("@ MX {i} mx{i}\n"));
        }
        let report = lint(&zone);
        assert_eq!(kinds(&report), ["too-many-mx-names"]);
    }

    #[test]
    fn macros_are_counted_but_not_looked_up() {
        let report = lint(
            "$ORIGIN example.org.\n@ TXT \"v=spf1 exists:%{i}.x.example.org include:%{d}.y.example.org -all\"\n",
        );
        assert!(report.is_clean());
        assert_eq!(report.dns_terms, 2);
        assert_eq!(report.queries, 1);
        assert!(
            report.nodes[0]
                .terms
                .iter()
                .take(2)
                .all(|t| t.lookup == TermLookup::DependsOnMessage)
        );
    }

    #[test]
    fn a_huge_fan_out_is_bounded() {
        // Each level includes the next one twice: 2^20 paths without bounds.
        let mut zone = String::from(
            "$ORIGIN example.org.\n@ TXT \"v=spf1 include:l1.example.org include:l1.example.org -all\"\n",
        );
        for level in 1..20 {
            zone.push_str(&format!(
                "l{level} TXT \"v=spf1 include:l{0}.example.org include:l{0}.example.org -all\"\n",
                level + 1
            ));
        }
        let report = lint(&zone);
        assert_eq!(report.nodes.len(), LintConfig::default().max_records);
        assert!(report.problems.contains(&Problem::LimitReached {
            limit: LintLimit::Records
        }));
        assert!(kinds(&report).contains(&"too-many-dns-terms"));
        let config = LintConfig {
            max_depth: 3,
            ..LintConfig::default()
        };
        let report = lint_with(&zone, "example.org", &config);
        assert!(report.problems.contains(&Problem::LimitReached {
            limit: LintLimit::Depth
        }));
        assert!(report.nodes.len() <= 1 + 2 + 4 + 8);
    }

    #[test]
    fn the_query_budget_is_kept() {
        let terms: Vec<String> = (0..50).map(|i| format!("a:h{i}.example.org")).collect();
        let mut zone = ZoneResolver::new();
        zone.add_txt(
            &name("example.org"),
            format!("v=spf1 {} -all", terms.join(" ")),
        );
        let config = LintConfig {
            max_queries: 9,
            ..LintConfig::default()
        };
        let report = crate::resolve(Lint::new(&name("example.org"), &config), &zone);
        assert!(report.queries <= 9);
        assert!(report.problems.contains(&Problem::LimitReached {
            limit: LintLimit::Queries
        }));
        assert_eq!(report.dns_terms, 50);
    }

    #[test]
    fn problems_are_bounded() {
        let terms: Vec<String> = (0..3000).map(|i| format!("include:x{i}..org")).collect();
        let mut zone = ZoneResolver::new();
        zone.add_txt(
            &name("example.org"),
            format!("v=spf1 {} -all", terms.join(" ")),
        );
        let report = crate::resolve(
            Lint::new(&name("example.org"), &LintConfig::default()),
            &zone,
        );
        assert_eq!(
            report.problems.len(),
            LintConfig::default().max_problems + 1
        );
        assert!(report.problems.contains(&Problem::LimitReached {
            limit: LintLimit::Problems
        }));
        assert_eq!(report.dns_terms, 3000);
    }

    struct Failing;

    impl crate::dns::Resolver for Failing {
        fn lookup_with_ttl(&self, _query: &Query) -> (Answer, Option<u32>) {
            (Answer::TempFail(Failure::Timeout), None)
        }
    }

    #[test]
    fn dns_failures_are_reported() {
        let report = crate::resolve(
            Lint::new(&name("example.org"), &LintConfig::default()),
            &Failing,
        );
        assert!(report.has_dns_failure());
        assert_eq!(report.nodes.len(), 1);
    }

    #[test]
    fn answers_not_asked_are_refused() {
        let mut lint = Lint::new(&name("example.org"), &LintConfig::default());
        let Poll::Lookups(queries) = lint.poll() else {
            panic!("queries expected");
        };
        assert_eq!(queries, [Query::txt(name("example.org"))]);
        assert!(
            lint.supply(&Query::txt(name("other.org")), Answer::NoData)
                .is_err()
        );
        lint.supply(&queries[0], Answer::NoData).unwrap();
        assert!(lint.supply(&queries[0], Answer::NoData).is_err());
        assert!(matches!(lint.poll(), Poll::Done(_)));
    }
}
