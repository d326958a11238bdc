//! DMARC policy records (RFC 9989, "DMARC Policy Record Format" and
//! "Formal Definition"; RFC 7489 §6.3 and §6.4 in [`Mode::Rfc7489`]).
//!
//! ```text
//! dmarc-record  = dmarc-version *(dmarc-sep dmarc-tag) [dmarc-sep]
//! dmarc-version = "v" equals %s"DMARC1"      ; case sensitive
//! dmarc-sep     = *WSP ";" *WSP
//! equals        = *WSP "=" *WSP
//! dmarc-tag     = 1*ALPHA equals 1*dmarc-value
//! dmarc-value   = %x20-3A / %x3C-7E           ; printing characters but ";"
//! dmarc-request = "none" / "quarantine" / "reject"
//! dmarc-yorn    = "y" / "n"
//! dmarc-psd     = "y" / "n" / "u"
//! dmarc-rors    = "r" / "s"
//! dmarc-urilist = dmarc-uri *(*WSP "," *WSP dmarc-uri)
//! dmarc-fo      = "0" / "1" / "d" / "s" / "d:s" / "s:d"
//! ```
//!
//! [`Record::parse`] keeps going past a bad tag, as both RFCs ask ("syntax
//! errors in the remainder of the record MUST be discarded in favor of
//! default values (if any) or ignored outright"), and lists every problem
//! in [`Record::tag_errors`]; [`Record::parse_strict`] refuses the record at
//! the first one. Only a record that does not start with `v=DMARC1` is not
//! a record at all ([`RecordError`]). Unknown tags are ignored. In
//! [`Mode::Rfc9989`] the tags RFC 9989 removed (`pct`, `rf`, `ri`) are
//! unknown tags; in [`Mode::Rfc7489`] they are parsed and checked, and the
//! tags RFC 7489 does not know (`np`, `psd`, `t`) are ignored.

use super::{Config, Mode};

/// A Domain Owner Assessment Policy (`p`, `sp`, `np`: `dmarc-request`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Policy {
    /// `none`: no preference.
    None,
    /// `quarantine`: treat failing mail as suspicious.
    Quarantine,
    /// `reject`: refuse failing mail.
    Reject,
}

impl Policy {
    /// The keyword (`none`, `quarantine`, `reject`).
    pub fn as_str(self) -> &'static str {
        match self {
            Policy::None => "none",
            Policy::Quarantine => "quarantine",
            Policy::Reject => "reject",
        }
    }

    fn parse(value: &str) -> Option<Policy> {
        match value {
            "none" => Some(Policy::None),
            "quarantine" => Some(Policy::Quarantine),
            "reject" => Some(Policy::Reject),
            _ => None,
        }
    }
}

/// Identifier alignment mode (`adkim`, `aspf`: `dmarc-rors`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum AlignmentMode {
    /// `r` (the default): the organizational domains must be equal.
    #[default]
    Relaxed,
    /// `s`: the domains must be equal.
    Strict,
}

/// The `psd` flag (RFC 9989: `dmarc-psd`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum PublicSuffixFlag {
    /// `y`: the domain is a public suffix domain.
    Yes,
    /// `n`: the domain is an organizational domain, not a public suffix.
    No,
    /// `u` (the default): unknown; the tree walk decides.
    #[default]
    Unknown,
}

/// Failure reporting options (`fo`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FailureOptions {
    /// `0` (the default): report when no mechanism gives an aligned pass.
    pub all_fail: bool,
    /// `1`: report when any mechanism gives something else than an
    /// aligned pass.
    pub any_fail: bool,
    /// `d`: report any DKIM signature that failed evaluation.
    pub dkim: bool,
    /// `s`: report any SPF failure.
    pub spf: bool,
}

impl Default for FailureOptions {
    fn default() -> FailureOptions {
        FailureOptions {
            all_fail: true,
            any_fail: false,
            dkim: false,
            spf: false,
        }
    }
}

/// A parsed DMARC policy record.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Record {
    /// `p`: the policy for the domain, `None` when missing or invalid.
    pub policy: Option<Policy>,
    /// `sp`: the policy for existing subdomains.
    pub subdomain_policy: Option<Policy>,
    /// `np`: the policy for non-existent subdomains (RFC 9989 only).
    pub nonexistent_subdomain_policy: Option<Policy>,
    /// `psd` (RFC 9989 only).
    pub public_suffix: PublicSuffixFlag,
    /// `t=y`: the Domain Owner is testing its policy (RFC 9989 only).
    pub testing: bool,
    /// `adkim`.
    pub dkim_alignment: AlignmentMode,
    /// `aspf`.
    pub spf_alignment: AlignmentMode,
    /// `rua`: the syntactically valid aggregate report URIs.
    pub aggregate_report_uris: Vec<String>,
    /// `ruf`: the syntactically valid failure report URIs.
    pub failure_report_uris: Vec<String>,
    /// `fo`.
    pub failure_options: FailureOptions,
    /// `pct` (RFC 7489 only): the percentage of failing mail the policy
    /// applies to, 100 when absent.
    pub percent: u8,
    /// `rf` (RFC 7489 only): the failure report formats, `afrf` when absent.
    pub report_formats: Vec<String>,
    /// `ri` (RFC 7489 only): the aggregate report interval in seconds,
    /// 86400 when absent.
    pub report_interval: u32,
    /// Every tag that was malformed, invalid or repeated, in record order;
    /// each was ignored (its default applies).
    pub tag_errors: Vec<TagError>,
}

/// Why a text is not a DMARC record at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    /// The text is empty.
    #[error("empty record")]
    Empty,
    /// The text does not start with a `v` tag.
    #[error("record does not start with v=")]
    NoVersion,
    /// The `v` tag is not exactly `DMARC1`.
    #[error("version is not DMARC1")]
    WrongVersion,
    /// The text is longer than the configured bound.
    #[error("record longer than {limit} octets")]
    TooLong {
        /// The bound.
        limit: usize,
    },
    /// [`Record::parse_strict`]: a tag is wrong.
    #[error("{0}")]
    Tag(TagError),
}

/// What is wrong with one tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TagErrorKind {
    /// A tag-spec without `=`, with an empty or non-alphabetic name, or
    /// with an empty value.
    #[error("malformed tag")]
    Malformed,
    /// A value outside the tag's grammar.
    #[error("invalid value")]
    InvalidValue,
    /// The tag appears more than once (the first is kept).
    #[error("repeated tag")]
    Repeated,
    /// `p` is absent.
    #[error("missing tag")]
    Missing,
}

/// One tag that was ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{kind} {tag}")]
pub struct TagError {
    /// The tag (a known tag name; `?` for a malformed tag-spec).
    pub tag: &'static str,
    /// What is wrong.
    pub kind: TagErrorKind,
}

const TAGS: &[&str] = &[
    "v", "p", "sp", "np", "psd", "t", "adkim", "aspf", "rua", "ruf", "fo", "pct", "rf", "ri",
];

/// The bit of `p` (`TAGS[1]`) in a set of tags.
const P_TAG: u16 = 1 << 1;
// Every tag has a bit in a `u16`.
const _: () = assert!(TAGS.len() <= 16);

/// The tag `name` stands for in `mode`, with its bit in a set of tags
/// (one bit per entry of `TAGS`).
fn known_tag(name: &str, mode: Mode) -> Option<(&'static str, u16)> {
    let (index, tag) = TAGS
        .iter()
        .copied()
        .enumerate()
        .find(|(_, t)| t.eq_ignore_ascii_case(name))?;
    match (mode, tag) {
        (Mode::Rfc9989, "pct" | "rf" | "ri") => None,
        (Mode::Rfc7489, "np" | "psd" | "t") => None,
        _ => Some((tag, 1 << index)),
    }
}

fn is_wsp(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// A DMARC URI (RFC 3986 `URI`, with the RFC 7489 `!size` suffix tolerated):
/// a scheme, `:`, and a non-empty rest of printing characters without
/// spaces, commas or `;`.
fn valid_uri(uri: &str) -> bool {
    let Some((scheme, rest)) = uri.split_once(':') else {
        return false;
    };
    let mut chars = scheme.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        && !rest.is_empty()
        && rest
            .bytes()
            .all(|b| (0x21..=0x7e).contains(&b) && b != b',' && b != b';')
}

/// Parses a `dmarc-urilist`; `None` when any element is not a URI.
fn uri_list(value: &str, max: usize) -> Option<Vec<String>> {
    let mut uris = Vec::new();
    for uri in value.split(',') {
        let uri = uri.trim_matches(is_wsp);
        if !valid_uri(uri) {
            return None;
        }
        if uris.len() < max {
            uris.push(uri.to_owned());
        }
    }
    Some(uris)
}

impl Record {
    /// The value of a tag as the record's parsing left it, as text: what
    /// applies, defaults included (`p`, `sp`, `np`: the policy keyword,
    /// `None` when absent; `psd`, `t`, `adkim`, `aspf`: one letter; `rua`,
    /// `ruf`, `rf`: comma-separated; `fo`: colon-separated options; `pct`,
    /// `ri`: decimal). `None` for another tag name.
    pub fn tag_value(&self, tag: &str) -> Option<String> {
        let policy = |p: Option<Policy>| p.map(|p| p.as_str().to_owned());
        let mode = |m: AlignmentMode| match m {
            AlignmentMode::Strict => "s",
            _ => "r",
        };
        Some(match tag {
            "p" => return policy(self.policy),
            "sp" => return policy(self.subdomain_policy),
            "np" => return policy(self.nonexistent_subdomain_policy),
            "psd" => match self.public_suffix {
                PublicSuffixFlag::Yes => "y",
                PublicSuffixFlag::No => "n",
                PublicSuffixFlag::Unknown => "u",
            }
            .to_owned(),
            "t" => if self.testing { "y" } else { "n" }.to_owned(),
            "adkim" => mode(self.dkim_alignment).to_owned(),
            "aspf" => mode(self.spf_alignment).to_owned(),
            "rua" => self.aggregate_report_uris.join(","),
            "ruf" => self.failure_report_uris.join(","),
            "fo" => {
                let fo = &self.failure_options;
                [
                    (fo.all_fail, "0"),
                    (fo.any_fail, "1"),
                    (fo.dkim, "d"),
                    (fo.spf, "s"),
                ]
                .iter()
                .filter(|(set, _)| *set)
                .map(|(_, name)| *name)
                .collect::<Vec<_>>()
                .join(":")
            }
            "pct" => self.percent.to_string(),
            "rf" => self.report_formats.join(","),
            "ri" => self.report_interval.to_string(),
            _ => return None,
        })
    }

    /// Parses a record (the TXT character-strings already joined), keeping
    /// bad tags out and listing them in [`Record::tag_errors`].
    ///
    /// The tags read depend on [`Config::mode`]; [`Config::max_record_bytes`]
    /// and [`Config::max_report_uris`] bound the work and what is kept.
    ///
    /// # Errors
    /// A [`RecordError`] when the text is not a DMARC record: empty, longer
    /// than [`Config::max_record_bytes`], or not starting with `v=DMARC1`.
    pub fn parse(text: &[u8], config: &Config) -> Result<Record, RecordError> {
        let (mode, max_len) = (config.mode, config.max_record_bytes);
        if text.len() > max_len {
            return Err(RecordError::TooLong { limit: max_len });
        }
        let text = String::from_utf8_lossy(text);
        let text = text.trim_matches(is_wsp);
        if text.is_empty() {
            return Err(RecordError::Empty);
        }
        let mut specs = text.split(';');
        let version = specs.next().unwrap_or_default();
        let (name, value) = version.split_once('=').ok_or(RecordError::NoVersion)?;
        if !name.trim_matches(is_wsp).eq_ignore_ascii_case("v") {
            return Err(RecordError::NoVersion);
        }
        if value.trim_matches(is_wsp) != "DMARC1" {
            return Err(RecordError::WrongVersion);
        }
        let mut record = Record {
            policy: None,
            subdomain_policy: None,
            nonexistent_subdomain_policy: None,
            public_suffix: PublicSuffixFlag::Unknown,
            testing: false,
            dkim_alignment: AlignmentMode::Relaxed,
            spf_alignment: AlignmentMode::Relaxed,
            aggregate_report_uris: Vec::new(),
            failure_report_uris: Vec::new(),
            failure_options: FailureOptions::default(),
            percent: 100,
            report_formats: vec!["afrf".to_owned()],
            report_interval: 86400,
            tag_errors: Vec::new(),
        };
        // The tags met so far, `v` first: one bit each.
        let mut seen: u16 = 1;
        for spec in specs {
            let spec = spec.trim_matches(is_wsp);
            if spec.is_empty() {
                // A trailing or doubled separator.
                continue;
            }
            let malformed = TagError {
                tag: "?",
                kind: TagErrorKind::Malformed,
            };
            let Some((name, value)) = spec.split_once('=') else {
                record.tag_errors.push(malformed);
                continue;
            };
            let name = name.trim_matches(is_wsp);
            let value = value.trim_matches(is_wsp);
            if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphabetic()) {
                record.tag_errors.push(malformed);
                continue;
            }
            let Some((tag, bit)) = known_tag(name, mode) else {
                continue;
            };
            if value.is_empty() || value.bytes().any(|b| !(0x20..=0x7e).contains(&b)) {
                record.tag_errors.push(TagError {
                    tag,
                    kind: TagErrorKind::Malformed,
                });
                continue;
            }
            if seen & bit != 0 {
                record.tag_errors.push(TagError {
                    tag,
                    kind: TagErrorKind::Repeated,
                });
                continue;
            }
            seen |= bit;
            if !record.apply(tag, value, config.max_report_uris) {
                record.tag_errors.push(TagError {
                    tag,
                    kind: TagErrorKind::InvalidValue,
                });
            }
        }
        if seen & P_TAG == 0 {
            record.tag_errors.push(TagError {
                tag: "p",
                kind: TagErrorKind::Missing,
            });
        }
        Ok(record)
    }

    /// Parses a record and refuses it at the first bad tag or without `p`
    /// (the behaviour of strict parsers such as OpenDMARC's).
    ///
    /// # Errors
    /// A [`RecordError`], [`RecordError::Tag`] for the first bad tag.
    pub fn parse_strict(text: &[u8], config: &Config) -> Result<Record, RecordError> {
        let record = Record::parse(text, config)?;
        match record.tag_errors.first() {
            Some(error) => Err(RecordError::Tag(*error)),
            None => Ok(record),
        }
    }

    /// Whether `p`, `sp` or `np` was present but invalid, or `p` was
    /// absent: the record's policy is then "none" if it names a valid
    /// aggregate report URI, and DMARC does not apply otherwise (RFC 9989
    /// "DMARC Policy Discovery"; RFC 7489 §6.6.3 step 6).
    pub fn policy_is_broken(&self) -> bool {
        self.policy.is_none()
            || self
                .tag_errors
                .iter()
                .any(|e| matches!(e.tag, "p" | "sp" | "np"))
    }

    /// Sets one tag; false when its value is invalid.
    fn apply(&mut self, tag: &'static str, value: &str, max_uris: usize) -> bool {
        match tag {
            "p" => Policy::parse(value)
                .map(|p| self.policy = Some(p))
                .is_some(),
            "sp" => Policy::parse(value)
                .map(|p| self.subdomain_policy = Some(p))
                .is_some(),
            "np" => Policy::parse(value)
                .map(|p| self.nonexistent_subdomain_policy = Some(p))
                .is_some(),
            "psd" => {
                self.public_suffix = match value {
                    "y" => PublicSuffixFlag::Yes,
                    "n" => PublicSuffixFlag::No,
                    "u" => PublicSuffixFlag::Unknown,
                    _ => return false,
                };
                true
            }
            "t" => {
                self.testing = match value {
                    "y" => true,
                    "n" => false,
                    _ => return false,
                };
                true
            }
            "adkim" | "aspf" => {
                let mode = match value {
                    "r" => AlignmentMode::Relaxed,
                    "s" => AlignmentMode::Strict,
                    _ => return false,
                };
                if tag == "adkim" {
                    self.dkim_alignment = mode;
                } else {
                    self.spf_alignment = mode;
                }
                true
            }
            "rua" => uri_list(value, max_uris)
                .map(|u| self.aggregate_report_uris = u)
                .is_some(),
            "ruf" => uri_list(value, max_uris)
                .map(|u| self.failure_report_uris = u)
                .is_some(),
            "fo" => {
                let mut options = FailureOptions {
                    all_fail: false,
                    any_fail: false,
                    dkim: false,
                    spf: false,
                };
                for option in value.split(':') {
                    match option.trim_matches(is_wsp) {
                        "0" => options.all_fail = true,
                        "1" => options.any_fail = true,
                        "d" => options.dkim = true,
                        "s" => options.spf = true,
                        _ => return false,
                    }
                }
                self.failure_options = options;
                true
            }
            "pct" => match value.parse::<u8>() {
                Ok(percent) if percent <= 100 && value.bytes().all(|b| b.is_ascii_digit()) => {
                    self.percent = percent;
                    true
                }
                _ => false,
            },
            "rf" => {
                let formats: Vec<String> = value
                    .split(':')
                    .map(|f| f.trim_matches(is_wsp).to_ascii_lowercase())
                    .collect();
                // RFC 7489 §6.3 registers one format, "afrf"; §11.4 a registry.
                if formats.iter().all(|f| f == "afrf" || f == "iodef") {
                    self.report_formats = formats;
                    true
                } else {
                    false
                }
            }
            "ri" => match value.parse::<u32>() {
                Ok(interval) if value.bytes().all(|b| b.is_ascii_digit()) => {
                    self.report_interval = interval;
                    true
                }
                _ => false,
            },
            _ => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Record, RecordError> {
        Record::parse(text.as_bytes(), &Config::default())
    }

    #[test]
    fn tag_values_as_text() {
        let r = parse(
            "v=DMARC1; p=reject; np=none; psd=n; t=y; adkim=s; \
             rua=mailto:a@example.org, mailto:b@example.org; fo=d:s",
        )
        .unwrap();
        let tags = [
            "p", "sp", "np", "psd", "t", "adkim", "aspf", "rua", "ruf", "fo", "pct", "rf", "ri",
        ];
        let values: Vec<Option<String>> = tags.iter().map(|t| r.tag_value(t)).collect();
        let expected = [
            Some("reject"),
            None,
            Some("none"),
            Some("n"),
            Some("y"),
            Some("s"),
            Some("r"),
            Some("mailto:a@example.org,mailto:b@example.org"),
            Some(""),
            Some("d:s"),
            Some("100"),
            Some("afrf"),
            Some("86400"),
        ];
        let expected: Vec<Option<String>> = expected.iter().map(|v| v.map(str::to_owned)).collect();
        assert_eq!(values, expected);
        assert_eq!(r.tag_value("v"), None);
    }

    #[test]
    fn every_tag() {
        let r = parse(
            "v=DMARC1; p=reject; sp=quarantine; np=none; psd=n; t=y; adkim=s; aspf=r; \
             rua=mailto:a@example.org, mailto:b@example.org; ruf=mailto:f@example.org; fo=d:s",
        )
        .unwrap();
        assert_eq!(r.policy, Some(Policy::Reject));
        assert_eq!(r.subdomain_policy, Some(Policy::Quarantine));
        assert_eq!(r.nonexistent_subdomain_policy, Some(Policy::None));
        assert_eq!(r.public_suffix, PublicSuffixFlag::No);
        assert!(r.testing);
        assert_eq!(r.dkim_alignment, AlignmentMode::Strict);
        assert_eq!(r.spf_alignment, AlignmentMode::Relaxed);
        assert_eq!(r.aggregate_report_uris.len(), 2);
        assert_eq!(r.failure_report_uris, ["mailto:f@example.org"]);
        assert!(r.failure_options.dkim && r.failure_options.spf && !r.failure_options.all_fail);
        assert!(r.tag_errors.is_empty());
        assert!(!r.policy_is_broken());
    }

    #[test]
    fn version_rules() {
        assert_eq!(parse(""), Err(RecordError::Empty));
        assert_eq!(parse("p=none; v=DMARC1"), Err(RecordError::NoVersion));
        assert_eq!(parse("v=dmarc1; p=none"), Err(RecordError::WrongVersion));
        assert_eq!(parse("v=DMARC2; p=none"), Err(RecordError::WrongVersion));
        assert_eq!(parse("v=spf1 -all"), Err(RecordError::WrongVersion));
        assert_eq!(parse("spf1 -all"), Err(RecordError::NoVersion));
        assert!(parse("V = DMARC1 ;p=none;").is_ok());
        assert_eq!(
            Record::parse(&[b'v'; 5000], &Config::default()),
            Err(RecordError::TooLong { limit: 4096 })
        );
    }

    #[test]
    fn bad_tags_are_listed_and_ignored() {
        let r = parse("v=DMARC1; p=none; reject; adkim=x; p=reject; foo=bar; t=yes").unwrap();
        assert_eq!(r.policy, Some(Policy::None));
        assert_eq!(r.dkim_alignment, AlignmentMode::Relaxed);
        assert!(!r.testing);
        let kinds: Vec<_> = r.tag_errors.iter().map(|e| (e.tag, e.kind)).collect();
        assert_eq!(
            kinds,
            [
                ("?", TagErrorKind::Malformed),
                ("adkim", TagErrorKind::InvalidValue),
                ("p", TagErrorKind::Repeated),
                ("t", TagErrorKind::InvalidValue)
            ]
        );
        assert!(r.policy_is_broken());
        assert!(Record::parse_strict(b"v=DMARC1; p=none; reject", &Config::default()).is_err());
    }

    #[test]
    fn missing_p() {
        let r = parse("v=DMARC1; rua=mailto:r@example.org").unwrap();
        assert_eq!(r.policy, None);
        assert!(r.policy_is_broken());
        assert_eq!(
            r.tag_errors,
            [TagError {
                tag: "p",
                kind: TagErrorKind::Missing
            }]
        );
    }

    #[test]
    fn modes() {
        let text = b"v=DMARC1; p=none; pct=50; rf=afrf; ri=3600; np=reject; t=y; psd=y";
        let bis = Record::parse(text, &Config::default()).unwrap();
        assert_eq!(bis.percent, 100);
        assert_eq!(bis.nonexistent_subdomain_policy, Some(Policy::Reject));
        assert!(bis.testing);
        let old = Record::parse(text, &Config::rfc7489()).unwrap();
        assert_eq!(old.percent, 50);
        assert_eq!(old.report_interval, 3600);
        assert_eq!(old.nonexistent_subdomain_policy, None);
        assert!(!old.testing);
        assert_eq!(old.public_suffix, PublicSuffixFlag::Unknown);
        for bad in ["pct=101", "pct=-1", "pct=x", "ri=x", "rf=bob"] {
            let text = format!("v=DMARC1; p=none; {bad}");
            assert!(
                Record::parse_strict(text.as_bytes(), &Config::rfc7489()).is_err(),
                "{bad}"
            );
            assert!(
                Record::parse_strict(text.as_bytes(), &Config::default()).is_ok(),
                "{bad}"
            );
        }
    }

    #[test]
    fn uris() {
        assert!(
            parse("v=DMARC1; p=none; rua=mailto:a@b.example!10m")
                .unwrap()
                .tag_errors
                .is_empty()
        );
        let r = parse("v=DMARC1; p=none; rua=not a uri").unwrap();
        assert!(r.aggregate_report_uris.is_empty());
        assert_eq!(r.tag_errors[0].tag, "rua");
        let many = vec!["mailto:a@b.example"; 200].join(",");
        let r = parse(&format!("v=DMARC1; p=none; rua={many}")).unwrap();
        assert_eq!(r.aggregate_report_uris.len(), 32);
    }

    #[test]
    fn non_utf8_and_junk() {
        let r = Record::parse(b"v=DMARC1; p=none; rua=mailto:\xff@x", &Config::default()).unwrap();
        assert_eq!(r.policy, Some(Policy::None));
        assert_eq!(r.tag_errors.len(), 1);
        let junk: Vec<u8> = (0..=255u8).cycle().take(4000).collect();
        let _ = Record::parse(&junk, &Config::default());
    }
}
