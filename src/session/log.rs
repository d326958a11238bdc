//! The log record of a transaction: one line with every result and the
//! reason of every decision.

use std::fmt;
use std::net::IpAddr;

use super::{Action, Decision, Mode, Session};
use crate::arc::ArcResult;
use crate::dkim::verify::DkimResult;
use crate::dmarc::{Disposition, DmarcResult, Policy};
use crate::dns::Name;
use crate::spf::SpfResult;

/// The DKIM result of one signature, for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DkimEntry {
    /// The result.
    pub result: DkimResult,
    /// `d=`.
    pub domain: Option<Name>,
    /// `s=`.
    pub selector: Option<String>,
}

/// The DMARC result, for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DmarcEntry {
    /// The result.
    pub result: DmarcResult,
    /// The From domain.
    pub author_domain: Option<Name>,
    /// The policy that applied.
    pub policy: Option<Policy>,
    /// What the policy asks.
    pub disposition: Disposition,
}

/// What one transaction found and decided. Its Display is one line of
/// `key=value` pairs (values with spaces quoted), keyed by the queue ID;
/// [`LogRecord::detail`] adds each check's reasons (OpenDKIM's `LogWhy`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LogRecord {
    /// The MTA's queue ID.
    pub queue_id: Option<String>,
    /// The client's address (`None`: a local submission).
    pub client_address: Option<IpAddr>,
    /// The client's reverse name.
    pub client_name: Option<String>,
    /// Signed or checked, and why.
    pub mode: Mode,
    /// The HELO name.
    pub helo: String,
    /// The MAIL FROM address.
    pub mail_from: Option<String>,
    /// RCPT TO commands seen.
    pub recipients: usize,
    /// SPF of the HELO name.
    pub spf_helo: Option<SpfResult>,
    /// SPF of the MAIL FROM address.
    pub spf: Option<SpfResult>,
    /// DKIM, one entry per signature (`None` when not checked).
    pub dkim: Option<Vec<DkimEntry>>,
    /// DMARC.
    pub dmarc: Option<DmarcEntry>,
    /// ARC chain validation.
    pub arc: Option<ArcResult>,
    /// BIMI.
    pub bimi: Option<crate::bimi::BimiResult>,
    /// The signature added: `d=..., s=...`.
    pub signed: Option<String>,
    /// The ARC set added: `i=..., d=..., s=...`.
    pub sealed: Option<String>,
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
        match (&self.client_address, &self.client_name) {
            (Some(ip), Some(name)) => quoted(f, "client", &format!("{name}[{ip}]"))?,
            (Some(ip), None) => write!(f, " client={ip}")?,
            (None, _) => f.write_str(" client=local")?,
        }
        match &self.mode {
            Mode::Verify => f.write_str(" mode=verify")?,
            mode => quoted(f, "mode", &mode.to_string())?,
        }
        quoted(f, "helo", &self.helo)?;
        if let Some(from) = &self.mail_from {
            quoted(f, "from", &format!("<{from}>"))?;
        }
        write!(f, " rcpts={}", self.recipients)?;
        if let Some(result) = self.spf_helo {
            write!(f, " spf_helo={result}")?;
        }
        if let Some(result) = self.spf {
            write!(f, " spf={result}")?;
        }
        match self.dkim.as_deref() {
            Some([]) => f.write_str(" dkim=none")?,
            Some(entries) => {
                for e in entries {
                    let domain = e.domain.as_ref().map_or("", |d| d.as_str());
                    let selector = e.selector.as_deref().unwrap_or("");
                    quoted(f, "dkim", &format!("{}(d={domain},s={selector})", e.result))?;
                }
            }
            None => {}
        }
        if let Some(d) = &self.dmarc {
            let domain = d.author_domain.as_ref().map_or("", |d| d.as_str());
            write!(
                f,
                " dmarc={}(from={domain},p={},disposition={})",
                d.result.as_str(),
                d.policy.map_or("none", |p| p.as_str()),
                d.disposition.as_str()
            )?;
        }
        if let Some(result) = self.arc {
            write!(f, " arc={result}")?;
        }
        if let Some(result) = self.bimi {
            write!(f, " bimi={result}")?;
        }
        if let Some(signed) = &self.signed {
            quoted(f, "signed", signed)?;
        }
        if let Some(sealed) = &self.sealed {
            quoted(f, "sealed", sealed)?;
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
    // The reasons are written only when the settings ask for them.
    let want_why = session.settings.file().log.why;
    let mut why = Vec::new();
    let mut dkim = None;
    let mut dmarc = None;
    let mut arc = None;
    if want_why {
        if let Some(outcome) = &session.spf_helo {
            why.push(format!("spf helo {}: {}", outcome.domain, outcome.reason));
        }
        if let Some(outcome) = &session.spf_mail_from {
            why.push(format!("spf {}: {}", outcome.domain, outcome.reason));
        }
    }
    if let Some(verdict) = &session.verdict {
        if let Some(verification) = &verdict.dkim {
            let mut entries = Vec::with_capacity(verification.signatures.len());
            for s in &verification.signatures {
                if let Some(reason) = s.reason.as_ref().filter(|_| want_why) {
                    let domain = s.domain.as_ref().map_or("", |d| d.as_str());
                    why.push(format!("dkim d={domain}: {reason}"));
                }
                entries.push(DkimEntry {
                    result: s.result,
                    domain: s.domain.clone(),
                    selector: s.selector.clone(),
                });
            }
            dkim = Some(entries);
        }
        if let Some(chain) = &verdict.arc {
            if let Some(reason) = chain.reason.as_ref().filter(|_| want_why) {
                why.push(format!("arc: {reason}"));
            }
            arc = Some(chain.result);
        }
        if let Some(outcome) = &verdict.dmarc {
            if want_why {
                let domain = outcome.author_domain.as_ref().map_or("", |d| d.as_str());
                why.push(format!("dmarc {domain}: {}", outcome.reason));
                if let Some(set_aside) = &outcome.policy_override {
                    why.push(format!(
                        "dmarc {domain} set aside: {}: {}",
                        set_aside.kind, set_aside.comment
                    ));
                }
            }
            dmarc = Some(DmarcEntry {
                result: outcome.result,
                author_domain: outcome.author_domain.clone(),
                policy: outcome.policy,
                disposition: verdict.disposition,
            });
        }
    }
    LogRecord {
        queue_id: session.queue_id.clone(),
        client_address: session.client.address,
        client_name: session.client.name.clone(),
        mode: session.mode.clone(),
        helo: session.helo.clone(),
        mail_from: session.mail_from.clone(),
        recipients: session.recipients,
        spf_helo: session.spf_helo.as_ref().map(|o| o.result),
        spf: session.spf_mail_from.as_ref().map(|o| o.result),
        dkim,
        dmarc,
        arc,
        bimi: session
            .verdict
            .as_ref()
            .and_then(|v| v.bimi.as_ref())
            .map(|b| b.result),
        signed: session.signed.clone(),
        sealed: session.sealed.clone(),
        decided: decided.clone(),
        action: action.clone(),
        decisions: session.decisions.clone(),
        why,
    }
}
