//! Internal hosts: the clients whose mail is signed rather than checked,
//! written as OpenDKIM's `InternalHosts` and OpenDMARC's `IgnoreHosts`
//! files are.

use std::fmt;
use std::net::IpAddr;

use crate::inbound::{Network, NetworkError};

/// Networks and host names. An entry is a network in CIDR notation, an
/// address, a host name (matched against the client's reverse name,
/// case-insensitive), or `.example.com` / `*.example.com` (its
/// subdomains). `!` before an entry excludes what it matches, whatever
/// the other entries say.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InternalHosts {
    entries: Vec<(bool, Entry)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Entry {
    Network(Network),
    Name(String),
    Subdomains(String),
}

impl fmt::Display for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Entry::Network(network) => network.fmt(f),
            Entry::Name(name) => f.write_str(name),
            Entry::Subdomains(parent) => write!(f, ".{parent}"),
        }
    }
}

/// An entry that is neither a network nor a host name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{origin}{entry:?}: {problem}")]
pub struct HostsError {
    /// `file:line: ` for an entry of a file, empty otherwise.
    pub origin: String,
    /// The entry.
    pub entry: String,
    /// What is wrong.
    pub problem: String,
}

impl InternalHosts {
    /// Adds one entry.
    ///
    /// # Errors
    /// [`HostsError`] for an entry that is not a network or a name.
    pub fn push(&mut self, entry: &str) -> Result<(), HostsError> {
        let error = |problem: String| HostsError {
            origin: String::new(),
            entry: entry.to_owned(),
            problem,
        };
        let (negated, text) = match entry.trim().strip_prefix('!') {
            Some(rest) => (true, rest.trim()),
            None => (false, entry.trim()),
        };
        let looks_numeric = text.contains(':')
            || text.contains('/')
            || text.bytes().all(|b| b.is_ascii_digit() || b == b'.');
        let parsed = if looks_numeric {
            Entry::Network(
                text.parse()
                    .map_err(|e: NetworkError| error(e.to_string()))?,
            )
        } else {
            let lower = text.to_ascii_lowercase();
            let (subdomains, name) =
                match lower.strip_prefix("*.").or_else(|| lower.strip_prefix('.')) {
                    Some(parent) => (true, parent),
                    None => (false, lower.as_str()),
                };
            let name = name.trim_end_matches('.');
            let valid = !name.is_empty()
                && name.len() <= 253
                && name.split('.').all(|label| {
                    !label.is_empty()
                        && label.len() <= 63
                        && label
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                });
            if !valid {
                return Err(error("not a network or host name".to_owned()));
            }
            if subdomains {
                Entry::Subdomains(name.to_owned())
            } else {
                Entry::Name(name.to_owned())
            }
        };
        self.entries.push((negated, parsed));
        Ok(())
    }

    /// Adds the entries of a file's text: one a line, `#` starts a
    /// comment, blank lines skipped. `origin` names the file in errors.
    ///
    /// # Errors
    /// The first bad entry, with the file and line.
    pub fn push_file_text(&mut self, text: &str, origin: &str) -> Result<(), HostsError> {
        for (number, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            self.push(line).map_err(|mut e| {
                e.origin = format!("{origin}:{}: ", number + 1);
                e
            })?;
        }
        Ok(())
    }

    /// Whether there is no entry.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entry a client matches (by address or reverse name), written
    /// as in the settings; `None` when none does or an excluding (`!`)
    /// entry matches.
    pub fn find(&self, address: Option<IpAddr>, name: Option<&str>) -> Option<String> {
        let name = name.map(|n| n.trim_end_matches('.').to_ascii_lowercase());
        let matches = |entry: &Entry| match entry {
            Entry::Network(network) => address.is_some_and(|ip| network.contains(ip)),
            Entry::Name(host) => name.as_deref() == Some(host.as_str()),
            Entry::Subdomains(parent) => name.as_deref().is_some_and(|n| {
                n.len() > parent.len()
                    && n.ends_with(parent.as_str())
                    && n.as_bytes()[n.len() - parent.len() - 1] == b'.'
            }),
        };
        if self.entries.iter().any(|(neg, e)| *neg && matches(e)) {
            return None;
        }
        self.entries
            .iter()
            .find(|(neg, e)| !*neg && matches(e))
            .map(|(_, e)| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(text: &str) -> InternalHosts {
        let mut hosts = InternalHosts::default();
        hosts.push_file_text(text, "hosts").unwrap();
        hosts
    }

    #[test]
    fn networks_names_subdomains_and_exclusions() {
        let h = hosts(
            "# relay\n127.0.0.1\n10.0.0.0/8 # lan\n!10.9.0.0/16\nmail.example.com\n.corp.example\n::1\n",
        );
        let ip = |s: &str| Some(s.parse().unwrap());
        assert_eq!(
            h.find(ip("127.0.0.1"), None).as_deref(),
            Some("127.0.0.1/32")
        );
        assert_eq!(h.find(ip("10.1.2.3"), None).as_deref(), Some("10.0.0.0/8"));
        assert_eq!(h.find(ip("10.9.1.1"), None), None);
        assert_eq!(
            h.find(ip("192.0.2.1"), Some("MAIL.example.com."))
                .as_deref(),
            Some("mail.example.com")
        );
        assert_eq!(
            h.find(None, Some("a.corp.example")).as_deref(),
            Some(".corp.example")
        );
        assert_eq!(h.find(None, Some("corp.example")), None);
        assert_eq!(h.find(None, Some("xcorp.example")), None);
        assert_eq!(h.find(ip("::1"), None).as_deref(), Some("::1/128"));
        assert_eq!(h.find(ip("192.0.2.1"), None), None);
    }

    #[test]
    fn bad_entries_name_the_line() {
        let mut h = InternalHosts::default();
        let e = h
            .push_file_text("10.0.0.0/8\n10.0.0.0/99\n", "ih")
            .unwrap_err();
        assert!(e.to_string().starts_with("ih:2: "), "{e}");
        assert!(h.push("bad name!").is_err());
        assert!(h.push("1.2.3.4.5").is_err());
    }
}
