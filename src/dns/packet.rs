//! DNS messages on the wire (RFC 1035 §4): a query to send, and the
//! [`Answer`] carried by a response packet.
//!
//! For callers that run their own DNS client (an MTA's resolver, `res_query`
//! in C): build the query with [`build_query`] or let the client build it,
//! then hand the raw response to [`parse_response`].

use hickory_proto::op::{Message, MessageType, OpCode, ResponseCode};
use hickory_proto::rr::{DNSClass, Name as WireName, RData, Record};

use super::{Answer, Failure, Mx, Name, Query, RecordType, Records, Txt};

/// Length of the fixed DNS header (RFC 1035 §4.1.1).
const HEADER_LEN: usize = 12;
/// How many CNAMEs inside one answer section are followed before the
/// answer is taken as a loop.
const MAX_CNAME_CHAIN: usize = 16;
/// The TC bit in the third header octet.
const TRUNCATION_BIT: u8 = 0x02;

/// Why a response packet gives no answer to the query.
///
/// A caller that needs an [`Answer`] whatever happens can use
/// [`answer_from_response`], which turns each of these into
/// [`Answer::TempFail`] with [`Failure::MalformedResponse`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum PacketError {
    /// The bytes are not a well-formed DNS message (too short, bad lengths,
    /// bad compression pointers, trailing garbage in a record).
    #[error("malformed dns message")]
    Malformed,
    /// The message is a query, not a response.
    #[error("dns message is not a response")]
    NotAResponse,
    /// The response is to an operation other than a standard query.
    #[error("dns response to an operation other than query")]
    UnexpectedOpcode,
    /// The question section does not hold exactly the query asked
    /// (name, type and class IN).
    #[error("dns response question does not match the query")]
    QuestionMismatch,
    /// The TC bit is set: the answer did not fit and must be asked again
    /// over TCP (RFC 1035 §4.2.1, RFC 7766).
    #[error("dns response is truncated")]
    Truncated,
}

/// The encoded form of `query`: a standard query with recursion desired,
/// class IN, and an EDNS0 OPT record (RFC 6891) advertising
/// `edns_udp_size` octets when given.
///
/// Labels are written as the octets of the [`Name`], without IDNA or any
/// other mapping. The encoding cannot fail: a [`Name`] is always a valid
/// wire name (at most 253 octets of text, labels of 1 to 63 octets).
pub fn build_query(query: &Query, id: u16, edns_udp_size: Option<u16>) -> Vec<u8> {
    let name = query.name.as_str();
    let mut packet = Vec::with_capacity(HEADER_LEN + name.len() + 2 + 4 + 11);
    packet.extend_from_slice(&id.to_be_bytes());
    // QR=0, OPCODE=0 (query), RD=1; RA, Z, RCODE zero.
    packet.extend_from_slice(&[0x01, 0x00]);
    let additional_count: u16 = if edns_udp_size.is_some() { 1 } else { 0 };
    for count in [1, 0, 0, additional_count] {
        packet.extend_from_slice(&u16::to_be_bytes(count));
    }
    for label in query.name.labels() {
        // `Name` guarantees 1 to 63 octets per label.
        packet.push(u8::try_from(label.len()).unwrap_or(63));
        packet.extend_from_slice(label.as_bytes());
    }
    packet.push(0);
    packet.extend_from_slice(&query.record_type.code().to_be_bytes());
    packet.extend_from_slice(&u16::from(DNSClass::IN).to_be_bytes());
    if let Some(size) = edns_udp_size {
        // OPT pseudo-RR (RFC 6891 §6.1.2): root owner, type 41, CLASS is the
        // UDP payload size, TTL holds extended RCODE, version 0 and flags,
        // empty RDATA.
        packet.push(0);
        packet.extend_from_slice(&41u16.to_be_bytes());
        packet.extend_from_slice(&size.to_be_bytes());
        packet.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    }
    packet
}

/// The answer a response packet gives to `query`, with the time in
/// seconds it may be cached.
///
/// The message ID is not checked (the caller's client matched it); the
/// question is. Response codes map as follows:
///
/// | RCODE | answer |
/// |---|---|
/// | NOERROR with records of the asked type | [`Answer::Records`], TTL the smallest of the records and CNAMEs used |
/// | NOERROR without them | [`Answer::NoData`], TTL from the SOA in the authority section |
/// | NXDOMAIN | [`Answer::NxDomain`], TTL from the SOA (RFC 2308 §5) |
/// | SERVFAIL | [`Answer::TempFail`] with [`Failure::ServerFailure`] |
/// | REFUSED | [`Answer::TempFail`] with [`Failure::Refused`] |
/// | FORMERR, NOTIMP | [`Answer::PermFail`] with [`Failure::Other`] |
/// | any other | [`Answer::TempFail`] with [`Failure::Other`] |
///
/// REFUSED is temporary: it comes from a server's access policy, not from
/// the data, so another server (or the same one once fixed) may answer;
/// SPF and DMARC then defer the message instead of failing it. FORMERR and
/// NOTIMP say the server cannot handle this query at all, which asking
/// again does not change.
///
/// CNAMEs in the answer section are followed from the question name (up to
/// 16, then [`Failure::CnameLoop`]). TXT records keep their
/// character-strings apart. MX and PTR targets that are not valid
/// [`Name`]s (octets that are not UTF-8, dots inside a label) are left out,
/// as no lookup of them could succeed. A root target is kept as
/// [`Name::root`]: `MX 0 .` is a null MX (RFC 7505 §3), an answer with one
/// record, not an empty one.
///
/// # Errors
/// A [`PacketError`] when the packet is not a well-formed response to this
/// query, or is truncated.
pub fn parse_response(query: &Query, packet: &[u8]) -> Result<(Answer, Option<u32>), PacketError> {
    let decoded = decode_response(query, packet)?;
    Ok((decoded.answer, decoded.ttl))
}

/// Like [`parse_response`], but a packet that gives no answer becomes
/// [`Answer::TempFail`] with [`Failure::MalformedResponse`] and no TTL.
pub fn answer_from_response(query: &Query, packet: &[u8]) -> (Answer, Option<u32>) {
    parse_response(query, packet).unwrap_or((Answer::TempFail(Failure::MalformedResponse), None))
}

/// A decoded response: the answer plus what a client needs to decide
/// whether to ask again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Decoded {
    /// The response code, with EDNS extended bits merged.
    #[cfg_attr(not(feature = "stub-resolver"), allow(dead_code))]
    pub(crate) response_code: ResponseCode,
    pub(crate) answer: Answer,
    pub(crate) ttl: Option<u32>,
}

/// The message ID of a packet, if it is long enough to have one.
#[cfg_attr(not(feature = "stub-resolver"), allow(dead_code))]
pub(crate) fn message_id(packet: &[u8]) -> Option<u16> {
    match packet {
        [high, low, ..] => Some(u16::from_be_bytes([*high, *low])),
        _ => None,
    }
}

/// [`parse_response`] keeping the response code.
pub(crate) fn decode_response(query: &Query, packet: &[u8]) -> Result<Decoded, PacketError> {
    if packet.len() < HEADER_LEN {
        return Err(PacketError::Malformed);
    }
    // A truncated answer may be cut anywhere, so look at TC before parsing
    // the rest.
    if packet
        .get(2)
        .is_some_and(|flags| flags & TRUNCATION_BIT != 0)
    {
        return Err(PacketError::Truncated);
    }
    let message = Message::from_vec(packet).map_err(|_| PacketError::Malformed)?;
    if message.metadata.message_type != MessageType::Response {
        return Err(PacketError::NotAResponse);
    }
    if message.metadata.op_code != OpCode::Query {
        return Err(PacketError::UnexpectedOpcode);
    }
    let response_code = message.metadata.response_code;
    match message.queries.as_slice() {
        [question]
            if question.query_class() == DNSClass::IN
                && u16::from(question.query_type()) == query.record_type.code()
                && same_name(question.name(), &query.name) => {}
        // Some servers leave the question out of error responses.
        [] if !matches!(
            response_code,
            ResponseCode::NoError | ResponseCode::NXDomain
        ) => {}
        _ => return Err(PacketError::QuestionMismatch),
    }
    let (answer, ttl) = match response_code {
        ResponseCode::NoError => match follow_answer(&message, query.record_type) {
            Some((records, ttl)) if !records.is_empty() => (Answer::Records(records), Some(ttl)),
            Some(_) => (Answer::NoData, negative_ttl(&message)),
            None => (Answer::TempFail(Failure::CnameLoop), None),
        },
        ResponseCode::NXDomain => (Answer::NxDomain, negative_ttl(&message)),
        ResponseCode::ServFail => (Answer::TempFail(Failure::ServerFailure), None),
        ResponseCode::Refused => (Answer::TempFail(Failure::Refused), None),
        ResponseCode::FormErr | ResponseCode::NotImp => (Answer::PermFail(Failure::Other), None),
        _ => (Answer::TempFail(Failure::Other), None),
    };
    Ok(Decoded {
        response_code,
        answer,
        ttl,
    })
}

/// Whether a wire name is `name`, comparing labels as octets without ASCII
/// case.
fn same_name(wire: &WireName, name: &Name) -> bool {
    // Not `num_labels`, which leaves out a leading `*`.
    wire.iter().count() == name.label_count()
        && wire
            .iter()
            .zip(name.labels())
            .all(|(a, b)| a.eq_ignore_ascii_case(b.as_bytes()))
}

/// A wire name as a [`Name`], if it can be one (the root included).
fn to_name(wire: &WireName) -> Option<Name> {
    if wire.is_root() {
        return Some(Name::root());
    }
    let mut text = String::new();
    for label in wire.iter() {
        let label = std::str::from_utf8(label).ok()?;
        if label.contains('.') {
            return None;
        }
        if !text.is_empty() {
            text.push('.');
        }
        text.push_str(label);
    }
    Name::new(&text).ok()
}

/// The records of `record_type` at the end of the CNAME chain that starts
/// at the question name, with the smallest TTL met on the way; `None` when
/// the chain is too long.
fn follow_answer(message: &Message, record_type: RecordType) -> Option<(Records, u32)> {
    let answers: Vec<&Record> = message
        .answers
        .iter()
        .filter(|record| record.dns_class == DNSClass::IN)
        .collect();
    let mut owner = message.queries.first()?.name().clone();
    let mut ttl = u32::MAX;
    for _ in 0..=MAX_CNAME_CHAIN {
        let mut records = empty_records(record_type);
        let mut record_ttl = u32::MAX;
        let mut cname = None;
        for record in answers.iter().filter(|record| record.name == owner) {
            let added = match (&mut records, &record.data) {
                (Records::A(v), RData::A(a)) => {
                    v.push(a.0);
                    true
                }
                (Records::Aaaa(v), RData::AAAA(a)) => {
                    v.push(a.0);
                    true
                }
                (Records::Txt(v), RData::TXT(txt)) => {
                    v.push(Txt::new(txt.txt_data.iter().map(|s| s.to_vec()).collect()));
                    true
                }
                (Records::Mx(v), RData::MX(mx)) => match to_name(&mx.exchange) {
                    Some(exchange) => {
                        v.push(Mx {
                            preference: mx.preference,
                            exchange,
                        });
                        true
                    }
                    None => false,
                },
                (Records::Ptr(v), RData::PTR(ptr)) => match to_name(&ptr.0) {
                    Some(target) => {
                        v.push(target);
                        true
                    }
                    None => false,
                },
                (_, RData::CNAME(target)) => {
                    cname = Some((target.0.clone(), record.ttl));
                    false
                }
                _ => false,
            };
            if added {
                record_ttl = record_ttl.min(record.ttl);
            }
        }
        if !records.is_empty() {
            return Some((records, ttl.min(record_ttl)));
        }
        match cname {
            Some((target, cname_ttl)) => {
                ttl = ttl.min(cname_ttl);
                owner = target;
            }
            None => return Some((records, ttl)),
        }
    }
    None
}

fn empty_records(record_type: RecordType) -> Records {
    match record_type {
        RecordType::A => Records::A(Vec::new()),
        RecordType::Aaaa => Records::Aaaa(Vec::new()),
        RecordType::Mx => Records::Mx(Vec::new()),
        RecordType::Txt => Records::Txt(Vec::new()),
        RecordType::Ptr => Records::Ptr(Vec::new()),
    }
}

/// How long a negative answer may be cached: the smaller of the SOA
/// record's TTL and its MINIMUM field (RFC 2308 §5); `None` without SOA.
fn negative_ttl(message: &Message) -> Option<u32> {
    message
        .authorities
        .iter()
        .filter_map(|record| match &record.data {
            RData::SOA(soa) => Some(record.ttl.min(soa.minimum)),
            _ => None,
        })
        .min()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use hickory_proto::op::{Edns, Query as WireQuery};
    use hickory_proto::rr::RecordType as WireType;
    use hickory_proto::rr::rdata::{A, CNAME, MX, PTR, SOA, TXT};
    use std::net::Ipv4Addr;

    fn n(s: &str) -> Name {
        Name::new(s).unwrap()
    }

    fn wire(s: &str) -> WireName {
        WireName::from_ascii(format!("{s}.")).unwrap()
    }

    fn q(name: &str, record_type: RecordType) -> Query {
        Query::new(n(name), record_type)
    }

    /// A response to `name`/`record_type` with these answer and authority
    /// records and response code.
    fn response(
        name: &str,
        record_type: WireType,
        code: ResponseCode,
        answers: Vec<Record>,
        authorities: Vec<Record>,
    ) -> Vec<u8> {
        let mut message = Message::response(0x1234, OpCode::Query);
        message.metadata.response_code = code;
        message.add_query(WireQuery::query(wire(name), record_type));
        message.add_answers(answers);
        message.add_authorities(authorities);
        message.to_vec().unwrap()
    }

    fn record(name: &str, ttl: u32, data: RData) -> Record {
        Record::from_rdata(wire(name), ttl, data)
    }

    fn soa(ttl: u32, minimum: u32) -> Record {
        record(
            "example.com",
            ttl,
            RData::SOA(SOA::new(
                wire("ns.example.com"),
                wire("hostmaster.example.com"),
                1,
                3600,
                600,
                86400,
                minimum,
            )),
        )
    }

    #[test]
    fn builds_a_query_hickory_reads_back() {
        let query = q("Sel._domainkey.Example.com", RecordType::Txt);
        let packet = build_query(&query, 0xbeef, Some(1232));
        let message = Message::from_vec(&packet).unwrap();
        assert_eq!(message.metadata.id, 0xbeef);
        assert_eq!(message.metadata.message_type, MessageType::Query);
        assert!(message.metadata.recursion_desired);
        assert_eq!(message.queries.len(), 1);
        assert_eq!(message.queries[0].query_type(), WireType::TXT);
        assert_eq!(message.queries[0].query_class(), DNSClass::IN);
        assert!(
            message.queries[0]
                .name()
                .eq_case(&wire("Sel._domainkey.Example.com"))
        );
        assert_eq!(message.edns.as_ref().map(Edns::max_payload), Some(1232));

        let packet = build_query(&query, 7, None);
        let message = Message::from_vec(&packet).unwrap();
        assert!(message.edns.is_none());
        assert!(message.additionals.is_empty());
    }

    #[test]
    fn query_names_are_raw_octets_without_idna() {
        let query = q("bücher.example", RecordType::A);
        let packet = build_query(&query, 1, None);
        let message = Message::from_vec(&packet).unwrap();
        let labels: Vec<&[u8]> = message.queries[0].name().iter().collect();
        assert_eq!(labels, vec!["bücher".as_bytes(), b"example"]);
        // And the response to it is matched on the same octets.
        let mut reply = Message::response(1, OpCode::Query);
        reply.add_query(message.queries[0].clone());
        reply.add_answer(Record::from_rdata(
            message.queries[0].name().clone(),
            60,
            RData::A(A(Ipv4Addr::new(192, 0, 2, 1))),
        ));
        let (answer, ttl) = parse_response(&query, &reply.to_vec().unwrap()).unwrap();
        assert_eq!(
            answer,
            Answer::Records(Records::A(vec![Ipv4Addr::new(192, 0, 2, 1)]))
        );
        assert_eq!(ttl, Some(60));
    }

    #[test]
    fn wildcard_label_in_question_matches() {
        let query = q("*.example.com", RecordType::Txt);
        let packet = response(
            "*.example.com",
            WireType::TXT,
            ResponseCode::NoError,
            vec![record(
                "*.example.com",
                60,
                RData::TXT(TXT::new(vec!["w".into()])),
            )],
            vec![],
        );
        assert!(matches!(
            parse_response(&query, &packet),
            Ok((Answer::Records(_), _))
        ));
        assert_eq!(
            parse_response(&q("example.com", RecordType::Txt), &packet),
            Err(PacketError::QuestionMismatch)
        );
    }

    #[test]
    fn txt_with_several_strings_kept_apart() {
        let packet = response(
            "example.com",
            WireType::TXT,
            ResponseCode::NoError,
            vec![
                record(
                    "example.com",
                    300,
                    RData::TXT(TXT::from_bytes(vec![b"v=spf1 ", b"-all", b"\xff"])),
                ),
                record(
                    "example.com",
                    200,
                    RData::TXT(TXT::new(vec!["second".into()])),
                ),
            ],
            vec![],
        );
        let (answer, ttl) = parse_response(&q("EXAMPLE.com", RecordType::Txt), &packet).unwrap();
        let txt = answer.txt().unwrap();
        assert_eq!(txt.len(), 2);
        assert_eq!(
            txt[0].strings(),
            &[b"v=spf1 ".to_vec(), b"-all".to_vec(), vec![0xff]]
        );
        assert_eq!(txt[1].joined(), b"second");
        assert_eq!(ttl, Some(200));
    }

    #[test]
    fn each_response_code() {
        let query = q("example.com", RecordType::Txt);
        let cases = [
            (ResponseCode::NXDomain, Answer::NxDomain, Some(60)),
            (ResponseCode::NoError, Answer::NoData, Some(60)),
            (
                ResponseCode::ServFail,
                Answer::TempFail(Failure::ServerFailure),
                None,
            ),
            (
                ResponseCode::Refused,
                Answer::TempFail(Failure::Refused),
                None,
            ),
            (
                ResponseCode::FormErr,
                Answer::PermFail(Failure::Other),
                None,
            ),
            (ResponseCode::NotImp, Answer::PermFail(Failure::Other), None),
            (
                ResponseCode::YXDomain,
                Answer::TempFail(Failure::Other),
                None,
            ),
            (
                ResponseCode::NotAuth,
                Answer::TempFail(Failure::Other),
                None,
            ),
        ];
        for (code, expected, expected_ttl) in cases {
            // SOA TTL 300, MINIMUM 60: the negative TTL is the smaller.
            let packet = response(
                "example.com",
                WireType::TXT,
                code,
                vec![],
                vec![soa(300, 60)],
            );
            let (answer, ttl) = parse_response(&query, &packet).unwrap();
            assert_eq!((answer, ttl), (expected, expected_ttl), "rcode {code:?}");
        }
        // Without a SOA, negative answers carry no TTL.
        let packet = response(
            "example.com",
            WireType::TXT,
            ResponseCode::NXDomain,
            vec![],
            vec![],
        );
        assert_eq!(
            parse_response(&query, &packet),
            Ok((Answer::NxDomain, None))
        );
        // Records of another type only: no data.
        let packet = response(
            "example.com",
            WireType::TXT,
            ResponseCode::NoError,
            vec![record("example.com", 5, RData::A(A(Ipv4Addr::LOCALHOST)))],
            vec![soa(10, 20)],
        );
        assert_eq!(
            parse_response(&query, &packet),
            Ok((Answer::NoData, Some(10)))
        );
    }

    #[test]
    fn follows_cname_chains_in_the_answer() {
        let query = q("www.example.com", RecordType::Mx);
        let packet = response(
            "www.example.com",
            WireType::MX,
            ResponseCode::NoError,
            vec![
                record(
                    "www.example.com",
                    100,
                    RData::CNAME(CNAME(wire("a.example.net"))),
                ),
                record(
                    "A.example.NET",
                    50,
                    RData::CNAME(CNAME(wire("b.example.org"))),
                ),
                record(
                    "b.example.org",
                    300,
                    RData::MX(MX::new(10, wire("mx.example.org"))),
                ),
                // Not on the chain: ignored.
                record(
                    "c.example.org",
                    1,
                    RData::MX(MX::new(5, wire("other.example.org"))),
                ),
            ],
            vec![],
        );
        let (answer, ttl) = parse_response(&query, &packet).unwrap();
        assert_eq!(
            answer,
            Answer::Records(Records::Mx(vec![Mx {
                preference: 10,
                exchange: n("mx.example.org")
            }]))
        );
        assert_eq!(ttl, Some(50));

        // A chain ending without records: no data.
        let packet = response(
            "www.example.com",
            WireType::MX,
            ResponseCode::NoError,
            vec![record(
                "www.example.com",
                100,
                RData::CNAME(CNAME(wire("gone.example.net"))),
            )],
            vec![],
        );
        assert_eq!(parse_response(&query, &packet).unwrap().0, Answer::NoData);

        // A loop.
        let packet = response(
            "www.example.com",
            WireType::MX,
            ResponseCode::NoError,
            vec![
                record(
                    "www.example.com",
                    1,
                    RData::CNAME(CNAME(wire("x.example.com"))),
                ),
                record(
                    "x.example.com",
                    1,
                    RData::CNAME(CNAME(wire("www.example.com"))),
                ),
            ],
            vec![],
        );
        assert_eq!(
            parse_response(&query, &packet).unwrap().0,
            Answer::TempFail(Failure::CnameLoop)
        );
    }

    #[test]
    fn unrepresentable_targets_are_left_out() {
        let bad = WireName::from_labels(vec![&b"a.b"[..], b"example"]).unwrap();
        let non_utf8 = WireName::from_labels(vec![&b"\xff"[..], b"example"]).unwrap();
        let packet = response(
            "1.2.0.192.in-addr.arpa",
            WireType::PTR,
            ResponseCode::NoError,
            vec![
                record("1.2.0.192.in-addr.arpa", 60, RData::PTR(PTR(bad))),
                record("1.2.0.192.in-addr.arpa", 60, RData::PTR(PTR(non_utf8))),
                record(
                    "1.2.0.192.in-addr.arpa",
                    60,
                    RData::PTR(PTR(wire("host.example"))),
                ),
            ],
            vec![],
        );
        let (answer, _) =
            parse_response(&q("1.2.0.192.in-addr.arpa", RecordType::Ptr), &packet).unwrap();
        assert_eq!(
            answer,
            Answer::Records(Records::Ptr(vec![n("host.example")]))
        );
    }

    #[test]
    fn null_mx_is_one_record_not_no_data() {
        let packet = response(
            "example.com",
            WireType::MX,
            ResponseCode::NoError,
            vec![record(
                "example.com",
                300,
                RData::MX(MX::new(0, WireName::root())),
            )],
            vec![],
        );
        let (answer, ttl) = parse_response(&q("example.com", RecordType::Mx), &packet).unwrap();
        assert_eq!(answer, Answer::Records(Records::Mx(vec![Mx::null()])));
        assert!(!answer.is_void());
        assert_eq!(ttl, Some(300));
        // A root PTR target is kept as the root too.
        let packet = response(
            "1.2.0.192.in-addr.arpa",
            WireType::PTR,
            ResponseCode::NoError,
            vec![record(
                "1.2.0.192.in-addr.arpa",
                60,
                RData::PTR(PTR(WireName::root())),
            )],
            vec![],
        );
        let (answer, _) =
            parse_response(&q("1.2.0.192.in-addr.arpa", RecordType::Ptr), &packet).unwrap();
        assert_eq!(answer, Answer::Records(Records::Ptr(vec![Name::root()])));
    }

    #[test]
    fn rejects_wrong_question_and_non_responses() {
        let packet = response(
            "example.com",
            WireType::TXT,
            ResponseCode::NoError,
            vec![],
            vec![],
        );
        assert_eq!(
            parse_response(&q("example.org", RecordType::Txt), &packet),
            Err(PacketError::QuestionMismatch)
        );
        assert_eq!(
            parse_response(&q("example.com", RecordType::A), &packet),
            Err(PacketError::QuestionMismatch)
        );
        assert_eq!(
            parse_response(&q("www.example.com", RecordType::Txt), &packet),
            Err(PacketError::QuestionMismatch)
        );
        // Our own query is not a response.
        let query = q("example.com", RecordType::Txt);
        assert_eq!(
            parse_response(&query, &build_query(&query, 1, None)),
            Err(PacketError::NotAResponse)
        );
        // No question: accepted for an error code, not for NOERROR.
        let mut message = Message::response(1, OpCode::Query);
        message.metadata.response_code = ResponseCode::Refused;
        assert_eq!(
            parse_response(&query, &message.to_vec().unwrap()),
            Ok((Answer::TempFail(Failure::Refused), None))
        );
        message.metadata.response_code = ResponseCode::NoError;
        assert_eq!(
            parse_response(&query, &message.to_vec().unwrap()),
            Err(PacketError::QuestionMismatch)
        );
        // Another opcode.
        let mut message = Message::response(1, OpCode::Status);
        message.add_query(WireQuery::query(wire("example.com"), WireType::TXT));
        assert_eq!(
            parse_response(&query, &message.to_vec().unwrap()),
            Err(PacketError::UnexpectedOpcode)
        );
        // A class other than IN.
        let mut question = WireQuery::query(wire("example.com"), WireType::TXT);
        question.set_query_class(DNSClass::CH);
        let mut message = Message::response(1, OpCode::Query);
        message.add_query(question);
        assert_eq!(
            parse_response(&query, &message.to_vec().unwrap()),
            Err(PacketError::QuestionMismatch)
        );
    }

    #[test]
    fn truncated_and_garbage_packets() {
        let query = q("example.com", RecordType::Txt);
        let full = response(
            "example.com",
            WireType::TXT,
            ResponseCode::NoError,
            vec![record(
                "example.com",
                60,
                RData::TXT(TXT::new(vec!["x".repeat(200)])),
            )],
            vec![],
        );
        assert!(parse_response(&query, &full).is_ok());
        // Cut anywhere: never a panic, never a wrong answer.
        for len in 0..full.len() {
            assert!(
                parse_response(&query, &full[..len]).is_err(),
                "prefix of {len} octets"
            );
        }
        // A count that promises more records than the packet holds.
        let mut more = full.clone();
        more[7] = 2; // ANCOUNT = 2, only one present
        assert_eq!(parse_response(&query, &more), Err(PacketError::Malformed));
        // TC set: truncated, whatever follows.
        let mut truncated = full.clone();
        truncated[2] |= TRUNCATION_BIT;
        assert_eq!(
            parse_response(&query, &truncated),
            Err(PacketError::Truncated)
        );
        assert_eq!(
            parse_response(&query, &truncated[..HEADER_LEN]),
            Err(PacketError::Truncated)
        );
        assert_eq!(
            parse_response(&query, b"garbage"),
            Err(PacketError::Malformed)
        );
        assert_eq!(
            answer_from_response(&query, b""),
            (Answer::TempFail(Failure::MalformedResponse), None)
        );
        assert_eq!(message_id(&full), Some(0x1234));
        assert_eq!(message_id(&[1]), None);
    }

    proptest::proptest! {
        #[test]
        fn parse_never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600)) {
            let _ = parse_response(&q("example.com", RecordType::Txt), &bytes);
        }

        #[test]
        fn parse_never_panics_on_mutated_responses(
            flips in proptest::collection::vec((0usize..400, proptest::prelude::any::<u8>()), 1..8)
        ) {
            let mut packet = response(
                "example.com",
                WireType::MX,
                ResponseCode::NoError,
                vec![
                    record("example.com", 60, RData::CNAME(CNAME(wire("mx.example.com")))),
                    record("mx.example.com", 60, RData::MX(MX::new(10, wire("mail.example.com")))),
                ],
                vec![soa(60, 60)],
            );
            for (at, value) in flips {
                let len = packet.len();
                packet[at % len] = value;
            }
            let _ = parse_response(&q("example.com", RecordType::Mx), &packet);
        }
    }
}
