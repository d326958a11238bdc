//! Failure reports (RFC 9991, in the Abuse Reporting Format of RFC 5965
//! with the authentication-failure extension of RFC 6591): the `fo=`
//! decision, the `multipart/report` rendering with redaction, and a rate
//! limiter per destination.

use std::collections::HashMap;

use super::Verdict;
use super::aggregate::{AlignedResult, DkimResult, SpfResult};
use crate::dmarc::record::FailureOptions;

/// A value of the `Auth-Failure` field (RFC 6591 §3.1, with `dmarc` from
/// RFC 7489 §7.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AuthFailure {
    /// DMARC: no (`fo=0`) or not every (`fo=1`) mechanism gave an aligned
    /// pass.
    Dmarc,
    /// A DKIM signature failed evaluation (`fo=d`).
    Dkim,
    /// SPF failed (`fo=s`).
    Spf,
}

impl AuthFailure {
    /// `dmarc`, `dkim` or `spf`.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthFailure::Dmarc => "dmarc",
            AuthFailure::Dkim => "dkim",
            AuthFailure::Spf => "spf",
        }
    }
}

/// Reads an `fo` value as the record parser leaves it
/// ([`Record::tag_value`](crate::dmarc::Record::tag_value):
/// colon-separated `0`, `1`, `d`, `s`); unknown options are ignored and
/// an empty or absent value means `0`.
pub fn parse_failure_options(fo: Option<&str>) -> FailureOptions {
    let mut options = FailureOptions {
        all_fail: false,
        any_fail: false,
        dkim: false,
        spf: false,
    };
    for option in fo.unwrap_or("").split(':').map(str::trim) {
        match option {
            "0" => options.all_fail = true,
            "1" => options.any_fail = true,
            "d" | "D" => options.dkim = true,
            "s" | "S" => options.spf = true,
            _ => {}
        }
    }
    if !(options.all_fail || options.any_fail || options.dkim || options.spf) {
        options.all_fail = true;
    }
    options
}

/// Which failure reports `fo` asks for this message (RFC 9991 and RFC
/// 7489 §6.3 `fo`): empty when none.
///
/// - `0`: `dmarc` when neither DKIM nor SPF gave an aligned pass;
/// - `1`: `dmarc` when either did not;
/// - `d`: `dkim` when a signature failed evaluation (aligned or not);
/// - `s`: `spf` when SPF failed (aligned or not).
pub fn failures_to_report(options: &FailureOptions, verdict: &Verdict) -> Vec<AuthFailure> {
    let dkim_pass = verdict.dkim_aligned == AlignedResult::Pass;
    let spf_pass = verdict.spf_aligned == AlignedResult::Pass;
    let mut out = Vec::new();
    if (options.all_fail && !dkim_pass && !spf_pass)
        || (options.any_fail && !(dkim_pass && spf_pass))
    {
        out.push(AuthFailure::Dmarc);
    }
    if options.dkim
        && verdict.dkim.iter().any(|d| {
            matches!(
                d.result,
                DkimResult::Fail
                    | DkimResult::PermError
                    | DkimResult::TempError
                    | DkimResult::Neutral
            )
        })
    {
        out.push(AuthFailure::Dkim);
    }
    if options.spf
        && verdict.spf.iter().any(|s| {
            matches!(
                s.result,
                SpfResult::Fail | SpfResult::SoftFail | SpfResult::PermError | SpfResult::TempError
            )
        })
    {
        out.push(AuthFailure::Spf);
    }
    out
}

/// How the original message is included.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Redaction {
    /// Include the body (`message/rfc822`); by default only the header
    /// is sent (`text/rfc822-headers`). Default false.
    pub include_body: bool,
    /// Header fields left out entirely (names, any case).
    pub drop_fields: Vec<String>,
    /// Header fields whose value is replaced by `[redacted]`.
    pub redact_fields: Vec<String>,
}

/// What a failure report needs beside the verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailureParams {
    /// The From address of the report.
    pub from: String,
    /// The recipients.
    pub to: Vec<String>,
    /// The Message-ID, without angle brackets.
    pub message_id: String,
    /// The Date field's value (RFC 5322 date-time).
    pub date: String,
    /// When the original message arrived (RFC 5322 date-time), for
    /// `Arrival-Date`.
    pub arrival_date: String,
    /// `User-Agent` of the report (name/version).
    pub user_agent: String,
    /// The MIME boundary.
    pub boundary: String,
    /// The Authentication-Results field value the receiver added to the
    /// message (RFC 6591 requires one).
    pub authentication_results: String,
    /// How the original message is included.
    pub redaction: Redaction,
}

/// Why a failure report cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FailureReportError {
    /// A value bound for a header field contains a control character.
    #[error("{field} contains a control character")]
    ControlCharacter {
        /// The parameter.
        field: &'static str,
    },
    /// No failure to report.
    #[error("no failure to report")]
    NothingToReport,
    /// No recipient.
    #[error("no recipient")]
    NoRecipient,
}

fn safe(field: &'static str, value: &str) -> Result<(), FailureReportError> {
    if value.chars().any(char::is_control) {
        return Err(FailureReportError::ControlCharacter { field });
    }
    Ok(())
}

/// The header block of `message` (up to the empty line), with fields
/// dropped or redacted, each line ending in CRLF.
pub fn redacted_header(message: &[u8], redaction: &Redaction) -> Vec<u8> {
    let mut out = Vec::new();
    let mut fields: Vec<Vec<u8>> = Vec::new();
    for line in message.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            break;
        }
        match fields.last_mut() {
            Some(field) if line[0] == b' ' || line[0] == b'\t' => {
                field.extend_from_slice(b"\r\n");
                field.extend_from_slice(line);
            }
            _ => fields.push(line.to_vec()),
        }
    }
    let listed = |names: &[String], field: &[u8]| {
        let name = field.split(|&b| b == b':').next().unwrap_or(b"");
        let name = String::from_utf8_lossy(name);
        names.iter().any(|n| n.eq_ignore_ascii_case(name.trim()))
    };
    for field in fields {
        if listed(&redaction.drop_fields, &field) {
            continue;
        }
        if listed(&redaction.redact_fields, &field) {
            let name = field.split(|&b| b == b':').next().unwrap_or(b"");
            out.extend_from_slice(name);
            out.extend_from_slice(b": [redacted]\r\n");
        } else {
            out.extend_from_slice(&field);
            out.extend_from_slice(b"\r\n");
        }
    }
    out
}

/// The failure report for one message (RFC 9991; RFC 6591): a
/// `multipart/report; report-type=feedback-report` with a text part, the
/// `message/feedback-report` part (`Feedback-Type: auth-failure`,
/// `Auth-Failure`, `Source-IP`, `Reported-Domain`, ...) and the original
/// header (`text/rfc822-headers`), or the whole message when
/// [`Redaction::include_body`] is set. Lines end in CRLF.
///
/// # Errors
/// [`FailureReportError`] when a header value would break the header, or
/// `failures` is empty.
pub fn failure_report(
    verdict: &Verdict,
    failures: &[AuthFailure],
    original: &[u8],
    params: &FailureParams,
) -> Result<Vec<u8>, FailureReportError> {
    if failures.is_empty() {
        return Err(FailureReportError::NothingToReport);
    }
    if params.to.is_empty() {
        return Err(FailureReportError::NoRecipient);
    }
    for (name, value) in [
        ("from", &params.from),
        ("message_id", &params.message_id),
        ("date", &params.date),
        ("arrival_date", &params.arrival_date),
        ("user_agent", &params.user_agent),
        ("boundary", &params.boundary),
        ("authentication_results", &params.authentication_results),
        ("header_from", &verdict.header_from),
    ] {
        safe(name, value)?;
    }
    for to in &params.to {
        safe("to", to)?;
    }
    let b = &params.boundary;
    let domain = &verdict.header_from;
    let mut out = Vec::new();
    let mut line = |text: &str| {
        out.extend_from_slice(text.as_bytes());
        out.extend_from_slice(b"\r\n");
    };
    line(&format!("From: <{}>", params.from));
    line(&format!(
        "To: {}",
        params
            .to
            .iter()
            .map(|t| format!("<{t}>"))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    line(&format!("Date: {}", params.date));
    line(&format!("Message-ID: <{}>", params.message_id));
    line(&format!(
        "Subject: DMARC failure report for {domain} (ip={})",
        verdict.source_ip
    ));
    line("MIME-Version: 1.0");
    line(&format!(
        "Content-Type: multipart/report; report-type=feedback-report;\r\n\tboundary=\"{b}\""
    ));
    line("");
    line(&format!("--{b}"));
    line("Content-Type: text/plain; charset=us-ascii");
    line("");
    line(&format!(
        "This is an authentication failure report for a message from {} with",
        verdict.source_ip
    ));
    line(&format!(
        "From domain {domain}, received {}.",
        params.arrival_date
    ));
    line("");
    line(&format!("--{b}"));
    line("Content-Type: message/feedback-report");
    line("");
    line("Feedback-Type: auth-failure");
    line(&format!("User-Agent: {}", params.user_agent));
    line("Version: 1");
    for failure in failures {
        line(&format!("Auth-Failure: {}", failure.as_str()));
    }
    line(&format!(
        "Authentication-Results: {}",
        params.authentication_results
    ));
    line(&format!("Arrival-Date: {}", params.arrival_date));
    line(&format!("Source-IP: {}", verdict.source_ip));
    line(&format!("Reported-Domain: {domain}"));
    let mut aligned = Vec::new();
    if verdict.dkim_aligned == AlignedResult::Pass {
        aligned.push("dkim");
    }
    if verdict.spf_aligned == AlignedResult::Pass {
        aligned.push("spf");
    }
    line(&format!(
        "Identity-Alignment: {}",
        if aligned.is_empty() {
            "none".to_owned()
        } else {
            aligned.join(", ")
        }
    ));
    if failures.contains(&AuthFailure::Dkim) {
        for dkim in verdict.dkim.iter().filter(|d| d.result != DkimResult::Pass) {
            if dkim.domain.chars().any(char::is_control) {
                continue;
            }
            line(&format!("DKIM-Domain: {}", dkim.domain));
            if let Some(selector) = dkim
                .selector
                .as_deref()
                .filter(|s| !s.chars().any(char::is_control))
            {
                line(&format!("DKIM-Selector: {selector}"));
            }
        }
    }
    line("");
    line(&format!("--{b}"));
    if params.redaction.include_body {
        line("Content-Type: message/rfc822");
        line("");
        let header = redacted_header(original, &params.redaction);
        let body = body_of(original);
        out.extend_from_slice(&header);
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(body);
        if !body.ends_with(b"\n") {
            out.extend_from_slice(b"\r\n");
        }
    } else {
        line("Content-Type: text/rfc822-headers");
        line("");
        out.extend_from_slice(&redacted_header(original, &params.redaction));
    }
    out.extend_from_slice(format!("\r\n--{b}--\r\n").as_bytes());
    Ok(out)
}

fn body_of(message: &[u8]) -> &[u8] {
    let crlf = memchr::memmem::find(message, b"\r\n\r\n").map(|i| i + 4);
    let lf = memchr::memmem::find(message, b"\n\n").map(|i| i + 2);
    match (crlf, lf) {
        (Some(a), Some(b)) => &message[a.min(b)..],
        (Some(a), None) | (None, Some(a)) => &message[a..],
        (None, None) => &[],
    }
}

/// A rate limit on failure reports per destination: at most
/// `max_per_window` reports in each window of `window_seconds`, for at most
/// `max_destinations` destinations remembered (the least recently
/// started window is forgotten first). Time comes in as an argument.
#[derive(Debug, Clone)]
pub struct RateLimiter {
    window_seconds: u64,
    max_per_window: u32,
    max_destinations: usize,
    windows: HashMap<String, (u64, u32)>,
}

impl RateLimiter {
    /// A limiter of `max_per_window` reports per `window_seconds` and
    /// destination, remembering `max_destinations` destinations.
    pub fn new(window_seconds: u64, max_per_window: u32, max_destinations: usize) -> RateLimiter {
        RateLimiter {
            window_seconds: window_seconds.max(1),
            max_per_window,
            max_destinations: max_destinations.max(1),
            windows: HashMap::new(),
        }
    }

    /// Whether a report to `destination` may go out at `now` (seconds);
    /// if so, it is counted.
    pub fn allow(&mut self, destination: &str, now: u64) -> bool {
        let key = destination.to_ascii_lowercase();
        if !self.windows.contains_key(&key) && self.windows.len() >= self.max_destinations {
            let window = self.window_seconds;
            self.windows
                .retain(|_, (start, _)| now.saturating_sub(*start) < window);
            if self.windows.len() >= self.max_destinations
                && let Some(oldest) = self
                    .windows
                    .iter()
                    .min_by_key(|(_, (start, _))| *start)
                    .map(|(k, _)| k.clone())
            {
                self.windows.remove(&oldest);
            }
        }
        let entry = self.windows.entry(key).or_insert((now, 0));
        if now.saturating_sub(entry.0) >= self.window_seconds || now < entry.0 {
            *entry = (now, 0);
        }
        if entry.1 >= self.max_per_window {
            return false;
        }
        entry.1 += 1;
        true
    }

    /// How many destinations are remembered.
    pub fn len(&self) -> usize {
        self.windows.len()
    }

    /// Whether no destination is remembered.
    pub fn is_empty(&self) -> bool {
        self.windows.is_empty()
    }
}
