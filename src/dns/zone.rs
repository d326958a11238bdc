//! An in-memory resolver.

use std::collections::HashMap;
use std::net::{Ipv4Addr, Ipv6Addr};

use super::{Answer, Failure, Mx, Name, Query, RecordType, Records, Resolver, Txt};

/// The TTL given to records added in code.
const DEFAULT_TTL: u32 = 3600;
/// How many CNAMEs a lookup follows before giving up (as a recursive
/// resolver would answer SERVFAIL on a loop).
const MAX_CNAME_CHAIN: usize = 16;

/// The data of one resource record held by a [`ZoneResolver`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RecordData {
    /// An IPv4 address.
    A(Ipv4Addr),
    /// An IPv6 address.
    Aaaa(Ipv6Addr),
    /// A mail exchanger.
    Mx(Mx),
    /// A text record.
    Txt(Txt),
    /// A pointer.
    Ptr(Name),
    /// An alias: lookups of this name continue at the target.
    Cname(Name),
}

#[derive(Debug, Clone, Default)]
struct Node {
    records: Vec<(RecordData, u32)>,
    times_out: bool,
}

/// A resolver answering from records held in memory.
///
/// Fill it from zone-file text ([`ZoneResolver::from_zone_text`]) or in code
/// ([`ZoneResolver::add`]). Names not present do not exist (NXDOMAIN); a name
/// present without records of the asked type answers no data; a name marked
/// with [`ZoneResolver::set_timeout`] answers a timeout for every type it has
/// no records of. CNAMEs are followed, as a recursive resolver does.
#[derive(Debug, Clone, Default)]
pub struct ZoneResolver {
    nodes: HashMap<Name, Node>,
}

impl ZoneResolver {
    /// An empty zone: every name is NXDOMAIN.
    pub fn new() -> ZoneResolver {
        ZoneResolver::default()
    }

    /// Adds a record at `name` with the default TTL (one hour).
    pub fn add(&mut self, name: &Name, data: RecordData) {
        self.add_with_ttl(name, data, DEFAULT_TTL);
    }

    /// Adds a record at `name`, cached by callers for `ttl` seconds.
    pub fn add_with_ttl(&mut self, name: &Name, data: RecordData, ttl: u32) {
        self.node(name).records.push((data, ttl));
    }

    /// Adds a TXT record holding `text` (split into 255-octet strings).
    pub fn add_txt(&mut self, name: &Name, text: impl AsRef<[u8]>) {
        self.add(name, RecordData::Txt(Txt::from_text(text)));
    }

    /// Makes `name` exist without giving it records (so that lookups answer
    /// no data rather than NXDOMAIN).
    pub fn add_name(&mut self, name: &Name) {
        self.node(name);
    }

    /// Makes every lookup of `name` for a type it has no records of time
    /// out (a [`Answer::TempFail`] with [`Failure::Timeout`]).
    pub fn set_timeout(&mut self, name: &Name) {
        self.node(name).times_out = true;
    }

    /// Removes every record at `name`; the name then does not exist.
    pub fn remove(&mut self, name: &Name) {
        self.nodes.remove(name);
    }

    fn node(&mut self, name: &Name) -> &mut Node {
        self.nodes.entry(name.clone()).or_default()
    }

    fn answer_at(&self, name: &Name, record_type: RecordType) -> Result<(Answer, u32), Name> {
        let Some(node) = self.nodes.get(name) else {
            return Ok((Answer::NxDomain, DEFAULT_TTL));
        };
        let mut ttl = u32::MAX;
        let mut records = match record_type {
            RecordType::A => Records::A(Vec::new()),
            RecordType::Aaaa => Records::Aaaa(Vec::new()),
            RecordType::Mx => Records::Mx(Vec::new()),
            RecordType::Txt => Records::Txt(Vec::new()),
            RecordType::Ptr => Records::Ptr(Vec::new()),
        };
        for (data, record_ttl) in &node.records {
            match (&mut records, data) {
                (Records::A(v), RecordData::A(a)) => v.push(*a),
                (Records::Aaaa(v), RecordData::Aaaa(a)) => v.push(*a),
                (Records::Mx(v), RecordData::Mx(m)) => v.push(m.clone()),
                (Records::Txt(v), RecordData::Txt(t)) => v.push(t.clone()),
                (Records::Ptr(v), RecordData::Ptr(p)) => v.push(p.clone()),
                (_, RecordData::Cname(target)) => return Err(target.clone()),
                _ => continue,
            }
            ttl = ttl.min(*record_ttl);
        }
        if !records.is_empty() {
            Ok((Answer::Records(records), ttl))
        } else if node.times_out {
            Ok((Answer::TempFail(Failure::Timeout), 0))
        } else {
            Ok((Answer::NoData, DEFAULT_TTL))
        }
    }
}

impl Resolver for ZoneResolver {
    fn lookup_with_ttl(&self, query: &Query) -> (Answer, Option<u32>) {
        let mut name = query.name.clone();
        for _ in 0..MAX_CNAME_CHAIN {
            match self.answer_at(&name, query.record_type) {
                Ok((answer, ttl)) => return (answer, Some(ttl)),
                Err(target) => name = target,
            }
        }
        (Answer::TempFail(Failure::CnameLoop), Some(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Name {
        Name::new(s).unwrap()
    }

    #[test]
    fn answers_each_kind() {
        let mut z = ZoneResolver::new();
        z.add(&n("a.example"), RecordData::A(Ipv4Addr::new(192, 0, 2, 1)));
        z.add_txt(&n("a.example"), "hello");
        z.set_timeout(&n("slow.example"));
        z.add(&n("alias.example"), RecordData::Cname(n("A.example")));
        z.add(&n("loop1.example"), RecordData::Cname(n("loop2.example")));
        z.add(&n("loop2.example"), RecordData::Cname(n("loop1.example")));

        let q = |name: &str, t| z.lookup(&Query::new(n(name), t));
        assert_eq!(
            q("a.example", RecordType::A),
            Answer::Records(Records::A(vec![Ipv4Addr::new(192, 0, 2, 1)]))
        );
        assert_eq!(q("a.example", RecordType::Mx), Answer::NoData);
        assert_eq!(q("b.example", RecordType::A), Answer::NxDomain);
        assert_eq!(
            q("slow.example", RecordType::Txt),
            Answer::TempFail(Failure::Timeout)
        );
        assert_eq!(
            q("alias.example", RecordType::Txt).txt().unwrap()[0].joined(),
            b"hello"
        );
        assert_eq!(
            q("loop1.example", RecordType::A),
            Answer::TempFail(Failure::CnameLoop)
        );
    }
}
