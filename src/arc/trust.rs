//! Trusted ARC sealers: when a passing chain may set a DMARC failure aside
//! (RFC 8617 §7.2.1), and the reason reports then carry (§7.2.2).

use std::fmt::Write as _;

use super::{ArcField, ArcResult, Outcome};
use crate::authres::AuthenticationResults;
use crate::dmarc::{self, OverrideKind, PolicyOverride};
use crate::dns::Name;
use crate::message::HeaderField;

/// The local-policy override a passing ARC chain earns, or `None`.
///
/// The chain must pass, and one of its sets must be sealed (ARC-Seal `d=`)
/// by a domain in `trusted` whose ARC-Authentication-Results records
/// `dmarc=pass` (for `author`, when that result names a `header.from`):
/// the trusted intermediary saw the message authenticate before it
/// changed it. `fields` is the message's header. The reason's comment is
/// RFC 8617 §7.2.2's list: `arc=pass`, then `as[i].d=` and `as[i].s=` of
/// every set, newest first, then `remote-ip[1]=` when the first set
/// recorded `smtp.remote-ip`.
pub fn trusted_override(
    outcome: &Outcome,
    fields: &[HeaderField],
    trusted: &[Name],
    author: Option<&Name>,
) -> Option<PolicyOverride> {
    if outcome.result != ArcResult::Pass || trusted.is_empty() {
        return None;
    }
    let vouched = outcome
        .instances
        .iter()
        .rev()
        .filter(|set| trusted.contains(&set.seal_domain))
        .any(|set| {
            recorded_results(fields, set.instance).is_some_and(|results| {
                results.results.iter().any(|r| {
                    r.is_method("dmarc")
                        && r.result
                            .eq_ignore_ascii_case(dmarc::DmarcResult::Pass.as_str())
                        && match (r.property("header", "from"), author) {
                            (Some(from), Some(author)) => {
                                Name::new(from).is_ok_and(|from| from == *author)
                            }
                            _ => true,
                        }
                })
            })
        });
    if !vouched {
        return None;
    }
    let mut comment = String::from("arc=pass");
    for set in outcome.instances.iter().rev() {
        let _ = write!(
            comment,
            " as[{i}].d={d} as[{i}].s={s}",
            i = set.instance,
            d = set.seal_domain.as_str(),
            s = set.seal_selector
        );
    }
    if let Some(ip) = recorded_results(fields, 1)
        .and_then(|r| {
            r.results
                .iter()
                .find_map(|m| m.property("smtp", "remote-ip").map(str::to_owned))
        })
        .filter(|ip| ip.parse::<std::net::IpAddr>().is_ok())
    {
        let _ = write!(comment, " remote-ip[1]={ip}");
    }
    Some(PolicyOverride {
        kind: OverrideKind::LocalPolicy,
        comment,
    })
}

/// The results an ARC set recorded: its ARC-Authentication-Results read as
/// an Authentication-Results value (without the `i=` tag).
pub fn recorded_results(fields: &[HeaderField], instance: u32) -> Option<AuthenticationResults> {
    fields
        .iter()
        .filter(|f| f.is_named(ArcField::AuthenticationResults.name().as_bytes()))
        .find_map(|f| {
            let value = f.value();
            let semicolon = value.iter().position(|&b| b == b';')?;
            let (tag, rest) = value.split_at(semicolon);
            let tag = std::str::from_utf8(tag).ok()?;
            let (name, number) = tag.trim().split_once('=')?;
            if name.trim() != "i" || number.trim().parse::<u32>().ok()? != instance {
                return None;
            }
            AuthenticationResults::parse(&rest[1..]).ok()
        })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::SetSummary;
    use super::*;

    fn field(text: &str) -> HeaderField {
        HeaderField::from_raw(format!("{text}\r\n").into_bytes())
    }

    fn set(instance: u32, domain: &str) -> SetSummary {
        SetSummary {
            instance,
            seal_domain: Name::new(domain).unwrap(),
            seal_selector: format!("s{instance}"),
            signature_domain: Name::new(domain).unwrap(),
            signature_selector: format!("s{instance}"),
            chain_status: if instance == 1 {
                ArcResult::None
            } else {
                ArcResult::Pass
            },
        }
    }

    fn passing(sets: Vec<SetSummary>) -> Outcome {
        let mut outcome = Outcome::none();
        outcome.result = ArcResult::Pass;
        outcome.sets = sets.len();
        outcome.instances = sets;
        outcome
    }

    fn header() -> Vec<HeaderField> {
        vec![
            field(
                "ARC-Authentication-Results: i=2; relay.example.net; arc=pass; \
                 dmarc=fail header.from=example.com",
            ),
            field(
                "ARC-Authentication-Results: i=1; lists.example.org; \
                 dkim=pass header.d=example.com; dmarc=pass header.from=example.com; \
                 arc=none smtp.remote-ip=\"2001:db8::1a\"",
            ),
        ]
    }

    #[test]
    fn a_trusted_sealer_that_saw_dmarc_pass_sets_the_failure_aside() {
        let outcome = passing(vec![
            set(1, "lists.example.org"),
            set(2, "relay.example.net"),
        ]);
        let author = Name::new("example.com").unwrap();
        let trusted = [Name::new("LISTS.example.org").unwrap()];
        let o = trusted_override(&outcome, &header(), &trusted, Some(&author)).unwrap();
        assert_eq!(o.kind, OverrideKind::LocalPolicy);
        assert_eq!(
            o.comment,
            "arc=pass as[2].d=relay.example.net as[2].s=s2 \
             as[1].d=lists.example.org as[1].s=s1 remote-ip[1]=2001:db8::1a"
        );
    }

    #[test]
    fn no_override_without_trust_pass_or_a_dmarc_pass_on_record() {
        let author = Name::new("example.com").unwrap();
        let outcome = passing(vec![
            set(1, "lists.example.org"),
            set(2, "relay.example.net"),
        ]);
        // The trusted sealer recorded dmarc=fail.
        let relay = [Name::new("relay.example.net").unwrap()];
        assert!(trusted_override(&outcome, &header(), &relay, Some(&author)).is_none());
        // Nobody trusted.
        assert!(trusted_override(&outcome, &header(), &[], Some(&author)).is_none());
        // A different author domain than the one the sealer saw.
        let other = Name::new("example.net").unwrap();
        let lists = [Name::new("lists.example.org").unwrap()];
        assert!(trusted_override(&outcome, &header(), &lists, Some(&other)).is_none());
        // The chain does not pass.
        let mut failed = outcome.clone();
        failed.result = ArcResult::Fail;
        assert!(trusted_override(&failed, &header(), &lists, Some(&author)).is_none());
    }
}
