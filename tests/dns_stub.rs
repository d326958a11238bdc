//! The stub resolver and the packet parser against a real DNS server
//! (Knot DNS on loopback; see tests/support).
#![cfg(feature = "stub-resolver")]
#![allow(clippy::unwrap_used)]

mod support;

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::thread;
use std::time::{Duration, Instant};

use mailauth::dns::{
    Answer, CacheConfig, CachingResolver, Failure, Mx, Name, PacketError, Query, RecordType,
    Records, Resolver, StubConfig, StubResolver, build_query, parse_response,
};
use support::{DnsServer, zone_with_soa};

/// Three 250-octet strings: 750 octets, over the 512 of plain UDP.
fn big_strings() -> Vec<Vec<u8>> {
    [b'a', b'b', b'c'].iter().map(|&c| vec![c; 250]).collect()
}

fn example_zone() -> String {
    let big: Vec<String> = big_strings()
        .into_iter()
        .map(|s| format!("\"{}\"", String::from_utf8(s).unwrap()))
        .collect();
    let records = format!(
        "\
@        IN TXT  \"v=spf1 ip4:192.0.2.0/24 -all\"
@        IN A    192.0.2.1
@        IN AAAA 2001:db8::1
@        IN MX   10 mx1
@        IN MX   20 mx2.example.net.
mx1      IN A    192.0.2.25
multi    IN TXT  \"first \" \"second\"
multi    IN TXT  \"another record\"
big      IN TXT  ( {} )
alias    IN CNAME target
chain    IN CNAME alias
target   IN TXT  \"at the target\"
target   IN A    192.0.2.7
empty    IN A    192.0.2.9
binary   IN TXT  \"\\255\\000x\"
\\195\\188ber IN TXT \"raw utf-8 label\"
sel._domainkey IN TXT ( \"v=DKIM1; k=rsa; \"
          \"p=MIIBIjANBgkq\" )  ; ----- DKIM key sel for example.com
",
        big.join(" ")
    );
    zone_with_soa("example.com", &records)
}

/// A server for one test. Each test starts its own (a few tens of
/// milliseconds), since a server held in a static would never be stopped.
fn server() -> DnsServer {
    DnsServer::start(&[
        ("example.com", &example_zone()),
        (
            "2.0.192.in-addr.arpa",
            &zone_with_soa("2.0.192.in-addr.arpa", "1 IN PTR example.com.\n"),
        ),
    ])
}

fn n(s: &str) -> Name {
    Name::new(s).unwrap()
}

fn q(name: &str, record_type: RecordType) -> Query {
    Query::new(n(name), record_type)
}

fn txt_strings(answer: &Answer) -> Vec<Vec<Vec<u8>>> {
    let mut records: Vec<_> = answer
        .txt()
        .unwrap_or_else(|| panic!("not TXT records: {answer:?}"))
        .iter()
        .map(|t| t.strings().to_vec())
        .collect();
    records.sort();
    records
}

/// Sends `packet` to `server` from a fresh UDP socket and returns the
/// reply.
fn raw_exchange(server: SocketAddr, packet: &[u8]) -> Vec<u8> {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    socket.send_to(packet, server).unwrap();
    let mut buffer = vec![0u8; 65_535];
    let (len, from) = socket.recv_from(&mut buffer).unwrap();
    assert_eq!(from, server);
    buffer.truncate(len);
    buffer
}

#[test]
fn txt_lookup() {
    let server = server();
    let resolver = server.resolver();
    let (answer, ttl) = resolver.lookup_with_ttl(&q("example.com", RecordType::Txt));
    assert_eq!(
        txt_strings(&answer),
        vec![vec![b"v=spf1 ip4:192.0.2.0/24 -all".to_vec()]]
    );
    assert_eq!(ttl, Some(300));
    // Several strings per record stay apart; two records stay two.
    let answer = resolver.lookup(&q("multi.example.com", RecordType::Txt));
    assert_eq!(
        txt_strings(&answer),
        vec![
            vec![b"another record".to_vec()],
            vec![b"first ".to_vec(), b"second".to_vec()],
        ]
    );
    // The opendkim-genkey form, served by the server from our zone text.
    let answer = resolver.lookup(&q("sel._domainkey.example.com", RecordType::Txt));
    assert_eq!(
        answer.txt().unwrap()[0].joined(),
        b"v=DKIM1; k=rsa; p=MIIBIjANBgkq"
    );
    // A non-ASCII name goes out as its UTF-8 octets, not through IDNA
    // (which would ask for xn--ber-goa.example.com).
    let answer = resolver.lookup(&q("über.example.com", RecordType::Txt));
    assert_eq!(
        txt_strings(&answer),
        vec![vec![b"raw utf-8 label".to_vec()]]
    );
    // Octets that are not UTF-8 arrive intact.
    let answer = resolver.lookup(&q("binary.example.com", RecordType::Txt));
    assert_eq!(txt_strings(&answer), vec![vec![vec![0xff, 0x00, b'x']]]);
}

#[test]
fn address_mx_and_ptr_lookups() {
    let server = server();
    let resolver = server.resolver();
    assert_eq!(
        resolver.lookup(&q("Example.COM", RecordType::A)),
        Answer::Records(Records::A(vec![Ipv4Addr::new(192, 0, 2, 1)]))
    );
    assert_eq!(
        resolver.lookup(&q("example.com", RecordType::Aaaa)),
        Answer::Records(Records::Aaaa(vec![
            "2001:db8::1".parse::<Ipv6Addr>().unwrap()
        ]))
    );
    let Answer::Records(Records::Mx(mut mx)) = resolver.lookup(&q("example.com", RecordType::Mx))
    else {
        panic!("no MX records");
    };
    mx.sort_by_key(|m| m.preference);
    assert_eq!(
        mx,
        vec![
            Mx {
                preference: 10,
                exchange: n("mx1.example.com")
            },
            Mx {
                preference: 20,
                exchange: n("mx2.example.net")
            },
        ]
    );
    assert_eq!(
        resolver.lookup(&q("1.2.0.192.in-addr.arpa", RecordType::Ptr)),
        Answer::Records(Records::Ptr(vec![n("example.com")]))
    );
}

#[test]
fn nxdomain_and_no_data_with_negative_ttl() {
    let server = server();
    let resolver = server.resolver();
    // Negative TTL: min(SOA TTL 300, SOA MINIMUM 60) (RFC 2308 §5).
    assert_eq!(
        resolver.lookup_with_ttl(&q("nowhere.example.com", RecordType::Txt)),
        (Answer::NxDomain, Some(60))
    );
    assert_eq!(
        resolver.lookup_with_ttl(&q("empty.example.com", RecordType::Txt)),
        (Answer::NoData, Some(60))
    );
    assert_eq!(
        resolver.lookup(&q("empty.example.com", RecordType::Mx)),
        Answer::NoData
    );
}

#[test]
fn not_served_zone_is_refused() {
    // Knot refuses names outside its zones: a temporary failure.
    let server = server();
    let resolver = server.resolver();
    assert_eq!(
        resolver.lookup(&q("example.org", RecordType::Txt)),
        Answer::TempFail(Failure::Refused)
    );
}

#[test]
fn zone_that_failed_to_load_is_a_server_failure() {
    // Knot answers SERVFAIL for a configured zone it could not load.
    let server = DnsServer::start(&[
        ("example.com", &example_zone()),
        ("broken.test", "this is not a zone file\n"),
    ]);
    let resolver = StubResolver::new(StubConfig {
        attempts: 1,
        ..server.stub_config()
    });
    assert_eq!(
        resolver.lookup(&q("broken.test", RecordType::Txt)),
        Answer::TempFail(Failure::ServerFailure),
        "server log:\n{}",
        server.log()
    );
}

#[test]
fn cname_chains_are_followed() {
    let server = server();
    let resolver = server.resolver();
    assert_eq!(
        txt_strings(&resolver.lookup(&q("alias.example.com", RecordType::Txt))),
        vec![vec![b"at the target".to_vec()]]
    );
    assert_eq!(
        resolver.lookup(&q("chain.example.com", RecordType::A)),
        Answer::Records(Records::A(vec![Ipv4Addr::new(192, 0, 2, 7)]))
    );
    assert_eq!(
        resolver.lookup(&q("chain.example.com", RecordType::Mx)),
        Answer::NoData
    );
}

#[test]
fn large_answer_comes_over_tcp_after_truncation() {
    let server = server();
    let query = q("big.example.com", RecordType::Txt);
    // Without EDNS the server must truncate the 750-octet answer over UDP.
    let reply = raw_exchange(server.addr(), &build_query(&query, 0x4242, None));
    assert_ne!(reply[2] & 0x02, 0, "TC bit not set in the UDP answer");
    assert_eq!(parse_response(&query, &reply), Err(PacketError::Truncated));

    // So a stub without EDNS can only get it whole over TCP.
    let resolver = StubResolver::new(StubConfig {
        edns_udp_size: None,
        ..server.stub_config()
    });
    let (answer, ttl) = resolver.lookup_with_ttl(&query);
    assert_eq!(txt_strings(&answer), vec![big_strings()]);
    assert_eq!(ttl, Some(300));

    // With EDNS and room for it, UDP is enough; TCP-only works too.
    assert_eq!(
        txt_strings(&server.resolver().lookup(&query)),
        vec![big_strings()]
    );
    let resolver = StubResolver::new(StubConfig {
        tcp_only: true,
        ..server.stub_config()
    });
    assert_eq!(txt_strings(&resolver.lookup(&query)), vec![big_strings()]);
}

#[test]
fn parses_a_packet_captured_from_the_server() {
    let server = server();
    let query = q("multi.example.com", RecordType::Txt);
    let reply = raw_exchange(server.addr(), &build_query(&query, 7, Some(1232)));
    assert_eq!(&reply[..2], &[0, 7]);
    let (answer, ttl) = parse_response(&query, &reply).unwrap();
    assert_eq!(answer.txt().unwrap().len(), 2);
    assert_eq!(ttl, Some(300));
    // The same packet does not answer another question.
    assert_eq!(
        parse_response(&q("example.com", RecordType::Txt), &reply),
        Err(PacketError::QuestionMismatch)
    );
    assert_eq!(
        parse_response(&q("multi.example.com", RecordType::A), &reply),
        Err(PacketError::QuestionMismatch)
    );
    // NXDOMAIN as captured.
    let query = q("nowhere.example.com", RecordType::A);
    let reply = raw_exchange(server.addr(), &build_query(&query, 8, None));
    assert_eq!(
        parse_response(&query, &reply),
        Ok((Answer::NxDomain, Some(60)))
    );
}

#[test]
fn silent_server_times_out_within_the_bound() {
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    let timeout = Duration::from_millis(300);
    let attempts = 2;
    let resolver = StubResolver::new(StubConfig {
        nameservers: vec![silent.local_addr().unwrap()],
        timeout,
        attempts,
        ..StubConfig::default()
    });
    let started = Instant::now();
    let answer = resolver.lookup(&q("example.com", RecordType::Txt));
    let elapsed = started.elapsed();
    assert_eq!(answer, Answer::TempFail(Failure::Timeout));
    let bound = timeout * attempts;
    assert!(
        elapsed >= bound - Duration::from_millis(50),
        "gave up early: {elapsed:?}"
    );
    assert!(
        elapsed < bound + Duration::from_millis(500),
        "took {elapsed:?}"
    );
    // One query per attempt reached the server.
    silent.set_nonblocking(true).unwrap();
    let mut buffer = [0u8; 512];
    let mut received = 0;
    while silent.recv_from(&mut buffer).is_ok() {
        received += 1;
    }
    assert_eq!(received, attempts);
}

#[test]
fn closed_port_fails_fast() {
    // ICMP port unreachable comes back at once on loopback.
    let closed = UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let resolver = StubResolver::new(StubConfig {
        nameservers: vec![closed],
        timeout: Duration::from_secs(2),
        attempts: 2,
        ..StubConfig::default()
    });
    let started = Instant::now();
    assert_eq!(
        resolver.lookup(&q("example.com", RecordType::Txt)),
        Answer::TempFail(Failure::Network)
    );
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn silent_server_is_passed_over_for_the_next() {
    let server = server();
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    let resolver = StubResolver::new(StubConfig {
        nameservers: vec![silent.local_addr().unwrap(), server.addr()],
        timeout: Duration::from_millis(300),
        attempts: 1,
        ..StubConfig::default()
    });
    let started = Instant::now();
    let answer = resolver.lookup(&q("example.com", RecordType::A));
    assert_eq!(
        answer,
        Answer::Records(Records::A(vec![Ipv4Addr::new(192, 0, 2, 1)]))
    );
    assert!(started.elapsed() >= Duration::from_millis(250));
}

/// A relay that first sends forged answers (wrong ID, then right ID with
/// the wrong question), then the real answer from the server.
fn forging_relay(upstream: SocketAddr) -> (SocketAddr, thread::JoinHandle<()>) {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = socket.local_addr().unwrap();
    let handle = thread::spawn(move || {
        socket
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut buffer = vec![0u8; 65_535];
        let (len, client) = socket.recv_from(&mut buffer).unwrap();
        let query = buffer[..len].to_vec();
        let forged_nxdomain = |mut packet: Vec<u8>| {
            packet[2] |= 0x80; // QR: a response
            packet[3] = (packet[3] & 0xf0) | 3; // NXDOMAIN
            packet
        };
        let mut wrong_id = forged_nxdomain(query.clone());
        wrong_id[1] ^= 0xff;
        socket.send_to(&wrong_id, client).unwrap();
        let id = u16::from_be_bytes([query[0], query[1]]);
        let other = build_query(
            &Query::txt(Name::new("other.example.com").unwrap()),
            id,
            None,
        );
        socket.send_to(&forged_nxdomain(other), client).unwrap();
        let real = raw_exchange(upstream, &query);
        socket.send_to(&real, client).unwrap();
    });
    (addr, handle)
}

#[test]
fn forged_answers_are_ignored() {
    let server = server();
    let (relay, handle) = forging_relay(server.addr());
    let resolver = StubResolver::new(StubConfig {
        nameservers: vec![relay],
        timeout: Duration::from_secs(3),
        attempts: 1,
        ..StubConfig::default()
    });
    let answer = resolver.lookup(&q("example.com", RecordType::Txt));
    handle.join().unwrap();
    assert_eq!(
        txt_strings(&answer),
        vec![vec![b"v=spf1 ip4:192.0.2.0/24 -all".to_vec()]]
    );
}

#[test]
fn cache_in_front_of_the_stub_answers_after_the_server_is_gone() {
    let server = server();
    let cache = CachingResolver::new(server.resolver(), CacheConfig::default());
    let query = q("example.com", RecordType::Txt);
    let (answer, ttl) = cache.lookup_with_ttl(&query);
    assert!(answer.txt().is_some());
    assert_eq!(ttl, Some(300));
    drop(server);
    let (cached, ttl) = cache.lookup_with_ttl(&query);
    assert_eq!(cached, answer);
    assert!(ttl.is_some_and(|ttl| (299..=300).contains(&ttl)), "{ttl:?}");
    // Negative answers are cached too; a name never asked is not.
    let resolver = StubResolver::new(StubConfig {
        timeout: Duration::from_millis(200),
        attempts: 1,
        ..cache.inner().config().clone()
    });
    assert_eq!(
        resolver.lookup(&query),
        Answer::TempFail(Failure::Network),
        "the server is gone"
    );
}

#[test]
fn parallel_lookups_through_one_resolver() {
    let server = server();
    let resolver = std::sync::Arc::new(server.resolver());
    let threads: Vec<_> = (0..4)
        .map(|i| {
            let resolver = resolver.clone();
            thread::spawn(move || {
                for _ in 0..10 {
                    let name = if i % 2 == 0 {
                        "example.com"
                    } else {
                        "target.example.com"
                    };
                    assert!(matches!(
                        resolver.lookup(&q(name, RecordType::A)),
                        Answer::Records(Records::A(_))
                    ));
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
}
