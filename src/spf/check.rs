//! `check_host()` (RFC 7208 §4) as a sans-IO machine.

use std::net::IpAddr;
use std::sync::Arc;

use smallvec::SmallVec;

use super::macros::{MacroString, Values, reverse_name};
use super::record::{DualCidr, Mechanism, Qualifier, Record, ip4_in, ip6_in, is_spf_record};
use super::{Config, Identity, Input, Limit, Outcome, Reason, SpfResult, VoidLookupCounting};
use crate::dns::{Answer, Name, Query, RecordType, Records};
use crate::machine::{Answers, Machine, Poll, Progress, UnexpectedAnswer};

/// An SPF check: `check_host()` for one identity, driven through
/// [`Machine`].
///
/// Build it with [`Check::new`], then call [`Machine::poll`] and answer the
/// queries it returns with [`Machine::supply`] (in any order) until it says
/// [`Poll::Done`]. The queries of one poll are independent (for instance
/// the address lookups of every MX host), so they may be resolved in
/// parallel.
///
/// Each poll evaluates as far as the answers at hand allow: one term at a
/// time, re-running a term from its start once the answers it was waiting
/// for arrive (its counters are committed only when it completes). A term
/// or explanation holding `%{p}` first asks for the client's PTR records,
/// then for the addresses of those names together, and expands once the
/// validated name is known; the answers are kept for the rest of the check.
///
/// The work is bounded by construction: at most
/// [`Config::max_dns_mechanisms`] terms query DNS (include and redirect
/// recursion included), each causing at most one query plus
/// [`Config::max_mx_names`] or [`Config::max_ptr_names`] address lookups;
/// records hold at most [`Config::max_terms`] terms.
#[derive(Debug, Clone)]
pub struct Check {
    config: Config,
    identity: Identity,
    client_ip: IpAddr,
    /// The client address used for matching (IPv4-mapped IPv6 turned into
    /// IPv4, §5 notes).
    ip: IpAddr,
    helo: String,
    /// `<local-part>@<domain>` as checked.
    sender: String,
    /// Where the domain starts in `sender`.
    domain_start: usize,
    /// The domain as `start` validated it, for the outcome to share.
    domain: Option<Name>,
    now: u64,
    /// The answers so far, shared rather than copied when a term reads one.
    answers: Answers,
    outstanding: Queries,
    wanted: Queries,
    stage: Stage,
    /// The record being evaluated and the records including it.
    frames: SmallVec<[Frame; 2]>,
    dns_terms: usize,
    void_lookups: usize,
    /// The result once decided; the [`Outcome`] is made of it and of the
    /// strings above when it is taken.
    done: Option<Decided>,
    /// What the last directive that ended in [`Eval::Error`] ended in.
    error: Option<Box<(SpfResult, Reason)>>,
}

/// What a finished check decided: the rest of its [`Outcome`] is the
/// input, which the check holds already.
#[derive(Debug, Clone)]
struct Decided {
    result: SpfResult,
    reason: Reason,
    explanation: Option<String>,
}

/// The queries one step waits for: most steps wait for one or two.
type Queries = SmallVec<[Query; 2]>;

#[derive(Debug, Clone)]
enum Stage {
    Start,
    Evaluating,
    /// The top-level result is fail: fetching the `exp=` text.
    Explaining {
        /// The record whose `exp=` gives the text; `None` for the default
        /// explanation.
        record: Option<Arc<Record>>,
        domain: Name,
        reason: Reason,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FrameKind {
    Top,
    Include,
}

#[derive(Debug, Clone)]
struct Frame {
    kind: FrameKind,
    domain: Name,
    /// Set when this frame continues a `redirect=`.
    redirected: bool,
    record: Option<Arc<Record>>,
    next: usize,
}

/// The result of one step of evaluation.
enum Step {
    /// Progress was made; step again.
    Continue,
    /// Answers are needed (listed in `wanted`).
    Blocked,
}

/// Why a frame ended, its reason built only when it is kept: an included
/// record's match is replaced by the including directive's.
enum Ending {
    /// The frame's current directive matched.
    Matched,
    Because(Reason),
}

/// What evaluating one directive gave.
enum Eval {
    Match,
    NoMatch,
    /// The result and reason are in [`Check::error`]: an `Eval` without
    /// fields goes back in a register, not through memory written field
    /// by field and read back at once (each directive's evaluation
    /// returns one).
    Error,
    /// An include frame was pushed, or the frame now follows its
    /// `redirect=`: evaluation goes on there.
    Descended,
}

/// The error of an evaluation that cannot go on until the queries it
/// registered in `Check::wanted` are answered; the step then ends as
/// [`Step::Blocked`].
#[derive(Debug)]
struct AwaitingAnswers;

impl Check {
    /// A check of `input` under `config`.
    pub fn new(input: &Input, config: &Config) -> Check {
        Check::from_input(input.clone(), config)
    }

    /// A check of `input` under `config`, keeping the input's strings
    /// rather than copying them.
    pub fn from_input(input: Input, config: &Config) -> Check {
        let ip = match input.ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
            v4 => v4,
        };
        let (local, domain) = input.sender_parts();
        let domain_start = local.len() + 1;
        // `<local-part>@<domain>` is the MAIL FROM address itself unless a
        // part was substituted (§4.3).
        let as_given = input.identity == super::Identity::MailFrom
            && input.mail_from.len() == domain_start + domain.len()
            && input.mail_from.get(..local.len()) == Some(local);
        let sender = if as_given {
            input.mail_from
        } else {
            let mut sender = String::with_capacity(local.len() + 1 + domain.len());
            sender.push_str(local);
            sender.push('@');
            sender.push_str(domain);
            sender
        };
        Check {
            config: config.clone(),
            identity: input.identity,
            client_ip: input.ip,
            ip,
            helo: input.helo,
            sender,
            domain_start,
            domain: None,
            now: input.now,
            answers: Answers::default(),
            outstanding: Queries::new(),
            wanted: Queries::new(),
            stage: Stage::Start,
            frames: SmallVec::new(),
            dns_terms: 0,
            void_lookups: 0,
            done: None,
            error: None,
        }
    }

    fn sender_local(&self) -> &str {
        self.sender
            .get(..self.domain_start.saturating_sub(1))
            .unwrap_or_default()
    }

    fn sender_domain(&self) -> &str {
        self.sender.get(self.domain_start..).unwrap_or_default()
    }

    fn finish(&mut self, result: SpfResult, reason: Reason, explanation: Option<String>) {
        self.done = Some(Decided {
            result,
            reason,
            explanation,
        });
    }

    /// The outcome of a finished check, made of what it decided and of its
    /// input; the check's strings are taken when `take` is set, copied
    /// otherwise.
    fn outcome(&mut self, decided: Decided, take: bool) -> Outcome {
        // The validated name is the domain as written unless a trailing
        // dot was left out of it.
        let domain = match &self.domain {
            Some(name) if name.as_str().len() == self.sender_domain().len() => name.to_smol_str(),
            _ => crate::SmolStr::new(self.sender_domain()),
        };
        let (helo, sender) = if take {
            (
                std::mem::take(&mut self.helo),
                std::mem::take(&mut self.sender),
            )
        } else {
            (self.helo.clone(), self.sender.clone())
        };
        Outcome {
            result: decided.result,
            identity: self.identity,
            client_ip: self.client_ip,
            helo,
            domain,
            sender,
            reason: decided.reason,
            explanation: decided.explanation,
        }
    }

    /// The answer to `query`, or `None` after registering it as wanted.
    fn answer(&mut self, query: Query) -> Option<Arc<Answer>> {
        let at = self.answer_index(&query)?;
        self.answers.at(at).cloned()
    }

    /// Whether `query` has an answer at hand, registering it as wanted
    /// when not.
    fn has_answer(&mut self, query: &Query) -> bool {
        self.answer_index(query).is_some()
    }

    /// Where the answer to `query` is kept in `self.answers` (read in
    /// place from there, found once), registering the query as wanted
    /// when it has none yet.
    fn answer_index(&mut self, query: &Query) -> Option<usize> {
        let at = self.answers.position(query);
        if at.is_none() && !self.wanted.contains(query) {
            self.wanted.push(query.clone());
        }
        at
    }

    /// The answer at `index` in `self.answers` (from
    /// [`answer_index`](Self::answer_index)).
    fn answer_at(&self, index: usize) -> Option<&Answer> {
        self.answers.at(index).map(|answer| &**answer)
    }

    fn values<'a>(&'a self, domain: &'a str, validated_name: &'a str) -> Values<'a> {
        Values {
            sender_local: self.sender_local(),
            sender_domain: self.sender_domain(),
            domain,
            ip: self.ip,
            helo: &self.helo,
            receiver: &self.config.receiver,
            timestamp: self.now,
            validated_name,
        }
    }

    fn address_query(&self, name: Name) -> Query {
        match self.ip {
            IpAddr::V4(_) => Query::new(name, RecordType::A),
            IpAddr::V6(_) => Query::new(name, RecordType::Aaaa),
        }
    }

    /// Whether an address answer holds an address within `cidr` of the
    /// client.
    fn answer_matches(&self, answer: &Answer, cidr: DualCidr) -> bool {
        match (answer, self.ip) {
            (Answer::Records(Records::A(addrs)), IpAddr::V4(ip)) => {
                addrs.iter().any(|a| ip4_in(*a, cidr.ip4, ip))
            }
            (Answer::Records(Records::Aaaa(addrs)), IpAddr::V6(ip)) => {
                addrs.iter().any(|a| ip6_in(*a, cidr.ip6, ip))
            }
            _ => false,
        }
    }

    /// The validated names of the client (§5.5): the first
    /// [`Config::max_ptr_names`] PTR names whose addresses include the
    /// client. DNS errors make a name (or the whole list) count as not
    /// validated. `filter` keeps only the names worth validating.
    fn validated_names(&mut self, filter: Option<&Name>) -> Result<Vec<Name>, AwaitingAnswers> {
        let Ok(reverse) = Name::new(&reverse_name(self.ip)) else {
            return Ok(Vec::new());
        };
        let Some(answer) = self.answer(Query::new(reverse, RecordType::Ptr)) else {
            return Err(AwaitingAnswers);
        };
        let Answer::Records(Records::Ptr(names)) = &*answer else {
            return Ok(Vec::new());
        };
        // The root names no host: nothing to look up (and never a query).
        let candidates: Vec<Name> = names
            .iter()
            .take(self.config.max_ptr_names)
            .filter(|n| !n.is_root() && filter.is_none_or(|d| n.is_subdomain_of(d)))
            .cloned()
            .collect();
        let mut blocked = false;
        let mut validated = Vec::new();
        for name in candidates {
            let query = self.address_query(name.clone());
            match self.answer(query) {
                None => blocked = true,
                Some(answer) => {
                    if self.answer_matches(&answer, DualCidr::default()) {
                        validated.push(name);
                    }
                }
            }
        }
        if blocked {
            Err(AwaitingAnswers)
        } else {
            Ok(validated)
        }
    }

    /// The `%{p}` value for `domain` (§7.3): a validated name equal to the
    /// domain, else one below it, else any, else `unknown`.
    fn p_value(&mut self, domain: &str) -> Result<String, AwaitingAnswers> {
        let names = self.validated_names(None)?;
        let target = Name::new(domain).ok();
        let pick = target
            .as_ref()
            .and_then(|t| names.iter().find(|n| *n == t))
            .or_else(|| {
                target
                    .as_ref()
                    .and_then(|t| names.iter().find(|n| n.is_subdomain_of(t)))
            })
            .or_else(|| names.first());
        Ok(pick.map_or_else(|| "unknown".to_owned(), |n| n.as_str().to_owned()))
    }

    /// Expands a domain-spec for the current `domain`.
    fn expand_domain(
        &mut self,
        spec: &MacroString,
        domain: &str,
    ) -> Result<String, AwaitingAnswers> {
        let p = if spec.needs_validated_name() {
            self.p_value(domain)?
        } else {
            String::new()
        };
        Ok(spec.expand_domain(&self.values(domain, &p)))
    }

    /// The name a domain-spec expands to for the current `domain`, or the
    /// expansion when it is not a valid name. A macro-free spec was
    /// validated when its record was parsed: nothing is built then.
    fn expand_name(
        &mut self,
        spec: &MacroString,
        domain: &Name,
    ) -> Result<Result<Name, String>, AwaitingAnswers> {
        if let Some(name) = spec.literal_name() {
            return Ok(Ok(name.clone()));
        }
        let expanded = self.expand_domain(spec, domain.as_str())?;
        Ok(Name::new(&expanded).map_err(|_| expanded))
    }

    fn step(&mut self) -> Step {
        match &self.stage {
            Stage::Start => {
                self.start();
                Step::Continue
            }
            Stage::Evaluating => self.evaluate(),
            Stage::Explaining { .. } => self.explain(),
        }
    }

    /// §4.3: the domain must be a valid FQDN, else the result is none.
    fn start(&mut self) {
        let domain = match Name::new(self.sender_domain()) {
            Ok(name)
                if name.label_count() >= 2
                    && name.top_label().is_some_and(super::record::is_toplabel) =>
            {
                name
            }
            _ => return self.finish(SpfResult::None, Reason::InvalidDomain, None),
        };
        self.domain = Some(domain.clone());
        self.frames.push(Frame {
            kind: FrameKind::Top,
            domain,
            redirected: false,
            record: None,
            next: 0,
        });
        self.stage = Stage::Evaluating;
    }

    fn evaluate(&mut self) -> Step {
        let depth = self.frames.len();
        let Some(frame) = self.frames.last_mut() else {
            // The stage leaves Evaluating when the last frame ends, so
            // there is always a frame here; end as none if not.
            self.finish(SpfResult::None, Reason::InvalidDomain, None);
            return Step::Continue;
        };
        let domain = frame.domain.clone();
        // The record leaves its frame while the frame's directives are
        // evaluated (nothing reads a frame's own record meanwhile: an
        // include pushes a frame above it, and frames end only below) and
        // goes back before the frame can end: moved, not shared, so no
        // reference count is touched per step.
        let Some(record) = frame.record.take() else {
            return self.fetch_record(domain);
        };
        // The directives that do not match are passed over here, in one
        // step (the frame stays the same).
        let mut next = frame.next;
        let mut evaluated = None;
        while let Some(directive) = record.directives.get(next) {
            match self.directive(&directive.mechanism, &domain) {
                Ok(Eval::NoMatch) => next += 1,
                other => {
                    evaluated = Some((other, directive.qualifier));
                    break;
                }
            }
        }
        // Only a record whose directives all failed to match goes on to
        // its redirect, which needs the record beside the check.
        let redirecting = match evaluated {
            None => record.redirect.is_some().then(|| Arc::clone(&record)),
            Some(_) => None,
        };
        if let Some(frame) = self.frames.get_mut(depth - 1) {
            frame.record = Some(record);
            frame.next = next;
        }
        if let Some((evaluated, qualifier)) = evaluated {
            return match evaluated {
                Err(AwaitingAnswers) => Step::Blocked,
                Ok(Eval::Descended | Eval::NoMatch) => Step::Continue,
                Ok(Eval::Match) => {
                    self.frame_result(qualifier_result(qualifier), Ending::Matched);
                    Step::Continue
                }
                Ok(Eval::Error) => {
                    self.frame_error();
                    Step::Continue
                }
            };
        }
        // No directive matched: redirect (§6.1) or the default neutral.
        let Some(redirect) = redirecting.as_ref().and_then(|r| r.redirect.as_ref()) else {
            self.frame_result(
                SpfResult::Neutral,
                Ending::Because(Reason::NoMatch {
                    domain: domain.clone(),
                }),
            );
            return Step::Continue;
        };
        let Ok(target) = self.expand_name(redirect, &domain) else {
            return Step::Blocked;
        };
        let followed = self.dns_term(|this| {
            Ok(match target {
                Ok(name) => {
                    if let Some(frame) = this.frames.last_mut() {
                        frame.domain = name;
                        frame.record = None;
                        frame.next = 0;
                        frame.redirected = true;
                    }
                    Eval::Descended
                }
                Err(target) => this.error(
                    SpfResult::PermError,
                    Reason::InvalidTarget {
                        term: format!("redirect={redirect}"),
                        target,
                    },
                ),
            })
        });
        if let Ok(Eval::Error) = followed {
            self.frame_error();
        }
        Step::Continue
    }

    /// §4.4 / §4.5: fetch and select the record of the frame's domain.
    fn fetch_record(&mut self, domain: Name) -> Step {
        let query = Query::txt(domain);
        let Some(at) = self.answer_index(&query) else {
            return Step::Blocked;
        };
        // Read in place: the answer is not taken out of the check.
        let fetched = match self.answer_at(at) {
            Some(Answer::Records(Records::Txt(txts))) => select_record(txts, &self.config),
            Some(Answer::TempFail(failure) | Answer::PermFail(failure)) => {
                Fetched::DnsFailure(*failure)
            }
            _ => Fetched::NoRecord,
        };
        let (result, reason) = match fetched {
            Fetched::Record(record) => {
                if let Some(frame) = self.frames.last_mut() {
                    frame.record = Some(record);
                }
                return Step::Continue;
            }
            Fetched::DnsFailure(failure) => {
                (SpfResult::TempError, Reason::DnsFailure { query, failure })
            }
            Fetched::NoRecord => (
                SpfResult::None,
                Reason::NoRecord {
                    domain: query.name.clone(),
                },
            ),
            Fetched::Multiple => (
                SpfResult::PermError,
                Reason::MultipleRecords {
                    domain: query.name.clone(),
                },
            ),
            Fetched::Invalid(error) => (
                SpfResult::PermError,
                Reason::Syntax {
                    domain: query.name.clone(),
                    error,
                },
            ),
        };
        self.frame_result(result, Ending::Because(reason));
        Step::Continue
    }

    /// Runs a term that queries DNS (§4.6.4): a mechanism other than
    /// `all`, `ip4` and `ip6`, or the `redirect=` modifier. The one place
    /// where such terms are counted: past [`Config::max_dns_mechanisms`]
    /// the term is refused before it starts, and it is counted once it
    /// completes, never when it waits for answers, so re-running a term
    /// that waited counts it once.
    /// A directive's evaluation ended in error: kept for the frame.
    fn error(&mut self, result: SpfResult, reason: Reason) -> Eval {
        self.error = Some(Box::new((result, reason)));
        Eval::Error
    }

    /// A DNS failure ended a directive's evaluation.
    fn dns_error(&mut self, query: Query, failure: crate::dns::Failure) -> Eval {
        self.error(SpfResult::TempError, Reason::DnsFailure { query, failure })
    }

    /// Ends the frame with the error its directive ended in.
    fn frame_error(&mut self) {
        let (result, reason) = match self.error.take() {
            Some(error) => *error,
            None => (SpfResult::TempError, Reason::InvalidDomain),
        };
        self.frame_result(result, Ending::Because(reason));
    }

    fn dns_term(
        &mut self,
        term: impl FnOnce(&mut Check) -> Result<Eval, AwaitingAnswers>,
    ) -> Result<Eval, AwaitingAnswers> {
        if self.dns_terms >= self.config.max_dns_mechanisms {
            return Ok(self.error(
                SpfResult::PermError,
                Reason::LimitExceeded(Limit::DnsMechanisms),
            ));
        }
        let eval = term(self)?;
        self.dns_terms += 1;
        Ok(eval)
    }

    /// Counts a void lookup (§4.6.4).
    fn count_void(&mut self) -> Result<(), Reason> {
        self.void_lookups += 1;
        if self.void_lookups > self.config.max_void_lookups {
            return Err(Reason::LimitExceeded(Limit::VoidLookups));
        }
        Ok(())
    }

    /// Evaluates one mechanism. Counters change only when the evaluation
    /// completes (never on `Err(AwaitingAnswers)`), so re-running a step
    /// that waited is harmless.
    fn directive(&mut self, mechanism: &Mechanism, domain: &Name) -> Result<Eval, AwaitingAnswers> {
        if mechanism.queries_dns() {
            self.dns_term(|this| this.mechanism(mechanism, domain))
        } else {
            self.mechanism(mechanism, domain)
        }
    }

    /// The target of a mechanism: its expanded domain-spec, or the current
    /// `domain` when it has none; `None` when the expansion is not a valid
    /// name (the mechanism then does not match).
    fn target(
        &mut self,
        spec: Option<&MacroString>,
        domain: &Name,
    ) -> Result<Option<Name>, AwaitingAnswers> {
        match spec {
            None => Ok(Some(domain.clone())),
            Some(spec) => Ok(self.expand_name(spec, domain)?.ok()),
        }
    }

    /// Evaluates one mechanism, uncounted: [`Check::directive`] counts the
    /// ones that query DNS.
    fn mechanism(&mut self, mechanism: &Mechanism, domain: &Name) -> Result<Eval, AwaitingAnswers> {
        Ok(match mechanism {
            Mechanism::All => Eval::Match,
            Mechanism::Ip4 {
                network,
                prefix_len,
            } => match self.ip {
                IpAddr::V4(ip) if ip4_in(*network, *prefix_len, ip) => Eval::Match,
                _ => Eval::NoMatch,
            },
            Mechanism::Ip6 {
                network,
                prefix_len,
            } => match self.ip {
                IpAddr::V6(ip) if ip6_in(*network, *prefix_len, ip) => Eval::Match,
                _ => Eval::NoMatch,
            },
            Mechanism::Include { domain: spec } => match self.expand_name(spec, domain)? {
                Ok(name) => {
                    self.frames.push(Frame {
                        kind: FrameKind::Include,
                        domain: name,
                        redirected: false,
                        record: None,
                        next: 0,
                    });
                    Eval::Descended
                }
                Err(target) => self.error(
                    SpfResult::PermError,
                    Reason::InvalidTarget {
                        term: format!("include:{spec}"),
                        target,
                    },
                ),
            },
            Mechanism::A { domain: spec, cidr } => {
                let Some(name) = self.target(spec.as_ref(), domain)? else {
                    return Ok(Eval::NoMatch);
                };
                let query = self.address_query(name);
                let Some(at) = self.answer_index(&query) else {
                    return Err(AwaitingAnswers);
                };
                match self.address_found(self.answer_at(at), *cidr) {
                    Found::Match => Eval::Match,
                    Found::NoMatch => Eval::NoMatch,
                    Found::Void => self.void_eval(),
                    Found::Failure(failure) => self.dns_error(query, failure),
                }
            }
            Mechanism::Exists { domain: spec } => {
                let Some(name) = self.target(Some(spec), domain)? else {
                    return Ok(Eval::NoMatch);
                };
                // Always an A query, whatever the client's family (§5.7).
                let query = Query::new(name, RecordType::A);
                let Some(at) = self.answer_index(&query) else {
                    return Err(AwaitingAnswers);
                };
                match self.answer_at(at) {
                    Some(Answer::Records(_)) => Eval::Match,
                    Some(Answer::TempFail(failure) | Answer::PermFail(failure)) => {
                        self.dns_error(query, *failure)
                    }
                    Some(Answer::NxDomain | Answer::NoData) => self.void_eval(),
                    // Not reached: the answer is at hand.
                    None => Eval::NoMatch,
                }
            }
            Mechanism::Mx { domain: spec, cidr } => {
                let Some(name) = self.target(spec.as_ref(), domain)? else {
                    return Ok(Eval::NoMatch);
                };
                let query = Query::new(name, RecordType::Mx);
                let answer = self.answer(query.clone()).ok_or(AwaitingAnswers)?;
                match &*answer {
                    Answer::Records(Records::Mx(mxs)) => {
                        if mxs.len() > self.config.max_mx_names {
                            self.error(SpfResult::PermError, Reason::LimitExceeded(Limit::MxNames))
                        } else {
                            self.mx_eval(mxs, *cidr)?
                        }
                    }
                    Answer::TempFail(failure) | Answer::PermFail(failure) => {
                        self.dns_error(query, *failure)
                    }
                    _ => self.void_eval(),
                }
            }
            Mechanism::Ptr { domain: spec } => {
                let Some(name) = self.target(spec.as_ref(), domain)? else {
                    return Ok(Eval::NoMatch);
                };
                let validated = if self.per_lookup_voids() {
                    // pyspf validates every PTR name, then compares.
                    let all = self.validated_names(None)?;
                    if let Err(reason) = self.count_ptr_address_voids() {
                        return Ok(self.error(SpfResult::PermError, reason));
                    }
                    all.into_iter()
                        .filter(|n| n.is_subdomain_of(&name))
                        .collect()
                } else {
                    self.validated_names(Some(&name))?
                };
                if validated.is_empty() {
                    // A void PTR answer counts as a void lookup.
                    let reverse = Name::new(&reverse_name(self.ip)).ok();
                    let void = reverse
                        .and_then(|r| self.answers.get(&Query::new(r, RecordType::Ptr)))
                        .is_some_and(|answer| answer.is_void());
                    if void {
                        self.void_eval()
                    } else {
                        Eval::NoMatch
                    }
                } else {
                    Eval::Match
                }
            }
        })
    }

    fn void_eval(&mut self) -> Eval {
        match self.count_void() {
            Ok(()) => Eval::NoMatch,
            Err(reason) => self.error(SpfResult::PermError, reason),
        }
    }

    /// What the answer to an address query says of the client within
    /// `cidr`.
    fn address_found(&self, answer: Option<&Answer>, cidr: DualCidr) -> Found {
        match answer {
            Some(answer @ Answer::Records(_)) => {
                if self.answer_matches(answer, cidr) {
                    Found::Match
                } else {
                    Found::NoMatch
                }
            }
            Some(Answer::NxDomain | Answer::NoData) => Found::Void,
            Some(Answer::TempFail(failure) | Answer::PermFail(failure)) => Found::Failure(*failure),
            None => Found::NoMatch,
        }
    }

    /// Whether every void address lookup counts
    /// ([`VoidLookupCounting::PerLookup`]).
    fn per_lookup_voids(&self) -> bool {
        self.config.void_lookup_counting == VoidLookupCounting::PerLookup
    }

    /// Under [`VoidLookupCounting::PerLookup`], counts a void for each PTR
    /// name (of the first [`Config::max_ptr_names`]) whose address lookup
    /// is empty. The answers are all at hand: `validated_names` asked them.
    fn count_ptr_address_voids(&mut self) -> Result<(), Reason> {
        let Ok(reverse) = Name::new(&reverse_name(self.ip)) else {
            return Ok(());
        };
        let Some(Answer::Records(Records::Ptr(names))) = self
            .answers
            .get(&Query::new(reverse, RecordType::Ptr))
            .map(|answer| &**answer)
        else {
            return Ok(());
        };
        let voids = names
            .iter()
            .take(self.config.max_ptr_names)
            .filter(|n| !n.is_root())
            .filter(|n| {
                self.answers
                    .get(&self.address_query((*n).clone()))
                    .is_some_and(|answer| answer.is_void())
            })
            .count();
        for _ in 0..voids {
            self.count_void()?;
        }
        Ok(())
    }

    /// The address lookups of every MX host, asked together. A null MX
    /// (RFC 7505 §3) names no host: it asks nothing and matches nothing.
    fn mx_eval(&mut self, mxs: &[crate::dns::Mx], cidr: DualCidr) -> Result<Eval, AwaitingAnswers> {
        let hosts = || mxs.iter().filter(|mx| !mx.is_null());
        let mut blocked = false;
        for mx in hosts() {
            let query = self.address_query(mx.exchange.clone());
            if !self.has_answer(&query) {
                blocked = true;
            }
        }
        if blocked {
            return Err(AwaitingAnswers);
        }
        if self.per_lookup_voids() {
            // pyspf looks up every host in preference order, failing on the
            // first DNS error or on one void too many, then compares.
            let mut by_preference: Vec<&crate::dns::Mx> = hosts().collect();
            by_preference.sort_by_key(|mx| mx.preference);
            for mx in by_preference {
                let query = self.address_query(mx.exchange.clone());
                let Some(answer) = self.answers.get(&query).cloned() else {
                    continue;
                };
                match &*answer {
                    Answer::TempFail(failure) | Answer::PermFail(failure) => {
                        return Ok(self.dns_error(query, *failure));
                    }
                    answer if answer.is_void() => {
                        if let Err(reason) = self.count_void() {
                            return Ok(self.error(SpfResult::PermError, reason));
                        }
                    }
                    _ => {}
                }
            }
        }
        for mx in hosts() {
            let query = self.address_query(mx.exchange.clone());
            match self.answers.get(&query).map(|answer| &**answer) {
                Some(Answer::TempFail(failure) | Answer::PermFail(failure)) => {
                    return Ok(self.dns_error(query, *failure));
                }
                Some(answer) if self.answer_matches(answer, cidr) => return Ok(Eval::Match),
                _ => {}
            }
        }
        Ok(Eval::NoMatch)
    }

    /// Ends the innermost frame with `result`, handing it to the including
    /// frame or, at the top, finishing the check.
    fn frame_result(&mut self, result: SpfResult, ending: Ending) {
        let Some(frame) = self.frames.pop() else {
            return;
        };
        let reason = |ending: Ending, frame: &Frame| match ending {
            Ending::Because(reason) => reason,
            Ending::Matched => Reason::Matched {
                mechanism: frame
                    .record
                    .as_ref()
                    .and_then(|r| r.directives.get(frame.next))
                    .map_or_else(|| "".into(), |d| Arc::clone(d.shared_text())),
                domain: frame.domain.clone(),
            },
        };
        let Some(parent) = self.frames.last_mut() else {
            // The top-level frame.
            let reason = reason(ending, &frame);
            let (result, reason) = match (result, &reason) {
                // A redirect target without a record is a permerror (§6.1).
                (SpfResult::None, Reason::NoRecord { domain }) if frame.redirected => (
                    SpfResult::PermError,
                    Reason::RedirectNoRecord {
                        domain: domain.clone(),
                    },
                ),
                _ => (result, reason),
            };
            if result == SpfResult::Fail {
                let record = frame.record.filter(|r| r.explanation.is_some());
                self.stage = Stage::Explaining {
                    record,
                    domain: frame.domain,
                    reason,
                };
            } else {
                self.finish(result, reason, None);
            }
            return;
        };
        debug_assert_eq!(frame.kind, FrameKind::Include);
        // §5.2: how an included result maps into the including record.
        match result {
            SpfResult::Pass => {
                let qualifier = parent
                    .record
                    .as_ref()
                    .and_then(|r| r.directives.get(parent.next))
                    .map_or(Qualifier::Pass, |d| d.qualifier);
                self.frame_result(qualifier_result(qualifier), Ending::Matched);
            }
            SpfResult::Fail | SpfResult::SoftFail | SpfResult::Neutral => parent.next += 1,
            SpfResult::TempError | SpfResult::PermError => {
                let reason = reason(ending, &frame);
                self.frame_result(result, Ending::Because(reason));
            }
            SpfResult::None => {
                let reason = match reason(ending, &frame) {
                    Reason::NoRecord { domain } if frame.redirected => {
                        Reason::RedirectNoRecord { domain }
                    }
                    Reason::NoRecord { domain } => Reason::IncludeNoRecord { domain },
                    other => other,
                };
                self.frame_result(SpfResult::PermError, Ending::Because(reason));
            }
        }
    }

    /// §6.2: the explanation of a fail.
    fn explain(&mut self) -> Step {
        let Stage::Explaining { record, domain, .. } = &self.stage else {
            return Step::Continue;
        };
        let (record, domain) = (record.clone(), domain.clone());
        let text = match record.as_ref().and_then(|r| r.explanation.as_ref()) {
            None => None,
            Some(spec) => match self.explanation_from(spec, &domain) {
                Err(AwaitingAnswers) => return Step::Blocked,
                Ok(text) => text,
            },
        };
        let text = match text {
            Some(text) => text,
            None => match self.default_explanation(domain.as_str()) {
                Err(AwaitingAnswers) => return Step::Blocked,
                Ok(text) => text,
            },
        };
        let Stage::Explaining { reason, .. } = std::mem::replace(&mut self.stage, Stage::Start)
        else {
            return Step::Continue;
        };
        self.finish(SpfResult::Fail, reason, Some(text));
        Step::Continue
    }

    /// The `exp=` text, or `None` when anything about it fails (the
    /// default explanation is then used; §6.2).
    fn explanation_from(
        &mut self,
        spec: &MacroString,
        domain: &Name,
    ) -> Result<Option<String>, AwaitingAnswers> {
        let Ok(name) = self.expand_name(spec, domain)? else {
            return Ok(None);
        };
        let Some(answer) = self.answer(Query::txt(name)) else {
            return Err(AwaitingAnswers);
        };
        let Some([txt]) = answer.txt() else {
            return Ok(None);
        };
        let Ok(text) = std::str::from_utf8(&txt.joined_bytes()).map(str::to_owned) else {
            return Ok(None);
        };
        if !text.is_ascii() {
            return Ok(None);
        }
        self.expand_explanation(&text, domain.as_str())
    }

    fn expand_explanation(
        &mut self,
        text: &str,
        domain: &str,
    ) -> Result<Option<String>, AwaitingAnswers> {
        let Ok(parsed) = MacroString::parse(text, super::macros::Context::Explanation) else {
            return Ok(None);
        };
        self.expand_parsed_explanation(&parsed, domain).map(Some)
    }

    fn expand_parsed_explanation(
        &mut self,
        parsed: &MacroString,
        domain: &str,
    ) -> Result<String, AwaitingAnswers> {
        let p = if parsed.needs_validated_name() {
            self.p_value(domain)?
        } else {
            String::new()
        };
        let values = self.values(domain, &p);
        Ok(parsed.expand_explanation(&values, self.config.max_explanation_len))
    }

    fn default_explanation(&mut self, domain: &str) -> Result<String, AwaitingAnswers> {
        // The built-in text is parsed once for the process.
        static BUILT_IN: std::sync::LazyLock<Option<MacroString>> =
            std::sync::LazyLock::new(|| {
                MacroString::parse(
                    super::DEFAULT_EXPLANATION,
                    super::macros::Context::Explanation,
                )
                .ok()
            });
        if *self.config.default_explanation == *super::DEFAULT_EXPLANATION
            && let Some(parsed) = BUILT_IN.as_ref()
        {
            return self.expand_parsed_explanation(parsed, domain);
        }
        let text = self.config.default_explanation.clone();
        Ok(self
            .expand_explanation(&text, domain)?
            .unwrap_or_else(|| text.to_string()))
    }
}

/// What an address answer says of the client.
enum Found {
    Match,
    NoMatch,
    /// NXDOMAIN or no data.
    Void,
    Failure(crate::dns::Failure),
}

/// What a domain's TXT records gave as its SPF record (§4.5).
enum Fetched {
    Record(Arc<Record>),
    NoRecord,
    Multiple,
    Invalid(super::RecordError),
    DnsFailure(crate::dns::Failure),
}

/// The one SPF record among `txts`, parsed (from the record cache when
/// it holds it).
fn select_record(txts: &[crate::dns::Txt], config: &Config) -> Fetched {
    let mut spf = txts
        .iter()
        .map(crate::dns::Txt::joined_bytes)
        .filter(|t| is_spf_record(t));
    let text = match (spf.next(), spf.next()) {
        (None, _) => return Fetched::NoRecord,
        (Some(text), None) => text,
        (Some(_), Some(_)) => return Fetched::Multiple,
    };
    let max_terms = config.max_terms;
    let parse = |text: &[u8]| Record::parse(text, max_terms);
    let parsed = match &config.record_cache {
        Some(cache) => cache.get_or_parse(max_terms as u64, &text, parse),
        None => parse(&text).map(Arc::new),
    };
    match parsed {
        Ok(record) => Fetched::Record(record),
        Err(error) => Fetched::Invalid(error),
    }
}

fn qualifier_result(qualifier: Qualifier) -> SpfResult {
    match qualifier {
        Qualifier::Pass => SpfResult::Pass,
        Qualifier::Fail => SpfResult::Fail,
        Qualifier::SoftFail => SpfResult::SoftFail,
        Qualifier::Neutral => SpfResult::Neutral,
    }
}

impl Check {
    /// Goes on until the check is done (`false`) or needs answers (`true`,
    /// the queries added to `queries`).
    fn run(&mut self, queries: &mut Vec<Query>) -> bool {
        while self.done.is_none() {
            if !self.outstanding.is_empty() {
                let unanswered = |query: &&Query| !self.answers.contains_key(query);
                let count = self.outstanding.iter().filter(unanswered).count();
                if count == self.outstanding.len() {
                    // Asked for the first time, as usual: copied at once,
                    // each query written where it goes (pushed one by one,
                    // each would be built aside and then copied, a copy
                    // that waits for the writes just made).
                    queries.extend_from_slice(&self.outstanding);
                    return true;
                }
                if count > 0 {
                    queries.extend(self.outstanding.iter().filter(unanswered).cloned());
                    return true;
                }
            }
            self.outstanding.clear();
            self.wanted.clear();
            match self.step() {
                Step::Continue => {}
                Step::Blocked => {
                    // Swapped, not moved: both keep their buffers.
                    std::mem::swap(&mut self.outstanding, &mut self.wanted);
                    if self.outstanding.is_empty() {
                        // A step that blocks always wants something; guard
                        // against looping forever regardless.
                        self.finish(SpfResult::TempError, Reason::InvalidDomain, None);
                    }
                }
            }
        }
        false
    }

    fn take_answer(&mut self, query: &Query, answer: Arc<Answer>) -> Result<(), UnexpectedAnswer> {
        if self.outstanding.contains(query) && !self.answers.contains_key(query) {
            self.answers.push(query.clone(), answer);
            Ok(())
        } else {
            Err(UnexpectedAnswer {
                query: query.clone(),
            })
        }
    }
}

impl Machine for Check {
    type Output = Outcome;

    fn poll(&mut self) -> Poll<Outcome> {
        let mut queries = Vec::new();
        loop {
            if let Some(decided) = self.done.clone() {
                return Poll::Done(self.outcome(decided, false));
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

    fn into_output(mut self) -> Result<Outcome, Check> {
        match self.done.take() {
            Some(decided) => Ok(self.outcome(decided, true)),
            None => Err(self),
        }
    }

    fn into_output_boxed(mut self: Box<Check>) -> Result<Outcome, Box<Check>> {
        match self.done.take() {
            Some(decided) => Ok(self.outcome(decided, true)),
            None => Err(self),
        }
    }

    fn take_output(&mut self) -> Option<Outcome> {
        let decided = self.done.take()?;
        Some(self.outcome(decided, true))
    }

    fn supply(&mut self, query: &Query, answer: Answer) -> Result<(), UnexpectedAnswer> {
        self.take_answer(query, Arc::new(answer))
    }

    fn supply_shared(
        &mut self,
        query: &Query,
        answer: Arc<Answer>,
    ) -> Result<(), UnexpectedAnswer> {
        self.take_answer(query, answer)
    }
}
