//! [`Mode::Rfc7489`](crate::dmarc::Mode::Rfc7489): policy discovery and
//! Organizational Domains by the Public Suffix List.
//!
//! The Organizational Domain of a name is its registrable domain under the
//! list (RFC 7489 §3.2), found without DNS, for the Author Domain, the
//! identifiers, and any name asked later (the lookup keeps the list). The
//! policy record (RFC 7489 §6.6.3) is the one at `_dmarc.<author domain>`,
//! else the one at `_dmarc.<organizational domain>`; both are asked
//! together. `psd` is not a tag of RFC 7489 and no existence question is
//! asked (`np` is not one either).

use std::sync::Arc;

use super::{Answers, Level, OrgDomain, PolicyLookup, PolicyStatus, SuffixList};
use crate::dmarc::Config;
use crate::dmarc::psl::PublicSuffixList;
use crate::dns::Name;

/// The [`Mode::Rfc7489`](crate::dmarc::Mode::Rfc7489) strategy.
#[derive(Debug, Clone)]
pub(super) struct SuffixListLookup {
    list: Arc<PublicSuffixList>,
    author: Name,
    /// The Author Domain's Organizational Domain.
    author_org: Name,
    identifiers: Vec<Name>,
    /// The Author Domain, then its Organizational Domain when different;
    /// empty when the policy is not wanted.
    levels: Vec<Level>,
}

impl SuffixListLookup {
    /// The lookup for `author` and `identifiers` (distinct, lowercase, not
    /// the author) under `list`.
    pub(super) fn new(
        author: &Name,
        identifiers: &[Name],
        list: Arc<PublicSuffixList>,
        want_policy: bool,
    ) -> SuffixListLookup {
        let author_org = list.organizational_domain(author);
        let mut levels = Vec::new();
        if want_policy {
            levels.push(Level::new(author.clone()));
            if &author_org != author {
                levels.push(Level::new(author_org.clone()));
            }
        }
        SuffixListLookup {
            list,
            author: author.clone(),
            author_org,
            identifiers: identifiers.to_vec(),
            levels,
        }
    }

    /// The `_dmarc` names of the Author Domain and its Organizational
    /// Domain.
    pub(super) fn query_names(&self) -> impl Iterator<Item = &Name> {
        self.levels
            .iter()
            .filter_map(|level| level.query_name.as_ref())
    }

    /// The policy (RFC 7489 §6.6.3): the Author Domain's record, else the
    /// Organizational Domain's. A DNS failure at the Organizational Domain
    /// matters only when the Author Domain has no record.
    fn policy(&self, answers: &Answers<'_>, config: &Config) -> PolicyStatus {
        for level in &self.levels {
            match answers.at(level) {
                Ok(Some(record)) => return PolicyStatus::of_record(&level.domain, record, config),
                Ok(None) => {}
                Err(failure) => return PolicyStatus::DnsError(failure),
            }
        }
        PolicyStatus::NONE
    }

    /// The lookup from the answers, written into `lookup` (which holds
    /// the Author Domain): the policy, and the Organizational Domains from
    /// the list. Never asks whether the Author Domain exists.
    pub(super) fn conclude(
        &self,
        answers: &Answers<'_>,
        config: &Config,
        lookup: &mut PolicyLookup,
    ) -> bool {
        let orgs = &mut lookup.organizational_domains;
        orgs.reserve_exact(1 + self.identifiers.len());
        orgs.push(OrgDomain {
            domain: self.author.clone(),
            organizational_domain: Ok(self.author_org.clone()),
        });
        orgs.extend(self.identifiers.iter().map(|id| OrgDomain {
            domain: id.clone(),
            organizational_domain: Ok(self.list.organizational_domain(id)),
        }));
        lookup.status = self.policy(answers, config);
        lookup.queries = answers.asked();
        lookup.suffix_list = SuffixList(Some(Arc::clone(&self.list)));
        false
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

    fn list() -> Arc<PublicSuffixList> {
        Arc::new(PublicSuffixList::parse("uk\nco.uk\nexample\n"))
    }

    fn names(lookup: &SuffixListLookup) -> Vec<&str> {
        lookup.query_names().map(Name::as_str).collect()
    }

    fn conclude(strategy: &SuffixListLookup, zone: &ZoneResolver) -> Conclusion {
        let config = Config::rfc7489();
        let names = strategy.query_names();
        concluded(&strategy.author, names, zone, &config, |answers, lookup| {
            strategy.conclude(answers, &config, lookup)
        })
    }

    #[test]
    fn author_then_organizational_domain() {
        let lookup = SuffixListLookup::new(&n("a.b.example.co.uk"), &[], list(), true);
        assert_eq!(
            names(&lookup),
            ["_dmarc.a.b.example.co.uk", "_dmarc.example.co.uk"]
        );
        let lookup = SuffixListLookup::new(&n("example.co.uk"), &[], list(), true);
        assert_eq!(names(&lookup), ["_dmarc.example.co.uk"]);
        let lookup = SuffixListLookup::new(&n("a.example.co.uk"), &[n("x.example")], list(), false);
        assert!(names(&lookup).is_empty());
    }

    #[test]
    fn record_choice_and_failures() {
        let mut zone = ZoneResolver::new();
        zone.add_txt(&n("_dmarc.example.co.uk"), "v=DMARC1; p=reject");
        zone.add_txt(&n("_dmarc.own.example.co.uk"), "v=DMARC1; p=none");
        zone.add_txt(&n("_dmarc.own.slow.co.uk"), "v=DMARC1; p=quarantine");
        zone.set_timeout(&n("_dmarc.slow.co.uk"));
        let policy_domain = |author: &str| {
            let lookup = SuffixListLookup::new(&n(author), &[], list(), true);
            match conclude(&lookup, &zone).lookup.status {
                PolicyStatus::Found(found) => Ok(found.policy_domain.to_string()),
                PolicyStatus::DnsError(failure) => Err(failure.name.to_string()),
                other => panic!("{other:?}"),
            }
        };
        assert_eq!(policy_domain("a.example.co.uk"), Ok("example.co.uk".into()));
        assert_eq!(
            policy_domain("own.example.co.uk"),
            Ok("own.example.co.uk".into())
        );
        // A failure at the Organizational Domain matters only without a
        // record at the Author Domain.
        assert_eq!(policy_domain("own.slow.co.uk"), Ok("own.slow.co.uk".into()));
        assert_eq!(
            policy_domain("a.slow.co.uk"),
            Err("_dmarc.slow.co.uk".into())
        );
        // psd is not an RFC 7489 tag: nothing above the Organizational Domain.
        zone.add_txt(&n("_dmarc.co.uk"), "v=DMARC1; p=reject; psd=y");
        let lookup = SuffixListLookup::new(&n("a.none.co.uk"), &[], list(), true);
        let conclusion = conclude(&lookup, &zone);
        assert_eq!(conclusion.lookup.status, PolicyStatus::NONE);
        assert!(!conclusion.ask_existence);
    }

    #[test]
    fn organizational_domains_from_the_list() {
        let lookup = SuffixListLookup::new(
            &n("a.example.co.uk"),
            &[n("b.example.co.uk"), n("x.y.example")],
            list(),
            false,
        );
        let Conclusion { lookup, .. } = conclude(&lookup, &ZoneResolver::new());
        let orgs: Vec<(&str, &str)> = lookup
            .organizational_domains
            .iter()
            .map(|o| {
                let org = o.organizational_domain.as_ref().unwrap();
                (o.domain.as_str(), org.as_str())
            })
            .collect();
        assert_eq!(
            orgs,
            [
                ("a.example.co.uk", "example.co.uk"),
                ("b.example.co.uk", "example.co.uk"),
                ("x.y.example", "y.example"),
            ]
        );
        assert_eq!(lookup.queries, 0);
        // Any other name: from the list, no DNS.
        let other = lookup.organizational_domain_for(&n("m.other.co.uk"));
        assert_eq!(
            other.map(|o| o.map(|name| name.into_owned())),
            Some(Ok(n("other.co.uk")))
        );
    }
}
