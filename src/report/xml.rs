//! Aggregate report XML: rendering ([`Feedback::to_xml`]) and reading
//! ([`Feedback::from_xml`]).
//!
//! Two forms are written: RFC 9990's (the default, in the namespace
//! [`NAMESPACE`]) and RFC 7489 appendix C's, without namespace, for
//! receivers of reports that still expect it ([`XmlForm::Rfc7489`]).
//!
//! Reading accepts both forms, with or without namespace prefixes, and
//! the old draft form (no `<version>`). It is strict about what could
//! make the work unbounded or the result ambiguous: a `DOCTYPE` (and so
//! any entity declaration) is refused, as is any entity reference other
//! than the five predefined ones and character references; the input
//! size, the element depth and the number of records are bounded by
//! [`XmlLimits`]. Keyword values are lenient (unknown words are kept as
//! `Other`), numbers and addresses are not.

use std::fmt::Write as _;
use std::net::IpAddr;

use quick_xml::escape::escape;
use quick_xml::events::Event;

use super::aggregate::{
    AlignedResult, Alignment, AuthResults, DateRange, DiscoveryMethod, Disposition, DkimAuthResult,
    DkimResult, Feedback, Identifiers, PolicyEvaluated, PolicyOverride, PolicyOverrideReason,
    PolicyPublished, PublishedPolicy, Record, ReportMetadata, Row, SpfAuthResult, SpfResult,
    SpfScope,
};

/// The XML namespace of RFC 9990 reports.
pub const NAMESPACE: &str = "urn:ietf:params:xml:ns:dmarc-2.0";

/// Which form of the report to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum XmlForm {
    /// RFC 9990, in the namespace [`NAMESPACE`] (the default).
    #[default]
    Rfc9990,
    /// RFC 7489 appendix C, without namespace: `sp`, `pct` and `fo` always
    /// written (with their defaults), no `np`, `testing`,
    /// `discovery_method` or `generator`; a `pass` disposition is written
    /// `none`.
    Rfc7489,
}

/// Bounds on reading a report's XML. The defaults take the largest real
/// reports (hundreds of thousands of rows) and refuse what is far beyond.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct XmlLimits {
    /// The largest document read, in bytes. Default 256 MiB.
    pub max_bytes: usize,
    /// The deepest element nesting. Default 16 (a report needs 5).
    pub max_depth: usize,
    /// The most `<record>` elements. Default 1,000,000.
    pub max_records: usize,
}

impl Default for XmlLimits {
    fn default() -> XmlLimits {
        XmlLimits {
            max_bytes: 256 << 20,
            max_depth: 16,
            max_records: 1_000_000,
        }
    }
}

/// Why a document is not a readable aggregate report.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum XmlError {
    /// The document is longer than [`XmlLimits::max_bytes`].
    #[error("report is larger than {limit} bytes")]
    TooLarge {
        /// The limit.
        limit: usize,
    },
    /// Elements nest deeper than [`XmlLimits::max_depth`].
    #[error("elements nest deeper than {limit}")]
    TooDeep {
        /// The limit.
        limit: usize,
    },
    /// More records than [`XmlLimits::max_records`].
    #[error("report has more than {limit} records")]
    TooManyRecords {
        /// The limit.
        limit: usize,
    },
    /// The document has a `DOCTYPE` declaration (refused: it could
    /// declare entities).
    #[error("DOCTYPE declarations are refused")]
    DoctypeRefused,
    /// An entity reference other than `&lt;`, `&gt;`, `&amp;`, `&apos;`,
    /// `&quot;` and character references.
    #[error("unknown entity reference &{name};")]
    UnknownEntity {
        /// The entity name.
        name: String,
    },
    /// The XML is not well-formed.
    #[error("malformed XML at byte {position}: {message}")]
    Syntax {
        /// Where the parser stopped.
        position: u64,
        /// What it found.
        message: String,
    },
    /// The document ends inside an element, or has no element.
    #[error("the XML document is truncated or empty")]
    Truncated,
    /// The root element is not `<feedback>`.
    #[error("not an aggregate report: root element <{root}>")]
    NotAReport {
        /// The root element's local name.
        root: String,
    },
    /// A required element is missing.
    #[error("missing element <{element}> in <{parent}>")]
    Missing {
        /// The element.
        element: &'static str,
        /// Where it was expected.
        parent: &'static str,
    },
    /// An element's value cannot be read (a number, an IP address).
    #[error("bad value in <{element}>: {value:?}")]
    BadValue {
        /// The element.
        element: &'static str,
        /// Its text (at most 64 characters).
        value: String,
    },
}

/// An element read: local name, text (trimmed, entities resolved) and
/// children.
#[derive(Debug, Default)]
struct Node {
    name: String,
    text: String,
    children: Vec<Node>,
}

impl Node {
    fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }

    fn children<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    fn text_of(&self, name: &str) -> Option<String> {
        self.child(name).map(|c| c.text.trim().to_owned())
    }

    /// The text of an optional child, `None` also when empty.
    fn optional(&self, name: &str) -> Option<String> {
        self.text_of(name).filter(|t| !t.is_empty())
    }

    fn required(&self, name: &'static str, parent: &'static str) -> Result<&Node, XmlError> {
        self.child(name).ok_or(XmlError::Missing {
            element: name,
            parent,
        })
    }
}

fn bad_value(element: &'static str, value: &str) -> XmlError {
    XmlError::BadValue {
        element,
        value: value.chars().take(64).collect(),
    }
}

fn number<T: std::str::FromStr>(node: &Node, element: &'static str) -> Result<T, XmlError> {
    let text = node.text.trim();
    text.parse().map_err(|_| bad_value(element, text))
}

fn local_name(qualified: &str) -> String {
    match qualified.rsplit_once(':') {
        Some((_, local)) => local.to_owned(),
        None => qualified.to_owned(),
    }
}

/// Reads an XML document into a tree, within `limits`. Each `<record>`
/// child of a `<feedback>` element is handed to `on_record` as soon as it
/// ends and is not kept in the tree, so that memory stays proportional to
/// one record, not to the report.
fn read_tree(
    input: &[u8],
    limits: &XmlLimits,
    mut on_record: impl FnMut(&Node) -> Result<(), XmlError>,
) -> Result<Node, XmlError> {
    if input.len() > limits.max_bytes {
        return Err(XmlError::TooLarge {
            limit: limits.max_bytes,
        });
    }
    let input = input.strip_prefix(b"\xef\xbb\xbf").unwrap_or(input);
    let text = String::from_utf8_lossy(input);
    let mut reader = quick_xml::Reader::from_str(&text);
    let config = reader.config_mut();
    config.check_end_names = true;
    config.expand_empty_elements = true;
    let mut stack: Vec<Node> = Vec::new();
    let mut root: Option<Node> = None;
    let mut records = 0usize;
    loop {
        let event = reader.read_event().map_err(|e| XmlError::Syntax {
            position: reader.error_position(),
            message: e.to_string(),
        })?;
        match event {
            Event::Start(start) => {
                if root.is_some() {
                    return Err(XmlError::Syntax {
                        position: reader.buffer_position(),
                        message: "content after the root element".into(),
                    });
                }
                if stack.len() >= limits.max_depth {
                    return Err(XmlError::TooDeep {
                        limit: limits.max_depth,
                    });
                }
                let name = local_name(start.name().as_ref());
                if name == "record" && stack.last().is_some_and(|p| p.name == "feedback") {
                    records += 1;
                    if records > limits.max_records {
                        return Err(XmlError::TooManyRecords {
                            limit: limits.max_records,
                        });
                    }
                }
                stack.push(Node {
                    name,
                    ..Node::default()
                });
            }
            Event::End(_) => {
                // check_end_names makes quick-xml refuse an unmatched end.
                let node = stack.pop().ok_or(XmlError::Truncated)?;
                match stack.last_mut() {
                    Some(parent) if parent.name == "feedback" && node.name == "record" => {
                        on_record(&node)?;
                    }
                    Some(parent) => parent.children.push(node),
                    None => root = Some(node),
                }
            }
            Event::Text(content) => {
                let content = content.xml10_content();
                match stack.last_mut() {
                    Some(node) => node.text.push_str(&content),
                    None if content.trim().is_empty() => {}
                    None => {
                        return Err(XmlError::Syntax {
                            position: reader.buffer_position(),
                            message: "text outside the root element".into(),
                        });
                    }
                }
            }
            Event::CData(content) => {
                if let Some(node) = stack.last_mut() {
                    node.text.push_str(&content.xml10_content());
                }
            }
            Event::GeneralRef(reference) => {
                let resolved = match reference.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    Ok(None) => {
                        let name = reference.xml10_content();
                        match quick_xml::escape::resolve_predefined_entity(&name) {
                            Some(value) => value.to_owned(),
                            None => {
                                return Err(XmlError::UnknownEntity {
                                    name: name.chars().take(64).collect(),
                                });
                            }
                        }
                    }
                    Err(e) => {
                        return Err(XmlError::Syntax {
                            position: reader.buffer_position(),
                            message: e.to_string(),
                        });
                    }
                };
                if let Some(node) = stack.last_mut() {
                    node.text.push_str(&resolved);
                }
            }
            Event::DocType(_) => return Err(XmlError::DoctypeRefused),
            Event::Empty(_) | Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            Event::Eof => break,
        }
    }
    // Leniency: a complete <feedback> inside a wrapper element that is
    // never closed (one receiver sends its report inside an unclosed
    // <xs:schema> start tag) is read; tests/report_parse.rs, ikea.com.
    if let Some(root) = root {
        return Ok(root);
    }
    stack
        .into_iter()
        .find_map(|mut node| {
            let at = node.children.iter().position(|c| c.name == "feedback")?;
            Some(node.children.swap_remove(at))
        })
        .ok_or(XmlError::Truncated)
}

fn metadata(node: &Node) -> Result<ReportMetadata, XmlError> {
    const P: &str = "report_metadata";
    let range = node.required("date_range", P)?;
    let date_range = DateRange {
        begin: number(range.required("begin", "date_range")?, "begin")?,
        end: number(range.required("end", "date_range")?, "end")?,
    };
    Ok(ReportMetadata {
        org_name: node.required("org_name", P)?.text.trim().to_owned(),
        // Required by both schemas, but some reporters leave it out; an
        // empty contact does not keep the report from being read.
        email: node.text_of("email").unwrap_or_default(),
        extra_contact_info: node.optional("extra_contact_info"),
        report_id: node.required("report_id", P)?.text.trim().to_owned(),
        date_range,
        errors: node
            .children("error")
            .map(|e| e.text.trim().to_owned())
            .filter(|e| !e.is_empty())
            .collect(),
        generator: node.optional("generator"),
    })
}

fn policy_published(node: &Node) -> Result<PolicyPublished, XmlError> {
    let keyword = |name: &str| node.optional(name);
    let testing = match keyword("testing") {
        None => None,
        Some(t) if t.eq_ignore_ascii_case("y") => Some(true),
        Some(t) if t.eq_ignore_ascii_case("n") => Some(false),
        Some(t) => return Err(bad_value("testing", &t)),
    };
    let percent = match node.optional("pct") {
        None => None,
        Some(pct) => Some(
            pct.parse::<u8>()
                .ok()
                .filter(|p| *p <= 100)
                .ok_or_else(|| bad_value("pct", &pct))?,
        ),
    };
    Ok(PolicyPublished {
        domain: node
            .required("domain", "policy_published")?
            .text
            .trim()
            .to_owned(),
        dkim_alignment: keyword("adkim").map(|a| Alignment::parse(&a)),
        spf_alignment: keyword("aspf").map(|a| Alignment::parse(&a)),
        policy: keyword("p").map(|p| PublishedPolicy::parse(&p)),
        subdomain_policy: keyword("sp").map(|p| PublishedPolicy::parse(&p)),
        nonexistent_subdomain_policy: keyword("np").map(|p| PublishedPolicy::parse(&p)),
        testing,
        percent,
        failure_options: keyword("fo"),
        discovery_method: keyword("discovery_method").map(|d| DiscoveryMethod::parse(&d)),
    })
}

fn record(node: &Node) -> Result<Record, XmlError> {
    const P: &str = "record";
    let row = node.required("row", P)?;
    let ip_text = row.required("source_ip", "row")?.text.trim();
    let source_ip: IpAddr = ip_text
        .parse()
        .map_err(|_| bad_value("source_ip", ip_text))?;
    let count = number(row.required("count", "row")?, "count")?;
    let evaluated = row.required("policy_evaluated", "row")?;
    let policy_evaluated = PolicyEvaluated {
        disposition: Disposition::parse(
            &evaluated.required("disposition", "policy_evaluated")?.text,
        ),
        dkim: evaluated.optional("dkim").map(|r| AlignedResult::parse(&r)),
        spf: evaluated.optional("spf").map(|r| AlignedResult::parse(&r)),
        reasons: evaluated
            .children("reason")
            .filter_map(|reason| {
                // An empty <reason/> says nothing.
                let kind = reason.optional("type")?;
                Some(PolicyOverrideReason {
                    kind: PolicyOverride::parse(&kind),
                    comment: reason.optional("comment"),
                })
            })
            .collect(),
    };
    // The old draft form calls it <identities>.
    let identifiers = node
        .child("identifiers")
        .or_else(|| node.child("identities"))
        .ok_or(XmlError::Missing {
            element: "identifiers",
            parent: P,
        })?;
    let identifiers = Identifiers {
        header_from: identifiers.text_of("header_from").unwrap_or_default(),
        envelope_from: identifiers.text_of("envelope_from"),
        envelope_to: identifiers.optional("envelope_to"),
    };
    let mut auth_results = AuthResults::default();
    if let Some(auth) = node.child("auth_results") {
        for dkim in auth.children("dkim") {
            auth_results.dkim.push(DkimAuthResult {
                domain: dkim.text_of("domain").unwrap_or_default(),
                selector: dkim.optional("selector"),
                result: DkimResult::parse(&dkim.text_of("result").unwrap_or_default()),
                human_result: dkim.optional("human_result"),
            });
        }
        for spf in auth.children("spf") {
            auth_results.spf.push(SpfAuthResult {
                domain: spf.text_of("domain").unwrap_or_default(),
                scope: spf.optional("scope").map(|s| SpfScope::parse(&s)),
                result: SpfResult::parse(&spf.text_of("result").unwrap_or_default()),
                human_result: spf.optional("human_result"),
            });
        }
    }
    Ok(Record {
        row: Row {
            source_ip,
            count,
            policy_evaluated,
        },
        identifiers,
        auth_results,
    })
}

impl Feedback {
    /// Reads an aggregate report's XML (either form, namespace or not),
    /// within `limits`.
    ///
    /// # Errors
    /// An [`XmlError`] saying why the document is not a readable report.
    pub fn from_xml(input: &[u8], limits: &XmlLimits) -> Result<Feedback, XmlError> {
        let mut records = Vec::new();
        let root = read_tree(input, limits, |node| {
            records.push(record(node)?);
            Ok(())
        })?;
        if root.name != "feedback" {
            return Err(XmlError::NotAReport { root: root.name });
        }
        let metadata = metadata(root.required("report_metadata", "feedback")?)?;
        let policy_published = policy_published(root.required("policy_published", "feedback")?)?;
        Ok(Feedback {
            version: root.optional("version"),
            metadata,
            policy_published,
            records,
        })
    }

    /// The report as XML in `form`, with an XML declaration, indented.
    /// Every text is escaped, so no value can add markup.
    pub fn to_xml(&self, form: XmlForm) -> String {
        let mut w = XmlWriter {
            out: String::with_capacity(1024 + self.records.len() * 700),
            depth: 0,
        };
        w.out
            .push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        match form {
            XmlForm::Rfc9990 => w.open_attr("feedback", "xmlns", NAMESPACE),
            XmlForm::Rfc7489 => w.open("feedback"),
        }
        w.leaf("version", self.version.as_deref().unwrap_or("1.0"));
        self.write_metadata(&mut w, form);
        self.write_policy(&mut w, form);
        for record in &self.records {
            write_record(&mut w, record, form);
        }
        w.close("feedback");
        w.out
    }

    fn write_metadata(&self, w: &mut XmlWriter, form: XmlForm) {
        let m = &self.metadata;
        w.open("report_metadata");
        w.leaf("org_name", &m.org_name);
        w.leaf("email", &m.email);
        w.optional("extra_contact_info", m.extra_contact_info.as_deref());
        w.leaf("report_id", &m.report_id);
        w.open("date_range");
        w.leaf("begin", &m.date_range.begin.to_string());
        w.leaf("end", &m.date_range.end.to_string());
        w.close("date_range");
        match form {
            // RFC 9990 allows one <error>.
            XmlForm::Rfc9990 if !m.errors.is_empty() => w.leaf("error", &m.errors.join("; ")),
            XmlForm::Rfc9990 => {}
            _ => m.errors.iter().for_each(|e| w.leaf("error", e)),
        }
        if form == XmlForm::Rfc9990 {
            w.optional("generator", m.generator.as_deref());
        }
        w.close("report_metadata");
    }

    fn write_policy(&self, w: &mut XmlWriter, form: XmlForm) {
        let p = &self.policy_published;
        let policy = p.policy.as_ref().map_or("none", PublishedPolicy::as_str);
        w.open("policy_published");
        w.leaf("domain", &p.domain);
        w.optional("adkim", p.dkim_alignment.as_ref().map(Alignment::as_str));
        w.optional("aspf", p.spf_alignment.as_ref().map(Alignment::as_str));
        w.leaf("p", policy);
        match form {
            XmlForm::Rfc9990 => {
                w.optional(
                    "sp",
                    p.subdomain_policy.as_ref().map(PublishedPolicy::as_str),
                );
                w.optional(
                    "np",
                    p.nonexistent_subdomain_policy
                        .as_ref()
                        .map(PublishedPolicy::as_str),
                );
                w.optional(
                    "discovery_method",
                    p.discovery_method.as_ref().map(DiscoveryMethod::as_str),
                );
                w.optional("fo", p.failure_options.as_deref());
                w.optional("testing", p.testing.map(|t| if t { "y" } else { "n" }));
            }
            _ => {
                let sp = p
                    .subdomain_policy
                    .as_ref()
                    .map_or(policy, PublishedPolicy::as_str);
                w.leaf("sp", sp);
                w.leaf("pct", &p.percent.unwrap_or(100).to_string());
                w.leaf("fo", p.failure_options.as_deref().unwrap_or("0"));
            }
        }
        w.close("policy_published");
    }
}

fn write_record(w: &mut XmlWriter, record: &Record, form: XmlForm) {
    let rfc9990 = form == XmlForm::Rfc9990;
    let evaluated = &record.row.policy_evaluated;
    w.open("record");
    w.open("row");
    w.leaf("source_ip", &record.row.source_ip.to_string());
    w.leaf("count", &record.row.count.to_string());
    w.open("policy_evaluated");
    let disposition = match &evaluated.disposition {
        Disposition::Pass if !rfc9990 => "none",
        other => other.as_str(),
    };
    w.leaf("disposition", disposition);
    w.leaf("dkim", aligned(&evaluated.dkim));
    w.leaf("spf", aligned(&evaluated.spf));
    for reason in &evaluated.reasons {
        w.open("reason");
        // Types RFC 9990 dropped are written as "other", named in the
        // comment.
        let (kind, comment) = match &reason.kind {
            PolicyOverride::Forwarded | PolicyOverride::SampledOut if rfc9990 => (
                "other",
                Some(
                    reason
                        .comment
                        .clone()
                        .unwrap_or_else(|| reason.kind.as_str().to_owned()),
                ),
            ),
            PolicyOverride::PolicyTestMode if !rfc9990 => (
                "other",
                Some(
                    reason
                        .comment
                        .clone()
                        .unwrap_or_else(|| reason.kind.as_str().to_owned()),
                ),
            ),
            kind => (kind.as_str(), reason.comment.clone()),
        };
        w.leaf("type", kind);
        w.optional("comment", comment.as_deref());
        w.close("reason");
    }
    w.close("policy_evaluated");
    w.close("row");
    let ids = &record.identifiers;
    w.open("identifiers");
    if rfc9990 {
        w.leaf("header_from", &ids.header_from);
        w.optional("envelope_from", ids.envelope_from.as_deref());
        w.optional("envelope_to", ids.envelope_to.as_deref());
    } else {
        w.optional("envelope_to", ids.envelope_to.as_deref());
        w.optional("envelope_from", ids.envelope_from.as_deref());
        w.leaf("header_from", &ids.header_from);
    }
    w.close("identifiers");
    w.open("auth_results");
    for dkim in &record.auth_results.dkim {
        w.open("dkim");
        w.leaf("domain", &dkim.domain);
        match (&dkim.selector, rfc9990) {
            (Some(selector), _) => w.leaf("selector", selector),
            (None, true) => w.leaf("selector", ""),
            (None, false) => {}
        }
        w.leaf("result", dkim.result.as_str());
        w.optional("human_result", dkim.human_result.as_deref());
        w.close("dkim");
    }
    // RFC 9990: zero or one SPF result; RFC 7489: at least one.
    let spf: &[SpfAuthResult] = if rfc9990 {
        record.auth_results.spf.get(..1).unwrap_or(&[])
    } else {
        &record.auth_results.spf
    };
    for spf in spf {
        w.open("spf");
        w.leaf("domain", &spf.domain);
        match (&spf.scope, rfc9990) {
            (Some(SpfScope::MailFrom), _) => w.leaf("scope", "mfrom"),
            // RFC 9990 knows only mfrom: another scope is left out.
            (_, true) => {}
            (Some(scope), false) => w.leaf("scope", scope.as_str()),
            (None, false) => w.leaf("scope", "mfrom"),
        }
        w.leaf("result", spf.result.as_str());
        w.optional("human_result", spf.human_result.as_deref());
        w.close("spf");
    }
    if !rfc9990 && spf.is_empty() {
        w.open("spf");
        let domain = ids.envelope_from.as_deref().unwrap_or(&ids.header_from);
        w.leaf("domain", domain);
        w.leaf("scope", "mfrom");
        w.leaf("result", "none");
        w.close("spf");
    }
    w.close("auth_results");
    w.close("record");
}

fn aligned(result: &Option<AlignedResult>) -> &str {
    result.as_ref().map_or("fail", AlignedResult::as_str)
}

/// `Char` of XML 1.0 (§2.2).
fn xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
}

/// Writes indented XML, escaping every text.
struct XmlWriter {
    out: String,
    depth: usize,
}

impl XmlWriter {
    fn indent(&mut self) {
        for _ in 0..self.depth {
            self.out.push_str("  ");
        }
    }

    fn open(&mut self, name: &str) {
        self.indent();
        let _ = writeln!(self.out, "<{name}>");
        self.depth += 1;
    }

    fn open_attr(&mut self, name: &str, attribute: &str, value: &str) {
        self.indent();
        let _ = writeln!(self.out, "<{name} {attribute}=\"{}\">", escape(value));
        self.depth += 1;
    }

    fn close(&mut self, name: &str) {
        self.depth = self.depth.saturating_sub(1);
        self.indent();
        let _ = writeln!(self.out, "</{name}>");
    }

    fn leaf(&mut self, name: &str, text: &str) {
        self.indent();
        // Characters XML 1.0 cannot carry (most controls) become U+FFFD.
        let text = if text.chars().all(xml_char) {
            escape(text)
        } else {
            let clean: String = text
                .chars()
                .map(|c| if xml_char(c) { c } else { '\u{fffd}' })
                .collect();
            escape(clean).into_owned().into()
        };
        let _ = writeln!(self.out, "<{name}>{text}</{name}>");
    }

    fn optional(&mut self, name: &str, text: Option<&str>) {
        if let Some(text) = text {
            self.leaf(name, text);
        }
    }
}
