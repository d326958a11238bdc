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

use super::{Answers, Conclusion, Level, OrgDomain, PolicyLookup, PolicyStatus, SuffixList};
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

    /// The lookup from the answers: the policy, and the Organizational
    /// Domains from the list.
    pub(super) fn conclude(&self, answers: &Answers<'_>, config: &Config) -> Conclusion {
        let mut orgs = Vec::with_capacity(1 + self.identifiers.len());
        orgs.push(OrgDomain {
            domain: self.author.clone(),
            organizational_domain: Ok(self.author_org.clone()),
        });
        orgs.extend(self.identifiers.iter().map(|id| OrgDomain {
            domain: id.clone(),
            organizational_domain: Ok(self.list.organizational_domain(id)),
        }));
        Conclusion {
            lookup: PolicyLookup {
                author_domain: self.author.clone(),
                status: self.policy(answers, config),
                organizational_domains: orgs,
                queries: answers.asked,
                suffix_list: SuffixList(Some(Arc::clone(&self.list))),
            },
            ask_existence: false,
        }
    }
}
