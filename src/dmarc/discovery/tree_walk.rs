//! [`Mode::Rfc9989`](crate::dmarc::Mode::Rfc9989): policy discovery and
//! Organizational Domains by the DNS Tree Walk.
//!
//! The walk (RFC 9989 "DNS Tree Walk"): for a starting domain of `x`
//! labels it queries `_dmarc.<domain>`, then, if `x >= 8`, jumps to the
//! name made of the last 7 labels, otherwise to the parent, and goes on one
//! label at a time up to the top-level label: never more than
//! [`Config::max_tree_walk_queries`] (8) queries. It stops early at a
//! record with `psd=y` or `psd=n`.
//!
//! The policy record (RFC 9989 "DMARC Policy Discovery") is the Author
//! Domain's own if it has one, otherwise the one of its Organizational
//! Domain, otherwise the one of its Public Suffix Domain. The
//! Organizational Domain (RFC 9989 "Identifier Alignment Evaluation") is
//! chosen among the names of the walk that have a record, from the longest:
//! one with `psd=n`; the name one label below one with `psd=y` (other than
//! the starting name); otherwise the one with the fewest labels; without
//! any record, the starting domain itself. The Author Domain and each
//! identifier get a walk of their own; the walks share their queries.
//!
//! When the policy could be `np` (a record found above the Author Domain,
//! with an `np` tag, and the Author Domain is not itself the
//! Organizational Domain), the walk asks whether the Author Domain exists
//! (RFC 9989 "Non-existent Domains").

use std::sync::Arc;

use smallvec::SmallVec;

use super::{Answers, DnsFailure, Level, OrgDomain, PolicyLookup, PolicyStatus};
use crate::dmarc::record::{PublicSuffixFlag, Record};
use crate::dmarc::{Config, RecordCache};
use crate::dns::Name;

/// The names a tree walk from `start` queries (without `_dmarc`), longest
/// first: `start`, then the last `min(x - 1, max - 1)` labels, then one
/// label fewer each time (RFC 9989 "DNS Tree Walk").
pub fn tree_walk_names(start: &Name, max_queries: usize) -> Vec<Name> {
    let mut names = Vec::new();
    walk_names(start, max_queries, |_| None, |name| names.push(name));
    names
}

/// [`tree_walk_names`], each given to `each`, taking a name from `known`
/// (shared, not built again) when it knows the text.
fn walk_names(
    start: &Name,
    max_queries: usize,
    known: impl Fn(&str) -> Option<Name>,
    mut each: impl FnMut(Name),
) {
    let max_queries = max_queries.max(1);
    let text = start.as_str();
    let total = text.bytes().filter(|&b| b == b'.').count() + 1;
    let first = (total - 1).min(max_queries - 1);
    each(start.clone());
    for keep in (1..=first).rev() {
        let Some(suffix) = last_labels_text(text, keep) else {
            continue;
        };
        if let Some(name) = known(suffix).or_else(|| Name::new(suffix).ok()) {
            each(name);
        }
    }
}

/// The text of the last `count` labels of `text`.
fn last_labels_text(text: &str, count: usize) -> Option<&str> {
    if count == 0 {
        return None;
    }
    let mut dots = text.rmatch_indices('.').map(|(at, _)| at);
    match dots.nth(count - 1) {
        Some(at) => text.get(at + 1..),
        None => (text.split('.').count() == count).then_some(text),
    }
}

/// The last `count` labels of `name`.
fn last_labels(name: &Name, count: usize) -> Option<Name> {
    Name::new(last_labels_text(name.as_str(), count)?).ok()
}

/// The records met on a walk, held inline.
type Hits<'a> = SmallVec<[Hit<'a>; 4]>;

/// A record met on a walk.
#[derive(Debug, Clone, Copy)]
struct Hit<'a> {
    /// Its place in the walk (0: the starting domain).
    index: usize,
    /// Where it was found (without `_dmarc`).
    domain: &'a Name,
    record: &'a Arc<Record>,
}

/// The levels of one walk: most walks have a few, held inline.
type Levels = SmallVec<[Level; 4]>;

/// The walks built so far, by starting domain (lower case) and
/// [`Config::max_tree_walk_queries`]: the names of a walk depend on nothing
/// else, and mail keeps coming from the same domains. Kept beside the
/// policy records of [`Config::record_cache`], of the same bound.
type WalkCache = crate::cache::RecordCache<Levels>;

/// The walk from one domain, longest name first.
#[derive(Debug, Clone)]
struct Walk {
    levels: Arc<Levels>,
}

impl Walk {
    /// The walk from `start`, sharing the levels of the walks before it
    /// where they meet (most walks end in the same few names).
    /// Taken from `cache` when it holds the walk from `start`.
    fn new(start: &Name, max_queries: usize, before: &[Walk], cache: Option<&WalkCache>) -> Walk {
        let build = || {
            let known = |domain: &str| {
                before
                    .iter()
                    .flat_map(|walk| walk.levels.iter())
                    .find(|level| level.domain.as_str().eq_ignore_ascii_case(domain))
            };
            let mut levels = Levels::new();
            walk_names(
                start,
                max_queries,
                |text| known(text).map(|level| level.domain.clone()),
                |domain| {
                    levels.push(match known(domain.as_str()) {
                        Some(level) => level.clone(),
                        None => Level::new(domain),
                    })
                },
            );
            levels
        };
        let levels = match cache {
            Some(cache) => {
                let built =
                    cache.get_or_parse(max_queries as u64, start.as_str().as_bytes(), |_| {
                        Ok::<_, std::convert::Infallible>(build())
                    });
                match built {
                    Ok(levels) => levels,
                    Err(never) => match never {},
                }
            }
            None => Arc::new(build()),
        };
        Walk { levels }
    }

    /// The domain the walk starts from.
    fn start(&self) -> Option<&Name> {
        self.levels.first().map(|level| &level.domain)
    }

    /// The records of the walk, up to one with `psd=y` or `psd=n`; the
    /// first DNS failure met on the way ends it.
    /// They are added to `hits` (filled in place rather than returned: a
    /// list of references moved right after being written stalls the
    /// loads that move it).
    fn records<'a>(
        &'a self,
        answers: &'a Answers<'_>,
        hits: &mut Hits<'a>,
    ) -> Result<(), DnsFailure> {
        for (index, level) in self.levels.iter().enumerate() {
            if let Some(record) = answers.at(level)? {
                hits.push(Hit {
                    index,
                    domain: &level.domain,
                    record,
                });
                if record.public_suffix != PublicSuffixFlag::Unknown {
                    break;
                }
            }
        }
        Ok(())
    }

    /// The Organizational Domain from the records of the walk (RFC 9989
    /// "Identifier Alignment Evaluation").
    /// Written over `slot`, which holds `start`.
    fn organizational_domain_into(start: &Name, hits: &[Hit<'_>], slot: &mut Name) {
        let Some(hit) = hits.last() else {
            return;
        };
        match hit.record.public_suffix {
            PublicSuffixFlag::Yes if hit.index != 0 => {
                if let Some(name) = last_labels(start, hit.domain.label_count() + 1) {
                    *slot = name;
                }
            }
            _ => slot.clone_from(hit.domain),
        }
    }

    /// The policy of the walk's starting domain as Author Domain (RFC 9989
    /// "DMARC Policy Discovery"): its own record whatever happened further
    /// up, else the Organizational Domain's, else the Public Suffix
    /// Domain's.
    fn policy(
        &self,
        answers: &Answers<'_>,
        hits: Result<&[Hit<'_>], &DnsFailure>,
        org: &Result<Name, DnsFailure>,
        config: &Config,
    ) -> PolicyStatus {
        if let Some(own) = self.levels.first()
            && let Ok(Some(record)) = answers.at(own)
        {
            return PolicyStatus::of_record(&own.domain, record, config);
        }
        match (hits, org) {
            (Ok(hits), Ok(org)) => {
                let at_org = hits.iter().find(|hit| hit.domain == org);
                let at_psd = hits
                    .iter()
                    .find(|hit| hit.record.public_suffix == PublicSuffixFlag::Yes);
                match at_org.or(at_psd) {
                    Some(hit) => PolicyStatus::of_record(hit.domain, hit.record, config),
                    None => PolicyStatus::NONE,
                }
            }
            (Err(failure), _) | (_, Err(failure)) => PolicyStatus::DnsError(failure.clone()),
        }
    }
}

/// The [`Mode::Rfc9989`](crate::dmarc::Mode::Rfc9989) strategy: one walk
/// for the Author Domain, one for each identifier.
#[derive(Debug, Clone)]
pub(super) struct TreeWalk {
    author: Name,
    /// The walk of the Author Domain, then of each identifier.
    walks: SmallVec<[Walk; 1]>,
    /// Whether the policy is wanted (false: Organizational Domains only).
    want_policy: bool,
}

impl TreeWalk {
    /// The walks from `author` and `identifiers` (distinct, lowercase, not
    /// the author), each of at most `max_queries` names; those built before
    /// are taken from beside `record_cache` when it is set.
    pub(super) fn new(
        author: &Name,
        identifiers: &[Name],
        max_queries: usize,
        want_policy: bool,
        record_cache: Option<&RecordCache>,
    ) -> TreeWalk {
        let cache = record_cache.and_then(RecordCache::beside::<Levels>);
        let mut walks: SmallVec<[Walk; 1]> = SmallVec::new();
        for domain in std::iter::once(author).chain(identifiers) {
            let walk = Walk::new(domain, max_queries, &walks, cache);
            walks.push(walk);
        }
        TreeWalk {
            author: author.clone(),
            walks,
            want_policy,
        }
    }

    /// Every `_dmarc` name of every walk, repeats included.
    pub(super) fn query_names(&self) -> impl Iterator<Item = &Name> {
        self.walks
            .iter()
            .flat_map(|walk| walk.levels.iter())
            .filter_map(|level| level.query_name.as_ref())
    }

    /// The lookup from the answers, written into `lookup` (which holds
    /// the Author Domain): the Author Domain's policy and the
    /// Organizational Domain at the end of each walk. Whether to ask if
    /// the Author Domain exists before finishing.
    pub(super) fn conclude(
        &self,
        answers: &Answers<'_>,
        config: &Config,
        lookup: &mut PolicyLookup,
    ) -> bool {
        let orgs = &mut lookup.organizational_domains;
        orgs.reserve_exact(self.walks.len());
        for (index, walk) in self.walks.iter().enumerate() {
            let Some(start) = walk.start() else {
                continue;
            };
            let mut hits = Hits::new();
            let walked = walk.records(answers, &mut hits);
            // Written where it is kept, then read from there: the start
            // stands in, and the Organizational Domain is copied over it.
            orgs.extend(std::iter::once(start).map(|start| OrgDomain {
                domain: start.clone(),
                organizational_domain: Ok(start.clone()),
            }));
            if let Some(org) = orgs.last_mut() {
                match &walked {
                    Ok(()) => {
                        if let Ok(slot) = &mut org.organizational_domain {
                            Walk::organizational_domain_into(start, &hits, slot);
                        }
                    }
                    Err(failure) => org.organizational_domain = Err(failure.clone()),
                }
            }
            if index == 0
                && self.want_policy
                && let Some(org) = orgs.last()
            {
                let hits = walked.as_ref().map(|()| &hits[..]);
                lookup.status = walk.policy(answers, hits, &org.organizational_domain, config);
            }
        }
        lookup.queries = answers.asked();
        let author_org = orgs
            .first()
            .and_then(|o| o.organizational_domain.as_ref().ok());
        match &lookup.status {
            PolicyStatus::Found(found) => {
                found.policy_domain != self.author
                    && author_org != Some(&self.author)
                    && found.record.nonexistent_subdomain_policy.is_some()
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Conclusion, concluded};
    use super::*;
    use crate::dns::ZoneResolver;

    fn n(s: &str) -> Name {
        Name::new(s).unwrap()
    }

    /// The walks built, and built again through the walk cache (twice:
    /// once filling it, once from it), which must ask the same names.
    fn walk_both(author: &Name, ids: &[Name], max: usize, want_policy: bool) -> TreeWalk {
        let walk = TreeWalk::new(author, ids, max, want_policy, None);
        let cache = RecordCache::new(4);
        for _ in 0..2 {
            let cached = TreeWalk::new(author, ids, max, want_policy, Some(&cache));
            assert_eq!(names(&cached), names(&walk));
        }
        walk
    }

    fn names(walk: &TreeWalk) -> Vec<&str> {
        walk.query_names().map(Name::as_str).collect()
    }

    fn zone() -> ZoneResolver {
        let mut zone = ZoneResolver::new();
        zone.add_txt(
            &n("_dmarc.example.com"),
            "v=DMARC1; p=reject; np=quarantine",
        );
        zone.add_txt(&n("_dmarc.mail.example.org"), "v=DMARC1; p=none; psd=n");
        zone.add_txt(&n("_dmarc.org"), "v=DMARC1; p=none; psd=y");
        zone.set_timeout(&n("_dmarc.slow.example"));
        zone
    }

    fn conclude(walk: &TreeWalk, zone: &ZoneResolver) -> Conclusion {
        let config = Config::default();
        concluded(
            &walk.author,
            walk.query_names(),
            zone,
            &config,
            |answers, lookup| walk.conclude(answers, &config, lookup),
        )
    }

    fn orgs(lookup: &PolicyLookup) -> Vec<(&str, Result<&str, &str>)> {
        lookup
            .organizational_domains
            .iter()
            .map(|o| {
                let org = match &o.organizational_domain {
                    Ok(org) => Ok(org.as_str()),
                    Err(failure) => Err(failure.name.as_str()),
                };
                (o.domain.as_str(), org)
            })
            .collect()
    }

    #[test]
    fn one_walk_per_domain_author_first() {
        let walk = walk_both(&n("a.example.com"), &[n("b.example.com")], 8, true);
        assert_eq!(
            names(&walk),
            [
                "_dmarc.a.example.com",
                "_dmarc.example.com",
                "_dmarc.com",
                "_dmarc.b.example.com",
                "_dmarc.example.com",
                "_dmarc.com",
            ]
        );
        let walk = walk_both(&n("a.b.c.example"), &[], 2, true);
        assert_eq!(names(&walk), ["_dmarc.a.b.c.example", "_dmarc.example"]);
    }

    #[test]
    fn policy_and_every_organizational_domain() {
        let walk = walk_both(
            &n("ghost.example.com"),
            &[n("x.mail.example.org"), n("a.example.org")],
            8,
            true,
        );
        let Conclusion {
            lookup,
            ask_existence,
        } = conclude(&walk, &zone());
        let PolicyStatus::Found(found) = &lookup.status else {
            panic!("{:?}", lookup.status)
        };
        assert_eq!(found.policy_domain.as_str(), "example.com");
        assert_eq!(found.author_domain_exists, None);
        assert!(ask_existence, "np above the Author Domain");
        assert_eq!(
            orgs(&lookup),
            [
                ("ghost.example.com", Ok("example.com")),
                ("x.mail.example.org", Ok("mail.example.org")),
                ("a.example.org", Ok("example.org")),
            ]
        );
        assert_eq!(lookup.queries, 8, "the walks share their names");
        // Only the walks' names are known: no list to ask.
        assert_eq!(lookup.organizational_domain_for(&n("b.example.com")), None);
    }

    #[test]
    fn no_existence_question_at_the_organizational_domain() {
        let walk = walk_both(&n("example.com"), &[], 8, true);
        assert!(!conclude(&walk, &zone()).ask_existence);
        let walk = walk_both(&n("mail.example.org"), &[], 8, true);
        assert!(!conclude(&walk, &zone()).ask_existence);
    }

    #[test]
    fn a_failure_stays_with_its_walk() {
        let walk = walk_both(&n("example.com"), &[n("a.slow.example")], 8, true);
        let Conclusion { lookup, .. } = conclude(&walk, &zone());
        assert!(matches!(lookup.status, PolicyStatus::Found(_)));
        assert_eq!(
            orgs(&lookup),
            [
                ("example.com", Ok("example.com")),
                ("a.slow.example", Err("_dmarc.slow.example")),
            ]
        );
        let walk = walk_both(&n("a.slow.example"), &[], 8, true);
        let Conclusion { lookup, .. } = conclude(&walk, &zone());
        let PolicyStatus::DnsError(failure) = &lookup.status else {
            panic!("{:?}", lookup.status)
        };
        assert!(failure.temporary);
        assert_eq!(failure.name.as_str(), "_dmarc.slow.example");
    }

    #[test]
    fn organizational_domains_only() {
        let walk = walk_both(&n("ghost.example.com"), &[n("x.example.org")], 8, false);
        let Conclusion {
            lookup,
            ask_existence,
        } = conclude(&walk, &zone());
        assert_eq!(lookup.status, PolicyStatus::NONE);
        assert!(!ask_existence);
        assert_eq!(
            orgs(&lookup),
            [
                ("ghost.example.com", Ok("example.com")),
                ("x.example.org", Ok("example.org")),
            ]
        );
    }

    #[test]
    fn walks_kept_beside_the_records_under_their_bound() {
        let records = RecordCache::new(2);
        let walks = records.beside::<Levels>().unwrap();
        for author in ["a.example.com", "b.example.com", "c.example.com"] {
            TreeWalk::new(&n(author), &[], 8, true, Some(&records));
        }
        assert_eq!(walks.stats().entries, 2);
        TreeWalk::new(&n("c.example.com"), &[], 8, true, Some(&records));
        assert_eq!(walks.stats().hits, 1);
        // Policy discovery keeps its walks beside the cache it is given.
        let config = Config {
            record_cache: Some(RecordCache::new(3)),
            ..Config::default()
        };
        let lookup = crate::resolve(
            super::super::Discovery::new(&n("mail.example.com"), &config),
            &zone(),
        );
        assert!(matches!(lookup.status, PolicyStatus::Found(_)));
        let kept = config.record_cache.as_ref().unwrap();
        assert_eq!(kept.beside::<Levels>().unwrap().stats().entries, 1);
        assert_eq!(kept.stats().entries, 1, "the policy record");
    }
}
