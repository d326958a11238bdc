//! Importing the configuration files of OpenDKIM (`opendkim.conf`),
//! OpenDMARC (`opendmarc.conf`) and policyd-spf (`policyd-spf.conf`) into
//! one settings file.
//!
//! [`import`] reads the three files (each optional) and writes the
//! settings TOML: the tables in the order of the settings file, each
//! imported key with a comment naming the option it came from. What cannot
//! be carried over (an option mailauth has no setting for, a value it does
//! not understand, a second file giving a key another value) comes back as
//! an [`ImportNote`] naming the file, the line and the reason.
//!
//! The files named in the options (KeyTable, SigningTable, InternalHosts)
//! are not read: their paths are written as given, so the settings file
//! reads the same files the milters read.
//!
//! ```
//! use std::path::Path;
//! use mailauth::session::import::{ConfFile, import};
//!
//! let opendkim = "Socket local:/run/opendkim/opendkim.sock\nAutoRestart yes\n";
//! let (toml, notes) = import(
//!     Some(ConfFile::new(opendkim, Path::new("opendkim.conf"))),
//!     None,
//!     None,
//! );
//! assert!(toml.contains("socket = \"local:/run/opendkim/opendkim.sock\""));
//! assert_eq!(notes[0].option, "AutoRestart");
//! assert_eq!(notes[0].line, 2);
//! ```

use std::fmt;
use std::path::Path;

use toml::Value;

/// One `Name value` line of a configuration file.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConfOption {
    /// 1-based line number.
    pub line: usize,
    /// The option's name as written.
    pub name: String,
    /// The value, trimmed (empty when the line has none).
    pub value: String,
}

impl ConfOption {
    /// Reads the options of an `opendkim.conf` or `opendmarc.conf`:
    /// `Name value` lines, `#` starts a comment, blank lines are skipped.
    pub fn parse_milter_conf(text: &str) -> Vec<ConfOption> {
        Self::parse_with(text, |line| match line.split_once(char::is_whitespace) {
            Some((name, value)) => (name, value),
            None => (line, ""),
        })
    }

    /// Reads the options of a `policyd-spf.conf`: `name = value` lines,
    /// `#` starts a comment, blank lines are skipped.
    pub fn parse_policyd_conf(text: &str) -> Vec<ConfOption> {
        Self::parse_with(text, |line| match line.split_once('=') {
            Some((name, value)) => (name, value),
            None => (line, ""),
        })
    }

    fn parse_with(text: &str, split: impl Fn(&str) -> (&str, &str)) -> Vec<ConfOption> {
        text.lines()
            .enumerate()
            .filter_map(|(index, line)| {
                let line = line.split_once('#').map_or(line, |(before, _)| before);
                let line = line.trim();
                if line.is_empty() {
                    return None;
                }
                let (name, value) = split(line);
                Some(ConfOption {
                    line: index + 1,
                    name: name.trim().to_owned(),
                    value: value.trim().to_owned(),
                })
            })
            .collect()
    }

    /// The value of the first option named `name` (case-insensitive) that
    /// has one.
    pub fn find<'a>(options: &'a [ConfOption], name: &str) -> Option<&'a str> {
        options
            .iter()
            .find(|o| o.name.eq_ignore_ascii_case(name) && !o.value.is_empty())
            .map(|o| o.value.as_str())
    }
}

/// A configuration file to import: its text and the path it was read from
/// (named in the notes; its file name in the comments of the output).
#[derive(Debug, Clone, Copy)]
pub struct ConfFile<'a> {
    /// The file's text.
    pub text: &'a str,
    /// Where it was read from.
    pub path: &'a Path,
}

impl<'a> ConfFile<'a> {
    /// A file's text and path.
    pub fn new(text: &'a str, path: &'a Path) -> ConfFile<'a> {
        ConfFile { text, path }
    }
}

/// An option that was not carried over, or not entirely, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ImportNote {
    /// The file, as its path was given.
    pub file: String,
    /// 1-based line of the option.
    pub line: usize,
    /// The option's name (as the tool spells it).
    pub option: String,
    /// What happened to it.
    pub message: String,
}

impl fmt::Display for ImportNote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: {}: {}",
            self.file, self.line, self.option, self.message
        )
    }
}

/// Imports the configuration files given into settings TOML, with a note
/// for each option that could not be carried over. When two files give one
/// key different values (two `Socket`s, two `AuthservID`s), the first file
/// (in the order opendkim.conf, opendmarc.conf, policyd-spf.conf) wins and
/// the other option gets a note.
pub fn import(
    opendkim: Option<ConfFile<'_>>,
    opendmarc: Option<ConfFile<'_>>,
    policyd_spf: Option<ConfFile<'_>>,
) -> (String, Vec<ImportNote>) {
    let mut out = Builder::default();
    if let Some(file) = opendkim {
        let options = ConfOption::parse_milter_conf(file.text);
        out.opendkim(&Source::new(file), &options);
    }
    if let Some(file) = opendmarc {
        let options = ConfOption::parse_milter_conf(file.text);
        out.opendmarc(&Source::new(file), &options);
    }
    if let Some(file) = policyd_spf {
        let options = ConfOption::parse_policyd_conf(file.text);
        out.policyd_spf(&Source::new(file), &options);
    }
    out.finish();
    let sources: Vec<String> = [opendkim, opendmarc, policyd_spf]
        .iter()
        .flatten()
        .map(|f| f.path.display().to_string())
        .collect();
    let toml = out.render(&sources);
    let mut notes = out.notes;
    notes.sort_by_key(|n| (sources.iter().position(|s| *s == n.file), n.line));
    (toml, notes)
}

/// The tables of the settings file in its order, with their keys in order.
const ORDER: &[(&str, &[&str])] = &[
    (
        "",
        &[
            "authserv_id",
            "trusted_authserv_ids",
            "internal_hosts",
            "internal_hosts_file",
            "daemon_names",
            "sign_authenticated",
            "test_only",
        ],
    ),
    (
        "signing",
        &[
            "key_table",
            "signing_table",
            "canonicalization",
            "headers",
            "oversign_headers",
            "signature_ttl",
            "body_length",
            "timestamp",
        ],
    ),
    (
        "verify",
        &[
            "min_key_bits",
            "allow_sha1",
            "legacy",
            "clock_skew",
            "max_signatures",
            "max_header_fields",
            "max_header_bytes",
            "unsigned_body_content",
            "key_cache",
            "on_bad_signature",
            "on_no_signature",
            "on_dns_error",
            "on_key_not_found",
            "on_security",
        ],
    ),
    (
        "spf",
        &[
            "check_helo",
            "helo_reject",
            "mail_from_reject",
            "permerror_reject",
            "temperror_defer",
            "received_spf",
            "receiver",
            "max_dns_mechanisms",
            "max_void_lookups",
        ],
    ),
    (
        "dmarc",
        &[
            "mode",
            "reject_failures",
            "quarantine",
            "public_suffix_list",
        ],
    ),
    ("replies", &[]),
    ("dns", &["nameservers", "timeout_ms", "attempts"]),
    ("log", &["why"]),
    (
        "milter",
        &[
            "socket",
            "socket_mode",
            "socket_group",
            "user",
            "pid_file",
            "syslog",
            "stderr",
            "on_internal_error",
        ],
    ),
    ("report", &["record"]),
];

/// Where an option was read: the file (path and name) and the line.
#[derive(Debug, Clone)]
struct At {
    /// The path as given.
    path: String,
    /// The file name, for comments.
    name: String,
    line: usize,
    option: &'static str,
}

impl At {
    fn comment(&self) -> String {
        format!("{}: {}", self.name, self.option)
    }

    fn place(&self) -> String {
        format!("{}:{} ({})", self.path, self.line, self.option)
    }
}

/// A configuration file being imported.
struct Source {
    path: String,
    name: String,
}

impl Source {
    fn new(file: ConfFile<'_>) -> Source {
        Source {
            path: file.path.display().to_string(),
            name: file.path.file_name().map_or_else(
                || file.path.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            ),
        }
    }

    fn at(&self, option: &ConfOption, name: &'static str) -> At {
        At {
            path: self.path.clone(),
            name: self.name.clone(),
            line: option.line,
            option: name,
        }
    }
}

/// One key written.
#[derive(Debug, Clone)]
struct Entry {
    table: &'static str,
    key: &'static str,
    value: Value,
    /// The options it came from (several for merged lists).
    from: Vec<At>,
    /// A remark after the option names in the comment.
    remark: Option<&'static str>,
}

/// One `[[signing.keys]]` with its `[[signing.rules]]`.
#[derive(Debug, Clone)]
struct InlineKey {
    domain: String,
    selector: String,
    key_file: String,
    patterns: Vec<String>,
    domain_at: At,
    selector_at: At,
    key_file_at: At,
    subdomains_at: Option<At>,
}

#[derive(Debug, Default)]
struct Builder {
    entries: Vec<Entry>,
    keys: Vec<InlineKey>,
    notes: Vec<ImportNote>,
    /// Where TrustedAuthservIDs was read (to note entries dropped).
    trusted_at: Option<At>,
    /// A hosts file was imported: the default internal hosts are replaced.
    hosts_file: bool,
}

/// The start of the message of an option not carried over.
const NOT_CARRIED: &str = "not carried over";

impl Builder {
    fn note(&mut self, at: &At, message: impl fmt::Display) {
        self.notes.push(ImportNote {
            file: at.path.clone(),
            line: at.line,
            option: at.option.to_owned(),
            message: message.to_string(),
        });
    }

    fn find(&self, table: &str, key: &str) -> Option<&Entry> {
        self.entries
            .iter()
            .find(|e| e.table == table && e.key == key)
    }

    /// Writes `table.key = value`, unless an earlier option gave it
    /// another value (then a note).
    fn set(&mut self, at: &At, table: &'static str, key: &'static str, value: Value) {
        self.set_with(at, table, key, value, None);
    }

    fn set_with(
        &mut self,
        at: &At,
        table: &'static str,
        key: &'static str,
        value: Value,
        remark: Option<&'static str>,
    ) {
        debug_assert!(
            ORDER
                .iter()
                .any(|(t, keys)| *t == table && keys.contains(&key)),
            "{table}.{key} is not in ORDER"
        );
        if let Some(existing) = self.find(table, key) {
            if existing.value != value {
                let message = format!(
                    "{NOT_CARRIED}: {} is {} from {} already",
                    dotted(table, key),
                    existing.value,
                    existing.from[0].place()
                );
                self.note(at, message);
            }
            return;
        }
        self.entries.push(Entry {
            table,
            key,
            value,
            from: vec![at.clone()],
            remark,
        });
    }

    /// Adds items to a list key (internal hosts from several options).
    fn extend(&mut self, at: &At, table: &'static str, key: &'static str, items: Vec<String>) {
        if let Some(entry) = self
            .entries
            .iter_mut()
            .find(|e| e.table == table && e.key == key)
        {
            if let Value::Array(list) = &mut entry.value {
                for item in items {
                    let item = Value::String(item);
                    if !list.contains(&item) {
                        list.push(item);
                    }
                }
            }
            entry.from.push(at.clone());
            return;
        }
        let mut list: Vec<Value> = Vec::new();
        for item in items {
            let item = Value::String(item);
            if !list.contains(&item) {
                list.push(item);
            }
        }
        self.set(at, table, key, Value::Array(list));
    }

    fn bool(&mut self, at: &At, value: &str) -> Option<bool> {
        let parsed = parse_bool(value);
        if parsed.is_none() {
            self.note(
                at,
                format_args!("{NOT_CARRIED}: expected yes or no, not {value:?}"),
            );
        }
        parsed
    }

    fn set_bool(&mut self, at: &At, table: &'static str, key: &'static str, value: &str) {
        if let Some(b) = self.bool(at, value) {
            self.set(at, table, key, Value::Boolean(b));
        }
    }

    fn number(&mut self, at: &At, value: &str) -> Option<i64> {
        let parsed = value.parse::<i64>().ok().filter(|n| *n >= 0);
        if parsed.is_none() {
            self.note(
                at,
                format_args!("{NOT_CARRIED}: expected a number, not {value:?}"),
            );
        }
        parsed
    }

    fn set_number(&mut self, at: &At, table: &'static str, key: &'static str, value: &str) {
        if let Some(n) = self.number(at, value) {
            self.set(at, table, key, Value::Integer(n));
        }
    }

    fn set_string(&mut self, at: &At, table: &'static str, key: &'static str, value: &str) {
        self.set(at, table, key, Value::String(value.to_owned()));
    }

    fn set_list(&mut self, at: &At, table: &'static str, key: &'static str, value: &str) {
        let items = list(value)
            .into_iter()
            .map(|s| Value::String(s.to_owned()))
            .collect();
        self.set(at, table, key, Value::Array(items));
    }

    /// `UMask`: the socket's mode is 0666 without the mask's bits.
    fn umask(&mut self, at: &At, value: &str) {
        match u32::from_str_radix(value, 8) {
            Ok(mask) if mask <= 0o777 => {
                let mode = format!("0{:o}", 0o666 & !mask);
                self.set_with(
                    at,
                    "milter",
                    "socket_mode",
                    Value::String(mode),
                    Some("0666 less the mask"),
                );
            }
            _ => self.note(
                at,
                format_args!("{NOT_CARRIED}: expected an octal mask, not {value:?}"),
            ),
        }
    }

    /// `UserID user[:group]`.
    fn user(&mut self, at: &At, value: &str) {
        let (user, group) = match value.split_once(':') {
            Some((user, group)) => (user, Some(group)),
            None => (value, None),
        };
        self.set_string(at, "milter", "user", user);
        if let Some(group) = group.filter(|g| *g != user) {
            self.note(
                at,
                format_args!(
                    "the group {group:?} {NOT_CARRIED}: milter.user drops to the user's own groups; \
                     set milter.socket_group for the socket's group"
                ),
            );
        }
    }

    /// `Socket`: a bare path is a unix socket.
    fn socket(&mut self, at: &At, value: &str) {
        if value.starts_with('/') {
            self.set_with(
                at,
                "milter",
                "socket",
                Value::String(format!("local:{value}")),
                Some("a path is local:"),
            );
        } else {
            self.set_string(at, "milter", "socket", value);
        }
    }

    /// `AuthservID`, `Authserv_Id`.
    fn authserv_id(&mut self, at: &At, value: &str) {
        if value.contains(|c: char| c.is_whitespace() || c == ';') {
            self.note(
                at,
                format_args!("{NOT_CARRIED}: {value:?} is not an authserv-id"),
            );
            return;
        }
        self.set_string(at, "", "authserv_id", value);
    }

    /// `InternalHosts`, `IgnoreHosts`, `skip_addresses`: a file or a list.
    fn hosts(&mut self, at: &At, value: &str) {
        let is_file = value.starts_with('/')
            || value.starts_with("./")
            || value.starts_with("file:")
            || value.starts_with("refile:");
        if is_file {
            let path = |v: &str| {
                v.trim_start_matches("refile:")
                    .trim_start_matches("file:")
                    .to_owned()
            };
            if let Some(existing) = self.find("", "internal_hosts_file") {
                let same = existing.value.as_str().map(path) == Some(path(value));
                if !same {
                    let message = format!(
                        "{NOT_CARRIED}: internal_hosts_file is {} from {} already; \
                         add this file's entries to that file or to internal_hosts",
                        existing.value,
                        existing.from[0].place()
                    );
                    self.note(at, message);
                }
                return;
            }
            self.hosts_file = true;
            self.set_string(at, "", "internal_hosts_file", value);
            return;
        }
        let value = value.strip_prefix("csl:").unwrap_or(value);
        let items = list(value).into_iter().map(str::to_owned).collect();
        self.extend(at, "", "internal_hosts", items);
    }

    /// `On-*`: an OpenDKIM action.
    fn disposal(&mut self, at: &At, table: &'static str, key: &'static str, value: &str) {
        let action = match value.to_ascii_lowercase().as_str() {
            "a" | "accept" => "accept",
            "r" | "reject" => "reject",
            "t" | "tempfail" => "tempfail",
            "d" | "discard" => "discard",
            "q" | "quarantine" => "quarantine",
            _ => {
                self.note(
                    at,
                    format_args!(
                        "{NOT_CARRIED}: expected accept, reject, tempfail, discard or quarantine, \
                         not {value:?}"
                    ),
                );
                return;
            }
        };
        self.set(at, table, key, Value::String(action.to_owned()));
    }

    /// Options opendkim.conf and opendmarc.conf share; `true` when the
    /// option was one of them.
    fn milter_common(&mut self, at: &At, option: &ConfOption) -> bool {
        let value = option.value.as_str();
        match at.option {
            "AuthservID" => {
                if value.eq_ignore_ascii_case("hostname") {
                    self.set_string(at, "", "authserv_id", super::settings::HOSTNAME);
                } else {
                    self.authserv_id(at, value);
                }
            }
            "AutoRestart" | "AutoRestartCount" | "AutoRestartRate" => self.note(
                at,
                format_args!(
                    "{NOT_CARRIED}: let the service manager restart mailauth \
                     (systemd Restart=on-failure)"
                ),
            ),
            "Background" => self.note(
                at,
                format_args!(
                    "{NOT_CARRIED}: run mailauth in the foreground under the service \
                     manager (systemd Type=simple)"
                ),
            ),
            "BaseDirectory" => self.note(
                at,
                format_args!(
                    "{NOT_CARRIED}: relative paths in the settings file start from the \
                     settings file's folder"
                ),
            ),
            "DNSTimeout" => match self.number(at, value) {
                Some(0) => self.note(
                    at,
                    format_args!("{NOT_CARRIED}: dns.timeout_ms must be more than 0"),
                ),
                Some(seconds) => self.set(
                    at,
                    "dns",
                    "timeout_ms",
                    Value::Integer(seconds.saturating_mul(1000)),
                ),
                None => {}
            },
            "MilterDebug" => self.note(
                at,
                format_args!("{NOT_CARRIED}: mailauth has no milter protocol trace"),
            ),
            "PidFile" => self.set_string(at, "milter", "pid_file", value),
            "Socket" => self.socket(at, value),
            "Syslog" => self.set_bool(at, "milter", "syslog", value),
            "SyslogFacility" => {
                if !value.eq_ignore_ascii_case("mail") {
                    self.note(
                        at,
                        format_args!("{NOT_CARRIED}: mailauth logs to the mail facility"),
                    );
                }
            }
            "SyslogSuccess" => self.note(
                at,
                format_args!(
                    "{NOT_CARRIED}: mailauth logs one line for every message (log.why adds \
                     the reasons)"
                ),
            ),
            "UMask" => self.umask(at, value),
            "UserID" => self.user(at, value),
            "AuthservIDWithJobID" => self.note(
                at,
                format_args!("{NOT_CARRIED}: the authserv-id is written as authserv_id gives it"),
            ),
            "SoftwareHeader" => self.note(
                at,
                format_args!("{NOT_CARRIED}: mailauth adds no field naming itself"),
            ),
            _ => return false,
        }
        true
    }

    fn opendkim(&mut self, source: &Source, options: &[ConfOption]) {
        let has = |name: &str| ConfOption::find(options, name).is_some();
        let has_key_table = has("KeyTable");
        let has_signing_table = has("SigningTable");
        let subdomains = options
            .iter()
            .find(|o| o.name.eq_ignore_ascii_case("SubDomains"))
            .map(|o| (o, parse_bool(&o.value) == Some(true)));
        let mut inline: (Option<At>, Option<At>, Option<At>) = (None, None, None);
        let mut inline_values: (String, String, String) = Default::default();
        for option in options {
            let Some(name) = canonical(OPENDKIM_OPTIONS, &option.name) else {
                self.unknown(source, option, "OpenDKIM");
                continue;
            };
            let at = source.at(option, name);
            let value = option.value.as_str();
            if value.is_empty() {
                self.note(&at, format_args!("{NOT_CARRIED}: no value"));
                continue;
            }
            if self.milter_common(&at, option) {
                continue;
            }
            match name {
                "Mode" => {
                    let mode = value.to_ascii_lowercase();
                    if !(mode.contains('s') && mode.contains('v')) {
                        self.note(
                            &at,
                            format_args!(
                                "{NOT_CARRIED}: mailauth signs the mail of internal, authenticated \
                                 and daemon_names clients and checks the rest; Mode {value} \
                                 has no equivalent"
                            ),
                        );
                    }
                }
                "Canonicalization" => {
                    let c = value.to_ascii_lowercase();
                    let (header, body) = c.split_once('/').unwrap_or((c.as_str(), "simple"));
                    let known = |n: &str| n == "simple" || n == "relaxed";
                    if known(header) && known(body) {
                        self.set(
                            &at,
                            "signing",
                            "canonicalization",
                            Value::String(format!("{header}/{body}")),
                        );
                    } else {
                        self.note(
                            &at,
                            format_args!("{NOT_CARRIED}: expected header/body, not {value:?}"),
                        );
                    }
                }
                "Domain" | "Selector" | "KeyFile" => {
                    if has_key_table {
                        self.note(
                            &at,
                            format_args!(
                                "{NOT_CARRIED}: KeyTable is set, and OpenDKIM signs with its keys"
                            ),
                        );
                        continue;
                    }
                    let slot = match name {
                        "Domain" => (&mut inline.0, &mut inline_values.0),
                        "Selector" => (&mut inline.1, &mut inline_values.1),
                        _ => (&mut inline.2, &mut inline_values.2),
                    };
                    if slot.0.is_none() {
                        *slot.0 = Some(at);
                        value.clone_into(slot.1);
                    } else {
                        self.note(
                            &at,
                            format_args!("{NOT_CARRIED}: given twice; the first kept"),
                        );
                    }
                }
                "SubDomains" => {
                    if has_key_table && subdomains.is_some_and(|(_, on)| on) {
                        self.note(
                            &at,
                            format_args!(
                                "{NOT_CARRIED}: the SigningTable decides (write *@*.example.com \
                                 patterns in a refile: table)"
                            ),
                        );
                    }
                }
                "KeyTable" => {
                    if !has_signing_table {
                        self.note(
                            &at,
                            format_args!("{NOT_CARRIED}: KeyTable without a SigningTable"),
                        );
                        continue;
                    }
                    if let Some(path) = value.strip_prefix("refile:") {
                        self.set_with(
                            &at,
                            "signing",
                            "key_table",
                            Value::String(path.to_owned()),
                            Some("refile: dropped, key names are plain names"),
                        );
                    } else if value.starts_with('/')
                        || value.starts_with("file:")
                        || !value.contains(':')
                    {
                        self.set_string(&at, "signing", "key_table", value);
                    } else {
                        self.note(
                            &at,
                            format_args!(
                                "{NOT_CARRIED}: only flat files (file: or a path) are read; \
                                 export the table to a file"
                            ),
                        );
                    }
                }
                "SigningTable" => {
                    if !has_key_table {
                        self.note(
                            &at,
                            format_args!("{NOT_CARRIED}: SigningTable without a KeyTable"),
                        );
                        continue;
                    }
                    if value.starts_with('/')
                        || value.starts_with("file:")
                        || value.starts_with("refile:")
                        || !value.contains(':')
                    {
                        self.set_string(&at, "signing", "signing_table", value);
                    } else {
                        self.note(
                            &at,
                            format_args!(
                                "{NOT_CARRIED}: only flat files (file:, refile: or a path) are \
                                 read; export the table to a file"
                            ),
                        );
                    }
                }
                "OmitHeaders" => self.note(
                    &at,
                    format_args!(
                        "{NOT_CARRIED}: list the fields to sign in signing.headers (SignHeaders)"
                    ),
                ),
                "ExternalIgnoreList" => self.note(
                    &at,
                    format_args!(
                        "{NOT_CARRIED}: it only silences OpenDKIM's log warning about unsigned \
                         mail from these hosts; mailauth does not log that warning"
                    ),
                ),
                "InternalHosts" => self.hosts(&at, value),
                "PeerList" => self.note(
                    &at,
                    format_args!(
                        "{NOT_CARRIED}: mailauth has no list of clients left unchecked and \
                         unsigned; internal_hosts signs their mail"
                    ),
                ),
                "OversignHeaders" => self.header_list(&at, "oversign_headers", value),
                "SignHeaders" => self.header_list(&at, "headers", value),
                "TrustAnchorFile" => self.note(
                    &at,
                    format_args!(
                        "{NOT_CARRIED}: mailauth does not validate DNSSEC; point dns.nameservers \
                         at a validating resolver"
                    ),
                ),
                "Nameservers" => self.set_list(&at, "dns", "nameservers", value),
                "MinimumKeyBits" => self.set_number(&at, "verify", "min_key_bits", value),
                "On-BadSignature" => self.disposal(&at, "verify", "on_bad_signature", value),
                "On-NoSignature" => self.disposal(&at, "verify", "on_no_signature", value),
                "On-DNSError" => self.disposal(&at, "verify", "on_dns_error", value),
                "On-KeyNotFound" => self.disposal(&at, "verify", "on_key_not_found", value),
                "On-Security" => self.disposal(&at, "verify", "on_security", value),
                "On-Default" => {
                    for key in [
                        "on_bad_signature",
                        "on_no_signature",
                        "on_dns_error",
                        "on_key_not_found",
                        "on_security",
                    ] {
                        let named = ON_KEYS
                            .iter()
                            .find(|(_, k)| *k == key)
                            .is_some_and(|(option, _)| has(option));
                        if !named {
                            self.disposal(&at, "verify", key, value);
                        }
                    }
                }
                "On-InternalError" => match value.to_ascii_lowercase().as_str() {
                    "a" | "accept" => self.set_string(&at, "milter", "on_internal_error", "accept"),
                    "t" | "tempfail" => {
                        self.set_string(&at, "milter", "on_internal_error", "tempfail");
                    }
                    _ => self.note(
                        &at,
                        format_args!(
                            "{NOT_CARRIED}: milter.on_internal_error is accept or tempfail"
                        ),
                    ),
                },
                "On-SignatureError" => self.note(
                    &at,
                    format_args!(
                        "{NOT_CARRIED}: a message that cannot be signed follows \
                         milter.on_internal_error"
                    ),
                ),
                "SignatureTTL" => self.set_number(&at, "signing", "signature_ttl", value),
                "BodyLengths" => self.set_bool(&at, "signing", "body_length", value),
                "ClockDrift" => self.set_number(&at, "verify", "clock_skew", value),
                "MaximumHeaders" => self.set_number(&at, "verify", "max_header_bytes", value),
                "MaximumSignaturesToVerify" => {
                    self.set_number(&at, "verify", "max_signatures", value);
                }
                "QueryCache" => self.set_bool(&at, "verify", "key_cache", value),
                "MTA" => self.set_list(&at, "", "daemon_names", value),
                "LogWhy" => self.set_bool(&at, "log", "why", value),
                "LogResults" => self.note(
                    &at,
                    format_args!("{NOT_CARRIED}: log.why logs the reasons of each check"),
                ),
                "SignatureAlgorithm" => {
                    let v = value.to_ascii_lowercase();
                    if v != "rsa-sha256" && v != "ed25519-sha256" {
                        self.note(
                            &at,
                            format_args!(
                                "{NOT_CARRIED}: the algorithm follows the key (rsa-sha256 or \
                                 ed25519-sha256)"
                            ),
                        );
                    }
                }
                "RequireSafeKeys" => self.note(
                    &at,
                    format_args!("{NOT_CARRIED}: key file permissions are not checked"),
                ),
                "RemoveOldSignatures" => self.note(
                    &at,
                    format_args!("{NOT_CARRIED}: existing signatures are kept"),
                ),
                "SendReports" | "ReportAddress" | "ReportBccAddress" => self.note(
                    &at,
                    format_args!("{NOT_CARRIED}: mailauth sends no failure reports"),
                ),
                "AlwaysAddARHeader" => self.note(
                    &at,
                    format_args!(
                        "{NOT_CARRIED}: checked mail always gets an Authentication-Results field"
                    ),
                ),
                "X-Header" => self.note(
                    &at,
                    format_args!("{NOT_CARRIED}: mailauth adds no field naming itself"),
                ),
                "Statistics" | "StatisticsName" | "StatisticsPrefix" => self.note(
                    &at,
                    format_args!("{NOT_CARRIED}: mailauth keeps no statistics file"),
                ),
                _ => self.note(
                    &at,
                    format_args!("{NOT_CARRIED}: mailauth has no setting for it"),
                ),
            }
        }
        self.inline_key(source, inline, inline_values, subdomains);
    }

    /// `SignHeaders`, `OversignHeaders`: field names; in `SignHeaders`,
    /// `+name` adds to the default list, and `*` (every field) has no
    /// equivalent.
    fn header_list(&mut self, at: &At, key: &'static str, value: &str) {
        let entries = list(value);
        if entries.contains(&"*") {
            self.note(
                at,
                format_args!("{NOT_CARRIED}: signing every header field is not supported"),
            );
            return;
        }
        let mut names: Vec<String> = Vec::new();
        let mut remark = None;
        if key == "headers" && entries.iter().any(|e| e.starts_with('+')) {
            names = crate::dkim::SignOptions::default().headers;
            remark = Some("+ adds to the default list");
        }
        for entry in entries {
            let name = entry
                .strip_prefix('+')
                .unwrap_or(entry)
                .to_ascii_lowercase();
            if crate::dkim::sign::validate_header_name(&name).is_err() {
                self.note(
                    at,
                    format_args!("{name:?} {NOT_CARRIED}: not a header field name"),
                );
            } else if !names.contains(&name) {
                names.push(name);
            }
        }
        let names = names.into_iter().map(Value::String).collect();
        self.set_with(at, "signing", key, Value::Array(names), remark);
    }

    /// `Domain`, `Selector` and `KeyFile`: one key, a rule per domain.
    fn inline_key(
        &mut self,
        source: &Source,
        (domain_at, selector_at, key_file_at): (Option<At>, Option<At>, Option<At>),
        (domain, selector, key_file): (String, String, String),
        subdomains: Option<(&ConfOption, bool)>,
    ) {
        let (Some(domain_at), Some(selector_at), Some(key_file_at)) =
            (domain_at.clone(), selector_at.clone(), key_file_at.clone())
        else {
            for at in [domain_at, selector_at, key_file_at].into_iter().flatten() {
                self.note(
                    &at,
                    format_args!("{NOT_CARRIED}: Domain, Selector and KeyFile go together"),
                );
            }
            return;
        };
        if domain.starts_with('/') || domain.contains(':') {
            self.note(
                &domain_at,
                format_args!(
                    "{NOT_CARRIED}: a file of domains is not read; write a [[signing.rules]] \
                     for each domain"
                ),
            );
            return;
        }
        let domains: Vec<&str> = list(&domain);
        let subdomains_at = subdomains
            .filter(|(_, on)| *on)
            .map(|(o, _)| source.at(o, "SubDomains"));
        let mut patterns = Vec::new();
        for d in &domains {
            patterns.push(format!("*@{}", d.to_ascii_lowercase()));
            if subdomains_at.is_some() {
                patterns.push(format!("*@*.{}", d.to_ascii_lowercase()));
            }
        }
        let Some(first) = domains.first() else {
            self.note(&domain_at, format_args!("{NOT_CARRIED}: no domain"));
            return;
        };
        self.keys.push(InlineKey {
            domain: (*first).to_owned(),
            selector,
            key_file,
            patterns,
            domain_at,
            selector_at,
            key_file_at,
            subdomains_at,
        });
        if domains.len() > 1 {
            // OpenDKIM signs each listed domain with d= the From domain.
            if let Some(key) = self.keys.last_mut() {
                key.domain = "%".to_owned();
            }
        }
    }

    fn opendmarc(&mut self, source: &Source, options: &[ConfOption]) {
        for option in options {
            let Some(name) = canonical(OPENDMARC_OPTIONS, &option.name) else {
                self.unknown(source, option, "OpenDMARC");
                continue;
            };
            let at = source.at(option, name);
            let value = option.value.as_str();
            if value.is_empty() {
                self.note(&at, format_args!("{NOT_CARRIED}: no value"));
                continue;
            }
            if self.milter_common(&at, option) {
                continue;
            }
            match name {
                "TrustedAuthservIDs" => {
                    self.trusted_at = Some(at.clone());
                    self.set_list(&at, "", "trusted_authserv_ids", value);
                }
                "IgnoreHosts" => self.hosts(&at, value),
                "IgnoreAuthenticatedClients" => {
                    if let Some(on) = self.bool(&at, value) {
                        if on {
                            self.set(&at, "", "sign_authenticated", Value::Boolean(true));
                        } else {
                            self.note(
                                &at,
                                format_args!(
                                    "{NOT_CARRIED}: authenticated clients' mail is signed, not \
                                     checked (sign_authenticated = true), as OpenDKIM signs it"
                                ),
                            );
                        }
                    }
                }
                "RejectFailures" => self.set_bool(&at, "dmarc", "reject_failures", value),
                "HoldQuarantinedMessages" => {
                    if let Some(on) = self.bool(&at, value) {
                        let by = if on { "hold" } else { "accept" };
                        self.set_string(&at, "dmarc", "quarantine", by);
                    }
                }
                "PublicSuffixList" => {
                    self.set_with(
                        &at,
                        "dmarc",
                        "public_suffix_list",
                        Value::String(value.to_owned()),
                        Some("used with mode = \"rfc7489\""),
                    );
                }
                "HistoryFile" => {
                    self.set_with(
                        &at,
                        "report",
                        "record",
                        Value::Boolean(true),
                        Some("verdicts go to the report store (report.path), not a history file"),
                    );
                }
                "SPFSelfValidate" => self.note(
                    &at,
                    format_args!("{NOT_CARRIED}: mailauth always checks SPF itself ([spf])"),
                ),
                "SPFIgnoreResults" => self.note(
                    &at,
                    format_args!(
                        "{NOT_CARRIED}: mailauth uses its own SPF results, never those of \
                         other fields"
                    ),
                ),
                "FailureReports"
                | "FailureReportsBcc"
                | "FailureReportsOnNone"
                | "FailureReportsSentBy"
                | "CopyFailuresTo"
                | "ReportCommand" => self.note(
                    &at,
                    format_args!("{NOT_CARRIED}: mailauth sends no failure reports"),
                ),
                "RequiredHeaders" => self.note(
                    &at,
                    format_args!(
                        "{NOT_CARRIED}: a message without exactly one From is a DMARC permerror \
                         or none, not refused for its header"
                    ),
                ),
                "IgnoreMailFrom" => self.note(
                    &at,
                    format_args!("{NOT_CARRIED}: mailauth checks the mail of every domain"),
                ),
                "RecordAllMessages" => self.note(
                    &at,
                    format_args!(
                        "{NOT_CARRIED}: the store of aggregate report data is not in the \
                         settings yet"
                    ),
                ),
                _ => self.note(
                    &at,
                    format_args!("{NOT_CARRIED}: mailauth has no setting for it"),
                ),
            }
        }
    }

    fn policyd_spf(&mut self, source: &Source, options: &[ConfOption]) {
        for option in options {
            let Some(name) = canonical(POLICYD_SPF_OPTIONS, &option.name) else {
                self.unknown(source, option, "policyd-spf");
                continue;
            };
            let at = source.at(option, name);
            let value = option.value.as_str();
            match name {
                "debugLevel" => self.note(
                    &at,
                    format_args!(
                        "{NOT_CARRIED}: mailauth logs one line for every message; log.why adds \
                         the reasons"
                    ),
                ),
                "TestOnly" => match self.bool(&at, value) {
                    Some(false) => self.set_with(
                        &at,
                        "",
                        "test_only",
                        Value::Boolean(true),
                        Some("0: nothing refused"),
                    ),
                    Some(true) => self.note(
                        &at,
                        format_args!(
                            "{NOT_CARRIED}: TestOnly = 1 is policyd-spf's normal mode (it does \
                             refuse mail, despite the name); test_only = false is the same"
                        ),
                    ),
                    None => {}
                },
                "HELO_reject" => self.spf_rejection(&at, "helo_reject", value),
                "Mail_From_reject" => self.spf_rejection(&at, "mail_from_reject", value),
                "PermError_reject" => self.set_bool(&at, "spf", "permerror_reject", value),
                "TempError_Defer" => self.set_bool(&at, "spf", "temperror_defer", value),
                "skip_addresses" => self.hosts(&at, value),
                "Whitelist" | "HELO_Whitelist" | "Domain_Whitelist" | "Domain_Whitelist_PTR" => {
                    self.note(
                        &at,
                        format_args!(
                            "{NOT_CARRIED}: mailauth has no list of clients or domains left out \
                             of SPF only (internal_hosts signs their mail instead of checking it)"
                        ),
                    );
                }
                "Header_Type" => match value.to_ascii_lowercase().as_str() {
                    "spf" => self.set(&at, "spf", "received_spf", Value::Boolean(true)),
                    "ar" => self.set(&at, "spf", "received_spf", Value::Boolean(false)),
                    "none" => {
                        self.set(&at, "spf", "received_spf", Value::Boolean(false));
                        self.note(
                            &at,
                            format_args!(
                                "None {NOT_CARRIED}: the SPF result is always in the \
                                 Authentication-Results field"
                            ),
                        );
                    }
                    _ => self.note(
                        &at,
                        format_args!("{NOT_CARRIED}: expected SPF, AR or None, not {value:?}"),
                    ),
                },
                "Hide_Receiver" => {
                    if parse_bool(value) != Some(false) {
                        self.note(
                            &at,
                            format_args!(
                                "{NOT_CARRIED}: Received-SPF names spf.receiver (default the \
                                 host name); set spf.receiver to hide it"
                            ),
                        );
                    }
                }
                "Lookup_Time" | "Whitelist_Lookup_Time" => self.note(
                    &at,
                    format_args!(
                        "{NOT_CARRIED}: mailauth bounds each DNS query (dns.timeout_ms, \
                         dns.attempts), not the whole evaluation"
                    ),
                ),
                "Void_Limit" => self.set_number(&at, "spf", "max_void_lookups", value),
                "Authserv_Id" => {
                    if value.eq_ignore_ascii_case("hostname") {
                        self.set_string(&at, "", "authserv_id", super::settings::HOSTNAME);
                    } else {
                        self.authserv_id(&at, value);
                    }
                }
                "Reason_Message" => self.note(
                    &at,
                    format_args!(
                        "{NOT_CARRIED}: write the reply in replies.spf_reject ({{reason}}, \
                         {{explanation}}, {{domain}}, {{ip}})"
                    ),
                ),
                "SPF_Enhanced_Status_Codes" => {
                    if parse_bool(value) == Some(false) {
                        self.note(
                            &at,
                            format_args!(
                                "{NOT_CARRIED}: the enhanced status codes are part of the \
                                 replies.* texts"
                            ),
                        );
                    }
                }
                "Prospective"
                | "No_Mail"
                | "Reject_Not_Pass_Domains"
                | "Mock"
                | "HELO_pass_restriction"
                | "Mail_From_pass_restriction" => self.note(
                    &at,
                    format_args!("{NOT_CARRIED}: mailauth has no setting for it"),
                ),
                "Socket" => self.socket(&at, value),
                "PidFile" => self.set_string(&at, "milter", "pid_file", value),
                "UserID" => self.user(&at, value),
                "UMask" => self.umask(&at, value),
                "InternalHosts" => self.hosts(&at, value),
                _ => self.note(
                    &at,
                    format_args!("{NOT_CARRIED}: mailauth has no setting for it"),
                ),
            }
        }
    }

    /// `HELO_reject`, `Mail_From_reject`.
    fn spf_rejection(&mut self, at: &At, key: &'static str, value: &str) {
        let rejection = match value.to_ascii_lowercase().as_str() {
            "fail" => "fail",
            "softfail" => "softfail",
            "spf_not_pass" => "not_pass",
            "false" => "false",
            "null" if key == "helo_reject" => {
                self.set_with(
                    at,
                    "spf",
                    key,
                    Value::String("false".to_owned()),
                    Some("Null: a null sender's MAIL FROM check is its HELO"),
                );
                return;
            }
            "no_check" => {
                if key == "helo_reject" {
                    self.set_with(
                        at,
                        "spf",
                        "check_helo",
                        Value::Boolean(false),
                        Some("No_Check"),
                    );
                } else {
                    self.set_with(
                        at,
                        "spf",
                        key,
                        Value::String("false".to_owned()),
                        Some("No_Check"),
                    );
                    self.note(
                        at,
                        format_args!(
                            "No_Check {NOT_CARRIED} entirely: the MAIL FROM identity is still \
                             checked (for DMARC), nothing is refused for it"
                        ),
                    );
                }
                return;
            }
            _ => {
                self.note(
                    at,
                    format_args!(
                        "{NOT_CARRIED}: expected Fail, Softfail, SPF_Not_Pass, False or \
                         No_Check, not {value:?}"
                    ),
                );
                return;
            }
        };
        self.set(at, "spf", key, Value::String(rejection.to_owned()));
    }

    fn unknown(&mut self, source: &Source, option: &ConfOption, tool: &str) {
        self.notes.push(ImportNote {
            file: source.path.clone(),
            line: option.line,
            option: option.name.clone(),
            message: format!("{NOT_CARRIED}: not an option of {tool} that mailauth knows"),
        });
    }

    /// What depends on all the files.
    fn finish(&mut self) {
        // A hosts file replaces OpenDKIM's default internal hosts.
        if self.hosts_file
            && self.find("", "internal_hosts").is_none()
            && let Some(at) = self
                .find("", "internal_hosts_file")
                .map(|e| e.from[0].clone())
        {
            self.set_with(
                &at,
                "",
                "internal_hosts",
                Value::Array(Vec::new()),
                Some("the file replaces the default"),
            );
        }
        // OpenDMARC trusts OpenDKIM's results through the shared id; the
        // session checks DKIM itself and needs no results of its own id.
        let own = self
            .find("", "authserv_id")
            .and_then(|e| e.value.as_str().map(str::to_owned));
        if let (Some(own), Some(at)) = (own, self.trusted_at.clone()) {
            let mut dropped = Vec::new();
            if let Some(entry) = self
                .entries
                .iter_mut()
                .find(|e| e.table.is_empty() && e.key == "trusted_authserv_ids")
                && let Value::Array(ids) = &mut entry.value
            {
                ids.retain(|id| {
                    let same = id.as_str().is_some_and(|id| id.eq_ignore_ascii_case(&own));
                    if same {
                        dropped.push(own.clone());
                    }
                    !same
                });
            }
            self.entries.retain(|e| {
                !(e.table.is_empty()
                    && e.key == "trusted_authserv_ids"
                    && e.value.as_array().is_some_and(Vec::is_empty))
            });
            for id in dropped {
                self.note(
                    &at,
                    format_args!(
                        "{id:?} {NOT_CARRIED}: it is authserv_id, and mailauth checks DKIM and \
                         SPF itself rather than trusting its own earlier results"
                    ),
                );
            }
        }
    }

    fn render(&self, sources: &[String]) -> String {
        let mut out = String::new();
        out.push_str("# mailauth settings, imported from:\n");
        for source in sources {
            out.push_str("#   ");
            out.push_str(&source.replace(['\n', '\r'], " "));
            out.push('\n');
        }
        out.push_str(
            "# Keys not written keep their defaults: `mailauth config check FILE` prints\n\
             # them all.\n",
        );
        for (table, keys) in ORDER {
            let mut entries: Vec<&Entry> =
                self.entries.iter().filter(|e| e.table == *table).collect();
            entries.sort_by_key(|e| keys.iter().position(|k| *k == e.key));
            let has_keys = *table == "signing" && !self.keys.is_empty();
            if entries.is_empty() && !has_keys {
                continue;
            }
            if table.is_empty() {
                out.push('\n');
            } else if !entries.is_empty() {
                // ([signing] with keys only needs no header of its own.)
                out.push_str(&format!("\n[{table}]\n"));
            }
            for entry in entries {
                let mut comment: Vec<String> = entry.from.iter().map(At::comment).collect();
                comment.dedup();
                let mut comment = comment.join("; ");
                if let Some(remark) = entry.remark {
                    comment.push_str(" (");
                    comment.push_str(remark);
                    comment.push(')');
                }
                out.push_str(&format!("{} = {}  # {comment}\n", entry.key, entry.value));
            }
            if has_keys {
                self.render_keys(&mut out);
            }
        }
        out
    }

    fn render_keys(&self, out: &mut String) {
        let line = |out: &mut String, key: &str, value: &str, at: &At| {
            out.push_str(&format!(
                "{key} = {}  # {}\n",
                Value::String(value.to_owned()),
                at.comment()
            ));
        };
        for key in &self.keys {
            out.push_str("\n[[signing.keys]]\n");
            line(out, "name", &key.domain_name(), &key.domain_at);
            if key.domain == "%" {
                out.push_str(&format!(
                    "domain = \"%\"  # {} (several domains: d= is the From domain)\n",
                    key.domain_at.comment()
                ));
            } else {
                line(out, "domain", &key.domain, &key.domain_at);
            }
            line(out, "selector", &key.selector, &key.selector_at);
            line(out, "key_file", &key.key_file, &key.key_file_at);
        }
        for key in &self.keys {
            for pattern in &key.patterns {
                out.push_str("\n[[signing.rules]]\n");
                let at = if pattern.contains("@*.") {
                    key.subdomains_at.as_ref().unwrap_or(&key.domain_at)
                } else {
                    &key.domain_at
                };
                line(out, "pattern", pattern, at);
                line(out, "key", &key.domain_name(), &key.domain_at);
            }
        }
    }
}

impl InlineKey {
    /// The key's name: its selector and first rule's domain.
    fn domain_name(&self) -> String {
        let domain = self
            .patterns
            .first()
            .and_then(|p| p.strip_prefix("*@"))
            .unwrap_or(&self.domain);
        format!("{}._domainkey.{domain}", self.selector)
    }
}

fn dotted(table: &str, key: &str) -> String {
    if table.is_empty() {
        key.to_owned()
    } else {
        format!("{table}.{key}")
    }
}

/// The option's spelling in `known`, matched case-insensitively.
fn canonical(known: &[&'static str], name: &str) -> Option<&'static str> {
    known.iter().copied().find(|k| k.eq_ignore_ascii_case(name))
}

/// yes/no, true/false, on/off, 1/0 (and their first letters).
fn parse_bool(value: &str) -> Option<bool> {
    match value.to_ascii_lowercase().as_str() {
        "yes" | "y" | "true" | "t" | "on" | "1" => Some(true),
        "no" | "n" | "false" | "f" | "off" | "0" => Some(false),
        _ => None,
    }
}

/// A comma-separated list (spaces around the items dropped).
fn list(value: &str) -> Vec<&str> {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect()
}

const ON_KEYS: &[(&str, &str)] = &[
    ("On-BadSignature", "on_bad_signature"),
    ("On-NoSignature", "on_no_signature"),
    ("On-DNSError", "on_dns_error"),
    ("On-KeyNotFound", "on_key_not_found"),
    ("On-Security", "on_security"),
];

/// The options of opendkim.conf(5) that are recognized (the others are
/// reported as unknown).
const OPENDKIM_OPTIONS: &[&str] = &[
    "AlwaysAddARHeader",
    "AuthservID",
    "AuthservIDWithJobID",
    "AutoRestart",
    "AutoRestartCount",
    "AutoRestartRate",
    "Background",
    "BaseDirectory",
    "BodyLengths",
    "Canonicalization",
    "ClockDrift",
    "Diagnostics",
    "DNSTimeout",
    "Domain",
    "DomainKeysCompat",
    "ExternalIgnoreList",
    "InternalHosts",
    "KeyFile",
    "KeyTable",
    "LogResults",
    "LogWhy",
    "MaximumHeaders",
    "MaximumSignaturesToVerify",
    "MilterDebug",
    "MinimumKeyBits",
    "Mode",
    "MTA",
    "Nameservers",
    "OmitHeaders",
    "On-BadSignature",
    "On-Default",
    "On-DNSError",
    "On-InternalError",
    "On-KeyNotFound",
    "On-NoSignature",
    "On-Security",
    "On-SignatureError",
    "OversignHeaders",
    "PeerList",
    "PidFile",
    "QueryCache",
    "RemoveOldSignatures",
    "ReportAddress",
    "ReportBccAddress",
    "RequireSafeKeys",
    "Selector",
    "SendReports",
    "SignatureAlgorithm",
    "SignatureTTL",
    "SignHeaders",
    "SigningTable",
    "Socket",
    "SoftwareHeader",
    "Statistics",
    "StatisticsName",
    "StatisticsPrefix",
    "SubDomains",
    "Syslog",
    "SyslogFacility",
    "SyslogSuccess",
    "TemporaryDirectory",
    "TrustAnchorFile",
    "UMask",
    "UserID",
    "X-Header",
];

/// The options of opendmarc.conf(5) that are recognized.
const OPENDMARC_OPTIONS: &[&str] = &[
    "AuthservID",
    "AuthservIDWithJobID",
    "AutoRestart",
    "AutoRestartCount",
    "AutoRestartRate",
    "Background",
    "BaseDirectory",
    "ChangeRootDirectory",
    "CopyFailuresTo",
    "DNSTimeout",
    "FailureReports",
    "FailureReportsBcc",
    "FailureReportsOnNone",
    "FailureReportsSentBy",
    "HistoryFile",
    "HoldQuarantinedMessages",
    "IgnoreAuthenticatedClients",
    "IgnoreHosts",
    "IgnoreMailFrom",
    "MilterDebug",
    "PidFile",
    "PublicSuffixList",
    "RecordAllMessages",
    "RejectFailures",
    "ReportCommand",
    "RequiredHeaders",
    "Socket",
    "SoftwareHeader",
    "SPFIgnoreResults",
    "SPFSelfValidate",
    "Syslog",
    "SyslogFacility",
    "TrustedAuthservIDs",
    "UMask",
    "UserID",
];

/// The options of policyd-spf.conf(5) that are recognized.
const POLICYD_SPF_OPTIONS: &[&str] = &[
    "debugLevel",
    "TestOnly",
    "HELO_reject",
    "HELO_pass_restriction",
    "Mail_From_reject",
    "Mail_From_pass_restriction",
    "No_Mail",
    "Reject_Not_Pass_Domains",
    "PermError_reject",
    "TempError_Defer",
    "skip_addresses",
    "Whitelist",
    "HELO_Whitelist",
    "Domain_Whitelist",
    "Domain_Whitelist_PTR",
    "Header_Type",
    "Hide_Receiver",
    "Authserv_Id",
    "Lookup_Time",
    "Whitelist_Lookup_Time",
    "Void_Limit",
    "Reason_Message",
    "SPF_Enhanced_Status_Codes",
    "Prospective",
    "Mock",
    "Socket",
    "PidFile",
    "UserID",
    "UMask",
    "InternalHosts",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn run(
        dkim: &'static str,
        dmarc: &'static str,
        spf: &'static str,
    ) -> (String, Vec<ImportNote>) {
        let some = |text: &'static str, path: &'static str| {
            (!text.is_empty()).then(|| ConfFile::new(text, Path::new(path)))
        };
        import(
            some(dkim, "/etc/opendkim.conf"),
            some(dmarc, "/etc/opendmarc.conf"),
            some(spf, "/etc/postfix-policyd-spf-python/policyd-spf.conf"),
        )
    }

    fn settings(toml: &str) -> super::super::SettingsFile {
        toml::from_str(toml).unwrap_or_else(|e| panic!("{e}\n{toml}"))
    }

    #[test]
    fn conf_lines() {
        let options = ConfOption::parse_milter_conf(
            "# comment\nSyslog\t\tyes  # trailing\n\nMode sv\nEmpty\n",
        );
        assert_eq!(options.len(), 3);
        assert_eq!((options[0].line, options[0].name.as_str()), (2, "Syslog"));
        assert_eq!(options[0].value, "yes");
        assert_eq!(options[2].value, "");
        assert_eq!(ConfOption::find(&options, "mode"), Some("sv"));
        assert_eq!(ConfOption::find(&options, "Empty"), None);
        let spf = ConfOption::parse_policyd_conf("HELO_reject = Fail\nTestOnly=1\n");
        assert_eq!(spf[0].name, "HELO_reject");
        assert_eq!(spf[1].value, "1");
    }

    #[test]
    fn strings_are_quoted() {
        let (toml, notes) = run("Socket local:/run/o\"dd\\sock\nPidFile /run/a b\n", "", "");
        assert!(notes.is_empty(), "{notes:?}");
        let file = settings(&toml);
        assert_eq!(file.milter.socket, "local:/run/o\"dd\\sock");
        assert_eq!(file.milter.pid_file, "/run/a b");
    }

    #[test]
    fn conflicts_keep_the_first() {
        let (toml, notes) = run(
            "Socket local:/run/opendkim/opendkim.sock\nAuthservID mx.example.com\n",
            "Socket local:/run/opendmarc/opendmarc.sock\nAuthservID mx.example.com\n",
            "Authserv_Id = other.example.com\n",
        );
        let file = settings(&toml);
        assert_eq!(file.milter.socket, "local:/run/opendkim/opendkim.sock");
        assert_eq!(file.authserv_id, "mx.example.com");
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert_eq!(notes[0].option, "Socket");
        assert_eq!(notes[0].file, "/etc/opendmarc.conf");
        assert!(notes[0].message.contains("/etc/opendkim.conf:1 (Socket)"));
        assert_eq!(notes[1].option, "Authserv_Id");
    }

    #[test]
    fn umask_and_user() {
        let (toml, notes) = run("UMask 007\nUserID opendkim:opendkim\n", "", "");
        assert!(notes.is_empty(), "{notes:?}");
        let file = settings(&toml);
        assert_eq!(file.milter.socket_mode, "0660");
        assert_eq!(file.milter.user, "opendkim");
        let (_, notes) = run("UserID opendkim:postfix\n", "", "");
        assert!(notes[0].message.contains("\"postfix\""), "{notes:?}");
    }

    #[test]
    fn inline_key_and_rules() {
        let (toml, notes) = run(
            "Domain example.com\nSelector mail\nKeyFile /etc/dkimkeys/mail.private\nSubDomains yes\n",
            "",
            "",
        );
        assert!(notes.is_empty(), "{notes:?}");
        let file = settings(&toml);
        assert_eq!(file.signing.keys.len(), 1);
        assert_eq!(file.signing.keys[0].domain, "example.com");
        assert_eq!(file.signing.keys[0].key_file, "/etc/dkimkeys/mail.private");
        let patterns: Vec<&str> = file
            .signing
            .rules
            .iter()
            .map(|r| r.pattern.as_str())
            .collect();
        assert_eq!(patterns, ["*@example.com", "*@*.example.com"]);
        assert!(
            file.signing
                .rules
                .iter()
                .all(|r| r.key == file.signing.keys[0].name)
        );
    }

    #[test]
    fn several_domains_sign_with_the_from_domain() {
        let (toml, notes) = run(
            "Domain example.com, example.org\nSelector mail\nKeyFile /k/mail.private\n",
            "",
            "",
        );
        assert!(notes.is_empty(), "{notes:?}");
        assert!(!toml.contains("\n\n\n"), "{toml}");
        let file = settings(&toml);
        assert_eq!(file.signing.keys[0].domain, "%");
        let patterns: Vec<&str> = file
            .signing
            .rules
            .iter()
            .map(|r| r.pattern.as_str())
            .collect();
        assert_eq!(patterns, ["*@example.com", "*@example.org"]);
        let (_, notes) = run("Domain example.com\nSelector mail\n", "", "");
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert!(notes[0].message.contains("go together"));
    }

    #[test]
    fn policyd_spf_values() {
        let (toml, notes) = run(
            "",
            "",
            "debugLevel = 1\nTestOnly = 1\nHELO_reject = SPF_Not_Pass\nMail_From_reject = Softfail\n\
             PermError_reject = True\nTempError_Defer = False\nHeader_Type = SPF\nVoid_Limit = 3\n\
             skip_addresses = 127.0.0.0/8,::ffff:127.0.0.0/104,::1\nBogus = 1\n",
        );
        let file = settings(&toml);
        assert_eq!(file.spf.helo_reject, super::super::SpfRejection::NotPass);
        assert_eq!(
            file.spf.mail_from_reject,
            super::super::SpfRejection::Softfail
        );
        assert!(file.spf.permerror_reject);
        assert!(file.spf.received_spf);
        assert_eq!(file.spf.max_void_lookups, 3);
        assert!(!file.test_only);
        assert_eq!(
            file.internal_hosts,
            ["127.0.0.0/8", "::ffff:127.0.0.0/104", "::1"]
        );
        let options: Vec<&str> = notes.iter().map(|n| n.option.as_str()).collect();
        assert_eq!(options, ["debugLevel", "TestOnly", "Bogus"]);
        let (toml, _) = run("", "", "TestOnly = 0\nHELO_reject = No_Check\n");
        let file = settings(&toml);
        assert!(file.test_only);
        assert!(!file.spf.check_helo);
    }

    #[test]
    fn sign_headers() {
        let (toml, notes) = run(
            "SignHeaders From,To,Subject\nOversignHeaders From\n",
            "",
            "",
        );
        assert!(notes.is_empty(), "{notes:?}");
        let file = settings(&toml);
        assert_eq!(file.signing.headers, ["from", "to", "subject"]);
        assert_eq!(file.signing.oversign_headers, ["from"]);
        let (toml, _) = run("SignHeaders +Organization\n", "", "");
        let file = settings(&toml);
        let mut expected = crate::dkim::SignOptions::default().headers;
        expected.push("organization".to_owned());
        assert_eq!(file.signing.headers, expected);
        let (toml, notes) = run("SignHeaders *\n", "", "");
        assert!(!toml.contains("headers"));
        assert_eq!(notes[0].option, "SignHeaders");
    }

    #[test]
    fn own_id_dropped_from_trusted() {
        let (toml, notes) = run(
            "AuthservID mx.example.com\n",
            "TrustedAuthservIDs mx.example.com, border.example.com\n",
            "",
        );
        let file = settings(&toml);
        assert_eq!(file.trusted_authserv_ids, ["border.example.com"]);
        assert_eq!(notes.len(), 1);
        assert_eq!(notes[0].option, "TrustedAuthservIDs");
        let (toml, _) = run(
            "AuthservID mx.example.com\n",
            "TrustedAuthservIDs mx.example.com\n",
            "",
        );
        assert!(!toml.contains("trusted_authserv_ids"), "{toml}");
    }

    #[test]
    fn every_key_written_is_in_order_and_loads() {
        let (toml, _) = run(
            "Syslog yes\nLogWhy yes\nCanonicalization relaxed\nMinimumKeyBits 1024\n\
             On-Default reject\nOn-DNSError tempfail\nSignatureTTL 86400\nBodyLengths no\n\
             MTA ORIGINATING, submission\nNameservers 127.0.0.1, [::1]:53\nDNSTimeout 10\n",
            "RejectFailures true\nHoldQuarantinedMessages false\nPublicSuffixList /x/psl.dat\n\
             IgnoreAuthenticatedClients true\n",
            "",
        );
        let file = settings(&toml);
        assert_eq!(file.signing.canonicalization, "relaxed/simple");
        assert_eq!(file.verify.on_bad_signature, super::super::Disposal::Reject);
        assert_eq!(file.verify.on_dns_error, super::super::Disposal::Tempfail);
        assert_eq!(file.daemon_names, ["ORIGINATING", "submission"]);
        assert_eq!(file.dns.timeout_ms, 10_000);
        assert_eq!(file.dmarc.quarantine, super::super::QuarantineBy::Accept);
        assert!(
            toml.contains("why = true  # opendkim.conf: LogWhy\n"),
            "{toml}"
        );
    }
}
