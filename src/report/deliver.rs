//! Sending aggregate reports: the destinations of `rua=` with their size
//! limits, the external-destination check on the sans-IO seam, gzip, the
//! file name and the report e-mail (RFC 9990 "Transport"; RFC 7489 §7).
//!
//! Nothing here sends anything or reads the clock: the caller gives the
//! Message-ID and Date and hands the e-mail to its MTA.

use std::io::Write as _;
use std::sync::Arc;

use base64::Engine as _;

use super::aggregate::Feedback;
use super::xml::XmlForm;
use crate::dmarc::PublicSuffixList;
use crate::dns::{Answer, Name, Query};
use crate::machine::{Lookups, Machine, Poll, UnexpectedAnswer};

/// One report destination from `rua=` (or `ruf=`): the URI, its mailbox
/// for `mailto:` and the size limit written after `!` (RFC 7489 §6.2,
/// `dmarc-uri`: `mailto:a@example.com!10m`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Destination {
    /// The URI without its size suffix.
    pub uri: String,
    /// The address of a `mailto:` URI (percent-decoding not applied;
    /// `None` for another scheme).
    pub mailbox: Option<String>,
    /// The largest report the destination accepts, in bytes.
    pub max_bytes: Option<u64>,
}

impl Destination {
    /// Reads one `dmarc-uri`. `None` when the size suffix is malformed
    /// (such a URI is ignored, as the record parser ignores bad URIs).
    pub fn parse(text: &str) -> Option<Destination> {
        let text = text.trim();
        let (uri, max_bytes) = match text.rsplit_once('!') {
            Some((uri, size)) => (uri, Some(parse_size(size)?)),
            None => (text, None),
        };
        let mailbox = uri
            .get(..7)
            .filter(|s| s.eq_ignore_ascii_case("mailto:"))
            .map(|_| uri[7..].split('?').next().unwrap_or("").to_owned())
            .filter(|m| m.contains('@'));
        Some(Destination {
            uri: uri.to_owned(),
            mailbox,
            max_bytes,
        })
    }

    /// The domain of the mailbox, lowercase.
    pub fn domain(&self) -> Option<String> {
        let mailbox = self.mailbox.as_ref()?;
        let (_, domain) = mailbox.rsplit_once('@')?;
        Some(domain.trim_end_matches('.').to_ascii_lowercase())
    }

    /// Whether a report of `size` bytes (as sent: the compressed
    /// attachment) fits this destination's limit.
    pub fn accepts(&self, size: u64) -> bool {
        self.max_bytes.is_none_or(|max| size <= max)
    }
}

/// `1*DIGIT [ "k" / "m" / "g" / "t" ]`, in bytes (saturating).
fn parse_size(text: &str) -> Option<u64> {
    let (digits, unit) = match text.char_indices().last()? {
        (at, c) if c.is_ascii_alphabetic() => (&text[..at], c.to_ascii_lowercase()),
        _ => (text, ' '),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let value: u64 = digits.parse().ok()?;
    let shift = match unit {
        ' ' => 0,
        'k' => 10,
        'm' => 20,
        'g' => 30,
        't' => 40,
        _ => return None,
    };
    Some(value.saturating_mul(1u64 << shift))
}

/// The destinations of a URI list, at most `max` of them (the limit a
/// receiver sets on how many it sends to; RFC 7489 §6.2 says receivers
/// MAY limit them, two being the minimum honoured), malformed ones
/// skipped, duplicates removed.
pub fn destinations<S: AsRef<str>>(uris: &[S], max: usize) -> Vec<Destination> {
    let mut out: Vec<Destination> = Vec::new();
    for uri in uris {
        if out.len() >= max {
            break;
        }
        if let Some(d) = Destination::parse(uri.as_ref())
            && !out.iter().any(|o| o.uri.eq_ignore_ascii_case(&d.uri))
        {
            out.push(d);
        }
    }
    out
}

/// Whether a destination may receive the policy domain's reports.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Authorization {
    /// Same Organizational Domain: no check needed.
    SameOrganization,
    /// The destination published
    /// `<policy-domain>._report._dmarc.<destination-domain>` with
    /// `v=DMARC1`.
    Authorized,
    /// It did not (no record, or no record starting with `v=DMARC1`).
    NotAuthorized,
    /// The lookup failed temporarily: try again later.
    TempError,
    /// Not a `mailto:` URI, or a name that cannot be formed: not sent.
    Unusable,
}

/// The external-destination check (RFC 9990 "Verifying External
/// Destinations", RFC 7489 §7.1): for each `mailto:` destination whose
/// Organizational Domain differs from the policy domain's, the TXT
/// record `<policy-domain>._report._dmarc.<destination-domain>` must
/// exist and start with `v=DMARC1`.
///
/// A [`Machine`]: poll, supply the TXT answers, get one
/// [`Authorization`] per destination, in order. (The RFC's override of
/// the URI by a `rua=` in that record is not applied: reports go only to
/// the URI the Domain Owner published.)
#[derive(Debug, Clone)]
pub struct ExternalCheck {
    destinations: Vec<(Destination, Option<Query>, Authorization)>,
    lookups: Lookups,
}

impl ExternalCheck {
    /// The check of `destinations` for reports about `policy_domain`;
    /// Organizational Domains come from `psl`.
    pub fn new(
        policy_domain: &Name,
        destinations: Vec<Destination>,
        psl: &Arc<PublicSuffixList>,
    ) -> ExternalCheck {
        let policy_org = psl.organizational_domain(policy_domain);
        let mut lookups = Lookups::default();
        let destinations = destinations
            .into_iter()
            .map(|d| {
                let Some(domain) = d.domain().and_then(|d| Name::new(&d).ok()) else {
                    return (d, None, Authorization::Unusable);
                };
                if psl.organizational_domain(&domain) == policy_org {
                    return (d, None, Authorization::SameOrganization);
                }
                let name = format!("{policy_domain}._report._dmarc.{domain}");
                match Name::new(&name) {
                    Ok(name) => {
                        let query = Query::txt(name);
                        lookups.ask(query.clone());
                        (d, Some(query), Authorization::NotAuthorized)
                    }
                    Err(_) => (d, None, Authorization::Unusable),
                }
            })
            .collect();
        ExternalCheck {
            destinations,
            lookups,
        }
    }
}

fn authorization(answer: &Answer) -> Authorization {
    match answer {
        Answer::TempFail(_) => Authorization::TempError,
        Answer::Records(_) => {
            let found = answer.txt().unwrap_or_default().iter().any(|txt| {
                let text = txt.joined();
                let text = String::from_utf8_lossy(&text);
                let mut tags = text.split(';');
                tags.next().is_some_and(|first| {
                    first
                        .split_once('=')
                        .is_some_and(|(k, v)| k.trim() == "v" && v.trim() == "DMARC1")
                })
            });
            if found {
                Authorization::Authorized
            } else {
                Authorization::NotAuthorized
            }
        }
        _ => Authorization::NotAuthorized,
    }
}

impl Machine for ExternalCheck {
    type Output = Vec<(Destination, Authorization)>;

    fn poll(&mut self) -> Poll<Self::Output> {
        let open = self.lookups.open();
        if !open.is_empty() {
            return Poll::Lookups(open);
        }
        Poll::Done(
            self.destinations
                .iter()
                .map(|(d, query, default)| {
                    let result = match query.as_ref().and_then(|q| self.lookups.answer(q)) {
                        Some(answer) => authorization(answer),
                        None => default.clone(),
                    };
                    (d.clone(), result)
                })
                .collect(),
        )
    }

    fn supply(&mut self, query: &Query, answer: Answer) -> Result<(), UnexpectedAnswer> {
        self.lookups.supply(query, answer)
    }
}

/// Compresses with gzip (default level).
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing to a Vec cannot fail.
    let _ = encoder.write_all(data);
    encoder.finish().unwrap_or_default()
}

/// The report's file name (RFC 9990 "Report Filename"):
/// `receiver "!" policy-domain "!" begin "!" end [ "!" unique-id ] "." ext`,
/// with `ext` `xml.gz` (or `xml` when `compressed` is false). Characters
/// other than letters, digits, `.`, `-` and `_` in the parts are left out.
pub fn filename(
    receiver: &str,
    feedback: &Feedback,
    unique_id: Option<&str>,
    compressed: bool,
) -> String {
    let clean = |s: &str| -> String {
        s.chars()
            .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
            .collect()
    };
    let range = feedback.metadata.date_range;
    let mut name = format!(
        "{}!{}!{}!{}",
        clean(receiver),
        clean(&feedback.policy_published.domain),
        range.begin,
        range.end
    );
    if let Some(unique) = unique_id {
        name.push('!');
        name.push_str(&clean(unique));
    }
    name.push_str(if compressed { ".xml.gz" } else { ".xml" });
    name
}

/// What the report e-mail needs beside the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailParams {
    /// The From address (the reporting organization's mailbox).
    pub from: String,
    /// The recipients (the `mailto:` addresses of the destinations).
    pub to: Vec<String>,
    /// The receiver's domain: `Submitter:` and the file name.
    pub receiver: String,
    /// The Message-ID, without angle brackets.
    pub message_id: String,
    /// The Date field's value (RFC 5322 date-time), from the caller's
    /// clock.
    pub date: String,
    /// The MIME boundary; it must not occur in the parts (base64 and the
    /// fixed text cannot contain `=_`, which it should).
    pub boundary: String,
    /// The optional unique part of the file name.
    pub unique_id: Option<String>,
    /// The XML form of the attachment.
    pub form: XmlForm,
}

/// Why the e-mail cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EmailError {
    /// A value bound for a header field contains a line break or another
    /// control character (it could add header fields).
    #[error("{field} contains a control character")]
    ControlCharacter {
        /// The parameter.
        field: &'static str,
    },
    /// No recipient.
    #[error("no recipient")]
    NoRecipient,
}

fn header_safe(field: &'static str, value: &str) -> Result<(), EmailError> {
    if value.chars().any(|c| c.is_control()) {
        return Err(EmailError::ControlCharacter { field });
    }
    Ok(())
}

/// The report e-mail (RFC 9990 "Email Transport"): Subject
/// `Report Domain: <policy domain> Submitter: <receiver> Report-ID: <id>`,
/// a multipart/mixed body with a short text part and the gzipped XML as
/// `application/gzip` attachment, lines ending in CRLF.
///
/// Returns the message and the size of the compressed attachment (to
/// compare with [`Destination::accepts`]).
///
/// # Errors
/// [`EmailError`] when a header value would break the header.
pub fn report_email(
    feedback: &Feedback,
    params: &EmailParams,
) -> Result<(Vec<u8>, u64), EmailError> {
    header_safe("from", &params.from)?;
    header_safe("receiver", &params.receiver)?;
    header_safe("message_id", &params.message_id)?;
    header_safe("date", &params.date)?;
    header_safe("boundary", &params.boundary)?;
    header_safe("report_id", &feedback.metadata.report_id)?;
    header_safe("policy domain", &feedback.policy_published.domain)?;
    if params.to.is_empty() {
        return Err(EmailError::NoRecipient);
    }
    for to in &params.to {
        header_safe("to", to)?;
    }
    let xml = feedback.to_xml(params.form);
    let compressed = gzip(xml.as_bytes());
    let name = filename(
        &params.receiver,
        feedback,
        params.unique_id.as_deref(),
        true,
    );
    let domain = &feedback.policy_published.domain;
    let mut fields: Vec<String> = Vec::new();
    let mut add = |text: String| fields.push(text);
    add(format!("From: <{}>", params.from));
    add(format!(
        "To: {}",
        params
            .to
            .iter()
            .map(|t| format!("<{t}>"))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    add(format!("Date: {}", params.date));
    add(format!("Message-ID: <{}>", params.message_id));
    add(format!(
        "Subject: Report Domain: {domain} Submitter: {} Report-ID: <{}>",
        params.receiver, feedback.metadata.report_id
    ));
    add("MIME-Version: 1.0".to_owned());
    add(format!(
        "Content-Type: multipart/mixed; boundary=\"{}\"",
        params.boundary
    ));
    let mut out = String::new();
    for field in &fields {
        out.push_str(&fold(field));
        out.push_str("\r\n");
    }
    let b = &params.boundary;
    out.push_str("\r\nThis is a MIME message.\r\n");
    out.push_str(&format!(
        "--{b}\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
    ));
    out.push_str(&format!(
        "This is an aggregate DMARC report for {domain} from {} ({} records,\r\n\
         {} messages, {} to {}).\r\n",
        params.receiver,
        feedback.records.len(),
        feedback.message_count(),
        feedback.metadata.date_range.begin,
        feedback.metadata.date_range.end
    ));
    out.push_str(&format!(
        "--{b}\r\nContent-Type: application/gzip;\r\n name=\"{name}\"\r\n\
         Content-Transfer-Encoding: base64\r\n\
         Content-Disposition: attachment;\r\n filename=\"{name}\"\r\n\r\n"
    ));
    let encoded = base64::engine::general_purpose::STANDARD.encode(&compressed);
    for chunk in encoded.as_bytes().chunks(76) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push_str("\r\n");
    }
    out.push_str(&format!("--{b}--\r\n"));
    Ok((out.into_bytes(), compressed.len() as u64))
}

/// Folds a header field at spaces so that lines stay under 78 characters
/// where possible.
fn fold(field: &str) -> String {
    let mut out = String::with_capacity(field.len() + 8);
    let mut line = 0;
    for (i, word) in field.split(' ').enumerate() {
        if i > 0 {
            if line + 1 + word.len() > 76 {
                out.push_str("\r\n ");
                line = 1;
            } else {
                out.push(' ');
                line += 1;
            }
        }
        out.push_str(word);
        line += word.len();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dns::ZoneResolver;

    #[test]
    fn sizes_and_lists() {
        let d = Destination::parse("mailto:dmarc@example.com!10m").unwrap();
        assert_eq!(d.max_bytes, Some(10 << 20));
        assert_eq!(d.mailbox.as_deref(), Some("dmarc@example.com"));
        assert!(d.accepts(10 << 20));
        assert!(!d.accepts((10 << 20) + 1));
        assert_eq!(Destination::parse("mailto:a@b!x"), None);
        assert_eq!(
            Destination::parse("mailto:a@b!12").unwrap().max_bytes,
            Some(12)
        );
        let list = destinations(
            &[
                "mailto:a@x.org",
                "mailto:a@x.org",
                "mailto:b@y.org!1k",
                "mailto:c@z.org",
            ],
            2,
        );
        assert_eq!(list.len(), 2);
        assert_eq!(list[1].max_bytes, Some(1024));
    }

    #[test]
    fn external_destinations() {
        let zone = ZoneResolver::from_zone_text(
            "$ORIGIN example.net.\n\
             example.com._report._dmarc 300 IN TXT \"v=DMARC1\"\n\
             example.org._report._dmarc 300 IN TXT \"v=spf1 -all\"\n",
        )
        .unwrap();
        let psl = PublicSuffixList::bundled();
        let dests = destinations(
            &[
                "mailto:rua@example.net",
                "mailto:rua@sub.example.com",
                "https://example.net/rua",
            ],
            10,
        );
        let check = ExternalCheck::new(&Name::new("example.com").unwrap(), dests.clone(), &psl);
        let got = crate::resolve(check, &zone);
        let results: Vec<_> = got.iter().map(|(_, a)| a.clone()).collect();
        assert_eq!(
            results,
            vec![
                Authorization::Authorized,
                Authorization::SameOrganization,
                Authorization::Unusable
            ]
        );
        let check = ExternalCheck::new(&Name::new("example.org").unwrap(), dests, &psl);
        let got = crate::resolve(check, &zone);
        assert_eq!(got[0].1, Authorization::NotAuthorized);
        assert_eq!(got[1].1, Authorization::NotAuthorized);
    }
}
