//! The log record of a transaction: one line with every result and the
//! reason of every decision.

use std::fmt;

use super::{Action, Decision, Session};

/// What one transaction found and decided. Its Display is one line of
/// `key=value` pairs (values with spaces quoted), keyed by the queue ID;
/// [`LogRecord::detail`] adds each check's reasons (OpenDKIM's `LogWhy`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LogRecord {
    /// The MTA's queue ID.
    pub queue_id: Option<String>,
    /// The client address (`local` for none) and reverse name.
    pub client: String,
    /// `verify` or `sign(...)`.
    pub mode: String,
    /// The HELO name.
    pub helo: String,
    /// The MAIL FROM address.
    pub mail_from: Option<String>,
    /// RCPT TO commands seen.
    pub recipients: usize,
    /// `result` of each check, in order: `spf_helo`, `spf`, `dkim`
    /// (one per signature, `result(d=...,s=...)`), `dmarc`.
    pub results: Vec<(&'static str, String)>,
    /// The signature added: `d=..., s=...`.
    pub signed: Option<String>,
    /// What the settings decided.
    pub decided: Action,
    /// What the MTA is told (differs in test-only mode).
    pub action: Action,
    /// Every decision with its reason.
    pub decisions: Vec<Decision>,
    /// Each check's reasons, for the detail record (when the settings'
    /// `log.why` is set; empty otherwise).
    pub why: Vec<String>,
}

impl LogRecord {
    /// Each check's reasons on one line (OpenDKIM `LogWhy`).
    pub fn detail(&self) -> String {
        let id = self.queue_id.as_deref().unwrap_or("NOQUEUE");
        format!("{id}: why: {}", self.why.join("; "))
    }
}

fn quoted(f: &mut fmt::Formatter<'_>, key: &str, value: &str) -> fmt::Result {
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_graphic() && b != b'"') {
        write!(f, " {key}={value}")
    } else {
        let clean: String = value
            .chars()
            .map(|c| if c.is_control() || c == '"' { '?' } else { c })
            .collect();
        write!(f, " {key}=\"{clean}\"")
    }
}

impl fmt::Display for LogRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:", self.queue_id.as_deref().unwrap_or("NOQUEUE"))?;
        quoted(f, "client", &self.client)?;
        quoted(f, "mode", &self.mode)?;
        quoted(f, "helo", &self.helo)?;
        if let Some(from) = &self.mail_from {
            quoted(f, "from", &format!("<{from}>"))?;
        }
        write!(f, " rcpts={}", self.recipients)?;
        for (key, value) in &self.results {
            quoted(f, key, value)?;
        }
        if let Some(signed) = &self.signed {
            quoted(f, "signed", signed)?;
        }
        quoted(f, "action", &self.action.to_string())?;
        if self.decided != self.action {
            quoted(f, "test-only-would", &self.decided.to_string())?;
        }
        for decision in &self.decisions {
            quoted(f, decision.check, &decision.reason)?;
        }
        Ok(())
    }
}

pub(super) fn record(session: &Session, decided: &Action, action: &Action) -> LogRecord {
    let client = match (&session.client.address, &session.client.name) {
        (Some(ip), Some(name)) => format!("{name}[{ip}]"),
        (Some(ip), None) => ip.to_string(),
        (None, _) => "local".to_owned(),
    };
    let mut results = Vec::new();
    // The reasons are written only when the settings ask for them.
    let mut why = Vec::new();
    let mut because = |reason: String| {
        if session.settings.file().log.why {
            why.push(reason);
        }
    };
    if let Some(outcome) = &session.spf_helo {
        results.push(("spf_helo", outcome.result.to_string()));
        because(format!("spf helo {}: {}", outcome.domain, outcome.reason));
    }
    if let Some(outcome) = &session.spf_mail_from {
        results.push(("spf", outcome.result.to_string()));
        because(format!("spf {}: {}", outcome.domain, outcome.reason));
    }
    if let Some(verdict) = &session.verdict {
        if let Some(dkim) = &verdict.dkim {
            if dkim.signatures.is_empty() {
                results.push(("dkim", "none".to_owned()));
            }
            for s in &dkim.signatures {
                let domain = s.domain.as_ref().map_or("", |d| d.as_str());
                let selector = s.selector.as_deref().unwrap_or("");
                results.push(("dkim", format!("{}(d={domain},s={selector})", s.result)));
                if let Some(reason) = &s.reason {
                    because(format!("dkim d={domain} s={selector}: {reason}"));
                }
            }
        }
        if let Some(dmarc) = &verdict.dmarc {
            let domain = dmarc.author_domain.as_ref().map_or("", |d| d.as_str());
            results.push((
                "dmarc",
                format!(
                    "{}(from={domain},p={},disposition={})",
                    dmarc.result.as_str(),
                    dmarc.policy.map_or("none", |p| p.as_str()),
                    verdict.disposition.as_str()
                ),
            ));
            because(format!("dmarc {domain}: {}", dmarc.reason));
        }
    }
    LogRecord {
        queue_id: session.queue_id.clone(),
        client,
        mode: session.mode.to_string(),
        helo: session.helo.clone(),
        mail_from: session.mail_from.clone(),
        recipients: session.recipients,
        results,
        signed: session.signed.clone(),
        decided: decided.clone(),
        action: action.clone(),
        decisions: session.decisions.clone(),
        why,
    }
}
