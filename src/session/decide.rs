//! The decisions of the session: SPF at HELO and MAIL FROM, DKIM and DMARC
//! at the end of the message, and the edits.

use super::{Action, Decision, Disposal, Edit, QuarantineBy, Reply, Settings};
use crate::dkim::verify::{DkimResult, Reason as DkimReason};
use crate::dmarc::{Disposition, DmarcResult};
use crate::inbound::Verdict;
use crate::spf::{self, SpfResult};

/// The reply of a settings template, filled; turned to the class of the
/// action (a 4xx template for a reject becomes 550, a 5xx one for a
/// tempfail 451).
fn reply(template: &str, permanent: bool, values: &[(&str, &str)]) -> Reply {
    let mut reply = Reply::parse(template).unwrap_or(Reply {
        code: 550,
        enhanced: "5.7.1".to_owned(),
        text: "Message refused".to_owned(),
    });
    let class = if permanent { 5 } else { 4 };
    if reply.code / 100 != class {
        reply.code = if permanent { 550 } else { 451 };
        reply.enhanced = format!("{class}{}", &reply.enhanced[1..]);
    }
    reply.fill(values)
}

/// The action a [`Disposal`] setting asks for.
fn disposal(
    setting: Disposal,
    reject: &str,
    tempfail: &str,
    values: &[(&str, &str)],
    reason: &str,
) -> Action {
    match setting {
        Disposal::Accept => Action::Continue,
        Disposal::Reject => Action::Reject(reply(reject, true, values)),
        Disposal::Tempfail => Action::Tempfail(reply(tempfail, false, values)),
        Disposal::Discard => Action::Discard,
        Disposal::Quarantine => Action::Quarantine(reason.to_owned()),
    }
}

/// policyd-spf's decision on an SPF result; `None` to go on.
pub(super) fn spf(settings: &Settings, outcome: &spf::Outcome, helo: bool) -> Option<Decision> {
    let file = settings.file();
    let (level, template) = if helo {
        (file.spf.helo_reject, &file.replies.helo_reject)
    } else {
        (file.spf.mail_from_reject, &file.replies.spf_reject)
    };
    let ip = outcome.client_ip.to_string();
    let result = outcome.result.to_string();
    let explanation = outcome
        .explanation
        .clone()
        .unwrap_or_else(|| outcome.reason.to_string());
    let values = [
        ("ip", ip.as_str()),
        ("domain", outcome.domain.as_str()),
        ("reason", result.as_str()),
        ("explanation", explanation.as_str()),
    ];
    let action = match outcome.result {
        SpfResult::TempError if file.spf.temperror_defer => {
            Action::Tempfail(reply(&file.replies.spf_temperror, false, &values))
        }
        SpfResult::PermError if file.spf.permerror_reject => {
            Action::Reject(reply(&file.replies.spf_permerror, true, &values))
        }
        result if level.refuses(result) => Action::Reject(reply(template, true, &values)),
        _ => return None,
    };
    Some(Decision {
        check: if helo { "helo" } else { "spf" },
        action,
        reason: format!("spf={result} for {}: {}", outcome.domain, outcome.reason),
    })
}

/// The decisions on a checked message, and its edits.
pub(super) fn message(
    settings: &Settings,
    verdict: &Verdict,
    spf_mail_from: Option<&spf::Outcome>,
) -> (Vec<Decision>, Vec<Edit>) {
    let file = settings.file();
    let replies = &file.replies;
    let mut decisions = Vec::new();
    if let Some(error) = verdict
        .header_error
        .as_ref()
        .filter(|_| file.verify.on_security != Disposal::Accept)
    {
        let reason = format!("header past the limits: {error}");
        decisions.push(Decision {
            check: "header",
            action: disposal(
                file.verify.on_security,
                &replies.security,
                &replies.security,
                &[("reason", &reason)],
                &reason,
            ),
            reason,
        });
    }
    if let Some(verification) = &verdict.dkim {
        let signatures = &verification.signatures;
        let has =
            |f: &dyn Fn(&crate::dkim::verify::SignatureResult) -> bool| signatures.iter().any(f);
        let setting = if signatures.is_empty() {
            Some((file.verify.on_no_signature, "no signature".to_owned()))
        } else if has(&|s| s.result == DkimResult::Pass) {
            None
        } else if let Some(s) = signatures
            .iter()
            .find(|s| s.result == DkimResult::TempError)
        {
            Some((file.verify.on_dns_error, signature_reason(s)))
        } else if let Some(s) = signatures
            .iter()
            .find(|s| s.reason == Some(DkimReason::KeyNotFound))
        {
            Some((file.verify.on_key_not_found, signature_reason(s)))
        } else {
            signatures
                .first()
                .map(|s| (file.verify.on_bad_signature, signature_reason(s)))
        };
        if let Some((setting, reason)) = setting.filter(|(s, _)| *s != Disposal::Accept) {
            decisions.push(Decision {
                check: "dkim",
                action: disposal(
                    setting,
                    &replies.dkim_reject,
                    &replies.dkim_tempfail,
                    &[("reason", &reason)],
                    &reason,
                ),
                reason,
            });
        }
    }
    let mut quarantine_header = None;
    if let Some(outcome) = &verdict.dmarc {
        let domain = outcome
            .author_domain
            .as_ref()
            .map(|d| d.as_str().to_owned())
            .unwrap_or_default();
        let values = [
            ("domain", domain.as_str()),
            ("reason", outcome.result.as_str()),
        ];
        let reason = format!(
            "dmarc={} for {domain}, policy {}: {}",
            outcome.result.as_str(),
            outcome.policy.map_or("none", |p| p.as_str()),
            outcome.reason
        );
        if outcome.result == DmarcResult::TempError {
            if file.dmarc.on_temperror == Disposal::Accept {
                return finish_edits(settings, verdict, spf_mail_from, decisions, None);
            }
            decisions.push(Decision {
                check: "dmarc",
                action: disposal(
                    file.dmarc.on_temperror,
                    &replies.dmarc_tempfail,
                    &replies.dmarc_tempfail,
                    &values,
                    &reason,
                ),
                reason,
            });
        } else if file.dmarc.reject_failures {
            match verdict.disposition {
                Disposition::Reject => decisions.push(Decision {
                    check: "dmarc",
                    action: Action::Reject(reply(&replies.dmarc_reject, true, &values)),
                    reason,
                }),
                Disposition::Quarantine => match file.dmarc.quarantine {
                    QuarantineBy::Hold => decisions.push(Decision {
                        check: "dmarc",
                        action: Action::Quarantine(format!("DMARC policy of {domain}")),
                        reason,
                    }),
                    QuarantineBy::Header => {
                        quarantine_header = Some(format!("DMARC policy of {domain}"));
                        decisions.push(Decision {
                            check: "dmarc",
                            action: Action::Continue,
                            reason: format!(
                                "{reason}; marked with {}",
                                file.dmarc.quarantine_header
                            ),
                        });
                    }
                    QuarantineBy::Accept => {}
                },
                Disposition::None => {}
            }
        }
    }
    finish_edits(
        settings,
        verdict,
        spf_mail_from,
        decisions,
        quarantine_header,
    )
}

/// The edits of a checked message.
fn finish_edits(
    settings: &Settings,
    verdict: &Verdict,
    spf_mail_from: Option<&spf::Outcome>,
    decisions: Vec<Decision>,
    quarantine_header: Option<String>,
) -> (Vec<Decision>, Vec<Edit>) {
    let file = settings.file();
    let mut edits: Vec<Edit> = Vec::new();
    let mut removals: Vec<usize> = verdict.remove.iter().map(|r| r.occurrence).collect();
    removals.sort_unstable_by(|a, b| b.cmp(a));
    edits.extend(removals.into_iter().map(|occurrence| Edit::Remove {
        name: crate::authres::FIELD_NAME.to_owned(),
        occurrence,
    }));
    // Incoming receiver-only BIMI fields, each name highest first.
    let mut bimi: Vec<(String, usize)> = verdict
        .bimi_remove
        .iter()
        .map(|r| {
            let name = r.field.raw_name().unwrap_or_default();
            (
                String::from_utf8_lossy(name).trim().to_owned(),
                r.occurrence,
            )
        })
        .collect();
    bimi.sort_unstable_by_key(|b| std::cmp::Reverse(b.1));
    edits.extend(
        bimi.into_iter()
            .map(|(name, occurrence)| Edit::Remove { name, occurrence }),
    );
    // Applied in order, each at the top: the last ends first.
    if let Some(reason) = quarantine_header {
        edits.push(Edit::Insert {
            name: file.dmarc.quarantine_header.clone(),
            value: reason,
        });
    }
    if let Some(outcome) = spf_mail_from.filter(|_| file.spf.received_spf) {
        let field = outcome.received_spf(&settings.inbound_config().spf.receiver);
        edits.push(insert(&field));
    }
    if let Some(location) = &verdict.bimi_location {
        edits.push(Edit::Insert {
            name: crate::bimi::LOCATION_FIELD.to_owned(),
            value: location.clone(),
        });
    }
    if let Some(field) = verdict.header_field() {
        edits.push(insert(&field));
    }
    (decisions, edits)
}

fn signature_reason(signature: &crate::dkim::verify::SignatureResult) -> String {
    let domain = signature.domain.as_ref().map_or("", |d| d.as_str());
    match &signature.reason {
        Some(reason) => format!("dkim={} d={domain}: {reason}", signature.result),
        None => format!("dkim={} d={domain}", signature.result),
    }
}

/// An [`Edit::Insert`] of a rendered `Name: value` field.
fn insert(field: &str) -> Edit {
    let (name, value) = field.split_once(':').unwrap_or((field, ""));
    Edit::Insert {
        name: name.to_owned(),
        value: value.trim_start_matches(' ').to_owned(),
    }
}
