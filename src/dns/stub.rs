//! A blocking DNS client: the one place in the crate that opens sockets.

use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use hickory_proto::op::ResponseCode;

use super::packet::{self, Decoded, PacketError};
use super::{Answer, Failure, NameServer, Query, Resolver};

/// The DNS port.
const DNS_PORT: u16 = 53;
/// Most name servers taken from resolv.conf (glibc's MAXNS).
const MAX_RESOLV_CONF_SERVERS: usize = 3;
/// Largest `timeout:` accepted from resolv.conf, in seconds (glibc's cap).
const MAX_RESOLV_CONF_TIMEOUT: u64 = 30;
/// Largest `attempts:` accepted from resolv.conf (glibc's cap).
const MAX_RESOLV_CONF_ATTEMPTS: u32 = 5;
/// Longest wait for one try, whatever the configuration says (so that the
/// deadline arithmetic cannot overflow).
const MAX_TRY_TIMEOUT: Duration = Duration::from_secs(3600);
/// Largest DNS message (the TCP length prefix is 16 bits).
const MAX_MESSAGE: usize = 65_535;

/// How a [`StubResolver`] talks to its name servers.
///
/// The defaults are glibc's (5 s per try, 2 rounds, 127.0.0.1 when no
/// server is named) with EDNS0 advertising 1232 octets, the size that
/// avoids IP fragmentation (DNS Flag Day 2020).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StubConfig {
    /// The recursive name servers to ask, in order. Lookups with none
    /// answer [`Answer::TempFail`] with [`Failure::Network`].
    pub nameservers: Vec<SocketAddr>,
    /// How long to wait for one server in one round, including a retry over
    /// TCP when the UDP answer is truncated (at most one hour is used).
    pub timeout: Duration,
    /// How many rounds over all servers (0 counts as 1). A lookup never
    /// takes much longer than `attempts * timeout * nameservers.len()`.
    pub attempts: u32,
    /// The UDP payload size advertised with EDNS0 (RFC 6891), or `None` to
    /// send queries without EDNS (answers over 512 octets then come by
    /// TCP).
    pub edns_udp_size: Option<u16>,
    /// Ask over TCP only (resolv.conf `options use-vc`).
    pub tcp_only: bool,
}

impl Default for StubConfig {
    fn default() -> StubConfig {
        StubConfig {
            nameservers: vec![SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), DNS_PORT)],
            timeout: Duration::from_secs(5),
            attempts: 2,
            edns_udp_size: Some(1232),
            tcp_only: false,
        }
    }
}

impl StubConfig {
    /// The configuration described by resolv.conf text (resolv.conf(5)).
    ///
    /// Read: `nameserver` lines (IPv4 or IPv6, at most 3, a numeric IPv6
    /// zone such as `%2` kept, a named one skipped), and in `options`:
    /// `timeout:N` (at most 30), `attempts:N` (at most 5), `use-vc`.
    /// `search`, `domain`, `ndots` and the rest are ignored: the names the
    /// checks look up are always absolute. Lines that do not parse are
    /// skipped, as the C library does. With no usable `nameserver` line the
    /// server is 127.0.0.1.
    pub fn from_resolv_conf(text: &str) -> StubConfig {
        let mut config = StubConfig {
            nameservers: Vec::new(),
            ..StubConfig::default()
        };
        for line in text.lines() {
            let mut words = line.split_whitespace();
            match words.next() {
                Some("nameserver") => {
                    if config.nameservers.len() < MAX_RESOLV_CONF_SERVERS
                        && let Some(addr) = words.next().and_then(|w| w.parse::<NameServer>().ok())
                    {
                        config.nameservers.push(addr.0);
                    }
                }
                Some("options") => {
                    for option in words {
                        if let Some(value) = option.strip_prefix("timeout:") {
                            if let Ok(seconds) = value.parse::<u64>() {
                                config.timeout =
                                    Duration::from_secs(seconds.clamp(1, MAX_RESOLV_CONF_TIMEOUT));
                            }
                        } else if let Some(value) = option.strip_prefix("attempts:") {
                            if let Ok(attempts) = value.parse::<u32>() {
                                config.attempts = attempts.clamp(1, MAX_RESOLV_CONF_ATTEMPTS);
                            }
                        } else if option == "use-vc" || option == "usevc" {
                            config.tcp_only = true;
                        }
                    }
                }
                _ => {}
            }
        }
        if config.nameservers.is_empty() {
            config.nameservers = StubConfig::default().nameservers;
        }
        config
    }
}

/// Why a [`StubResolver`] could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StubError {
    /// The resolver configuration file could not be read.
    #[error("cannot read {path}: {source}")]
    ReadConfig {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
}

/// A blocking DNS client that asks recursive name servers.
///
/// Queries go over UDP from a fresh socket (so the source port is chosen
/// at random by the system) with a random message ID drawn from the
/// operating system's generator; answers whose ID, source or question do
/// not match are ignored (RFC 5452). A truncated answer is asked again over
/// TCP. A server that answers SERVFAIL or REFUSED, times out or sends
/// garbage is passed over for the next one; FORMERR to a query with EDNS
/// is asked again without it (RFC 6891 §7). Each try at one server is
/// bounded by [`StubConfig::timeout`], so a lookup never hangs.
///
/// CNAMEs are followed as far as the answer section goes (a recursive
/// server gives the whole chain). The TTL returned with an answer is the
/// smallest of its records, or for NXDOMAIN and no data the SOA's
/// (RFC 2308 §5).
///
/// The resolver holds no sockets between lookups and may be shared across
/// threads.
#[derive(Debug, Clone)]
pub struct StubResolver {
    config: StubConfig,
}

/// What one try at one server gave.
enum Outcome {
    /// An answer to hand back.
    Answer(Answer, Option<u32>),
    /// No usable answer from this server: try the next.
    Failed(Failure),
}

impl StubResolver {
    /// A resolver with this configuration.
    pub fn new(config: StubConfig) -> StubResolver {
        StubResolver { config }
    }

    /// A resolver configured from `/etc/resolv.conf`, or glibc's defaults
    /// when the file does not exist.
    ///
    /// # Errors
    /// [`StubError::ReadConfig`] when the file exists but cannot be read.
    pub fn from_system() -> Result<StubResolver, StubError> {
        StubResolver::from_resolv_conf_file(Path::new("/etc/resolv.conf"))
    }

    /// A resolver configured from a resolv.conf file (see
    /// [`StubConfig::from_resolv_conf`]), or glibc's defaults when the file
    /// does not exist.
    ///
    /// # Errors
    /// [`StubError::ReadConfig`] when the file exists but cannot be read.
    pub fn from_resolv_conf_file(path: &Path) -> Result<StubResolver, StubError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Ok(StubResolver::new(StubConfig::from_resolv_conf(&text))),
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                Ok(StubResolver::new(StubConfig::default()))
            }
            Err(source) => Err(StubError::ReadConfig {
                path: path.to_owned(),
                source,
            }),
        }
    }

    /// The configuration in use.
    pub fn config(&self) -> &StubConfig {
        &self.config
    }

    /// One try at `server`, within `timeout` from now.
    fn ask(&self, server: SocketAddr, query: &Query) -> Outcome {
        let deadline = Instant::now() + self.config.timeout.min(MAX_TRY_TIMEOUT);
        if self.config.tcp_only {
            return ask_tcp(server, query, self.config.edns_udp_size, deadline);
        }
        ask_udp(server, query, self.config.edns_udp_size, deadline)
    }
}

impl Resolver for StubResolver {
    fn lookup_with_ttl(&self, query: &Query) -> (Answer, Option<u32>) {
        if self.config.nameservers.is_empty() {
            return (Answer::TempFail(Failure::Network), None);
        }
        let mut failure = Failure::Timeout;
        for _ in 0..self.config.attempts.max(1) {
            for &server in &self.config.nameservers {
                match self.ask(server, query) {
                    Outcome::Answer(answer, ttl) => return (answer, ttl),
                    Outcome::Failed(reason) => failure = reason,
                }
            }
        }
        (Answer::TempFail(failure), None)
    }
}

/// A message ID from the operating system's random generator, so that an
/// off-path attacker cannot guess it (RFC 5452 §4.3).
fn random_id() -> Option<u16> {
    getrandom::u32().ok().map(|n| (n & 0xffff) as u16)
}

/// Time left before `deadline`, or `None` when it has passed.
fn remaining(deadline: Instant) -> Option<Duration> {
    let left = deadline.saturating_duration_since(Instant::now());
    (!left.is_zero()).then_some(left)
}

fn io_failure(error: &io::Error) -> Failure {
    match error.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => Failure::Timeout,
        _ => Failure::Network,
    }
}

/// What a decoded answer means for the lookup: SERVFAIL and REFUSED send
/// it to the next server, anything else is the answer.
fn outcome(decoded: Decoded) -> Outcome {
    match decoded.answer {
        Answer::TempFail(reason @ (Failure::ServerFailure | Failure::Refused)) => {
            Outcome::Failed(reason)
        }
        answer => Outcome::Answer(answer, decoded.ttl),
    }
}

fn ask_udp(
    server: SocketAddr,
    query: &Query,
    edns_udp_size: Option<u16>,
    deadline: Instant,
) -> Outcome {
    let local: SocketAddr = match server {
        SocketAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
        SocketAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    let socket = match UdpSocket::bind(local) {
        Ok(socket) => socket,
        Err(error) => return Outcome::Failed(io_failure(&error)),
    };
    // Connected: the system drops datagrams from any other address.
    if let Err(error) = socket.connect(server) {
        return Outcome::Failed(io_failure(&error));
    }
    let Some(mut id) = random_id() else {
        return Outcome::Failed(Failure::Network);
    };
    let mut edns = edns_udp_size;
    if let Err(error) = socket.send(&packet::build_query(query, id, edns)) {
        return Outcome::Failed(io_failure(&error));
    }
    let mut buffer = vec![0u8; MAX_MESSAGE];
    loop {
        let Some(left) = remaining(deadline) else {
            return Outcome::Failed(Failure::Timeout);
        };
        if let Err(error) = socket.set_read_timeout(Some(left)) {
            return Outcome::Failed(io_failure(&error));
        }
        let received = match socket.recv(&mut buffer) {
            Ok(len) => buffer.get(..len).unwrap_or_default(),
            Err(error) => return Outcome::Failed(io_failure(&error)),
        };
        if packet::message_id(received) != Some(id) {
            continue;
        }
        match packet::decode_response(query, received) {
            Err(PacketError::Truncated) => return ask_tcp(server, query, edns, deadline),
            // Not an answer to this question: stale or forged, keep waiting.
            Err(PacketError::QuestionMismatch | PacketError::NotAResponse) => continue,
            Err(_) => return Outcome::Failed(Failure::MalformedResponse),
            Ok(decoded) if decoded.response_code == ResponseCode::FormErr && edns.is_some() => {
                // A server that does not know EDNS (RFC 6891 §7): ask plainly.
                edns = None;
                let Some(new_id) = random_id() else {
                    return Outcome::Failed(Failure::Network);
                };
                id = new_id;
                if let Err(error) = socket.send(&packet::build_query(query, id, edns)) {
                    return Outcome::Failed(io_failure(&error));
                }
            }
            Ok(decoded) => return outcome(decoded),
        }
    }
}

fn ask_tcp(
    server: SocketAddr,
    query: &Query,
    edns_udp_size: Option<u16>,
    deadline: Instant,
) -> Outcome {
    match try_tcp(server, query, edns_udp_size, deadline) {
        Ok(outcome) => outcome,
        Err(error) => Outcome::Failed(io_failure(&error)),
    }
}

fn try_tcp(
    server: SocketAddr,
    query: &Query,
    edns_udp_size: Option<u16>,
    deadline: Instant,
) -> io::Result<Outcome> {
    let timed_out = || io::Error::from(io::ErrorKind::TimedOut);
    let Some(id) = random_id() else {
        return Ok(Outcome::Failed(Failure::Network));
    };
    let mut stream =
        TcpStream::connect_timeout(&server, remaining(deadline).ok_or_else(timed_out)?)?;
    stream.set_nodelay(true)?;
    let message = packet::build_query(query, id, edns_udp_size);
    // RFC 1035 §4.2.2: a two-octet length, then the message.
    let length =
        u16::try_from(message.len()).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    let mut framed = Vec::with_capacity(message.len() + 2);
    framed.extend_from_slice(&length.to_be_bytes());
    framed.extend_from_slice(&message);
    stream.set_write_timeout(Some(remaining(deadline).ok_or_else(timed_out)?))?;
    stream.write_all(&framed)?;

    let mut length = [0u8; 2];
    read_full(&mut stream, &mut length, deadline)?;
    let mut response = vec![0u8; usize::from(u16::from_be_bytes(length))];
    read_full(&mut stream, &mut response, deadline)?;
    if packet::message_id(&response) != Some(id) {
        return Ok(Outcome::Failed(Failure::MalformedResponse));
    }
    Ok(match packet::decode_response(query, &response) {
        Ok(decoded) => outcome(decoded),
        Err(_) => Outcome::Failed(Failure::MalformedResponse),
    })
}

/// Fills `buffer` from `stream`, giving up at `deadline`.
fn read_full(stream: &mut TcpStream, buffer: &mut [u8], deadline: Instant) -> io::Result<()> {
    let mut filled = 0;
    while filled < buffer.len() {
        let left = remaining(deadline).ok_or_else(|| io::Error::from(io::ErrorKind::TimedOut))?;
        stream.set_read_timeout(Some(left))?;
        let rest = buffer.get_mut(filled..).unwrap_or_default();
        match stream.read(rest) {
            Ok(0) => return Err(io::Error::from(io::ErrorKind::UnexpectedEof)),
            Ok(n) => filled += n,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn parses_resolv_conf() {
        let text = "\
# generated
domain example.com
search example.com example.net
nameserver 192.0.2.53
nameserver   2001:db8::53 # trailing words ignored
nameserver fe80::1%2
nameserver 198.51.100.1
options ndots:2 timeout:3 attempts:4 rotate
";
        let config = StubConfig::from_resolv_conf(text);
        assert_eq!(
            config.nameservers,
            vec![
                "192.0.2.53:53".parse().unwrap(),
                "[2001:db8::53]:53".parse().unwrap(),
                SocketAddr::V6(std::net::SocketAddrV6::new(
                    "fe80::1".parse().unwrap(),
                    53,
                    0,
                    2
                )),
            ]
        );
        assert_eq!(config.timeout, Duration::from_secs(3));
        assert_eq!(config.attempts, 4);
        assert!(!config.tcp_only);
        assert_eq!(config.edns_udp_size, Some(1232));
    }

    #[test]
    fn resolv_conf_limits_and_defaults() {
        let config = StubConfig::from_resolv_conf(
            "nameserver not-an-address\nnameserver fe80::1%eth0\noptions timeout:999 attempts:0 use-vc\noptions attempts:x\n",
        );
        assert_eq!(config.nameservers, StubConfig::default().nameservers);
        assert_eq!(config.timeout, Duration::from_secs(MAX_RESOLV_CONF_TIMEOUT));
        assert_eq!(config.attempts, 1);
        assert!(config.tcp_only);
        assert_eq!(StubConfig::from_resolv_conf(""), StubConfig::default());
    }

    #[test]
    fn missing_resolv_conf_gives_defaults() {
        let resolver =
            StubResolver::from_resolv_conf_file(Path::new("/nonexistent/resolv.conf")).unwrap();
        assert_eq!(resolver.config(), &StubConfig::default());
        // A directory cannot be read as a file.
        assert!(matches!(
            StubResolver::from_resolv_conf_file(Path::new("/")),
            Err(StubError::ReadConfig { .. })
        ));
    }

    #[test]
    fn no_nameservers_is_a_network_failure() {
        let resolver = StubResolver::new(StubConfig {
            nameservers: Vec::new(),
            ..StubConfig::default()
        });
        let query = Query::txt(super::super::Name::new("example.com").unwrap());
        assert_eq!(
            resolver.lookup_with_ttl(&query),
            (Answer::TempFail(Failure::Network), None)
        );
    }

    #[test]
    fn ids_vary() {
        let ids: std::collections::HashSet<u16> = (0..64).filter_map(|_| random_id()).collect();
        // 64 draws from 65536 values: a repeat is possible, all equal is not.
        assert!(ids.len() > 32);
    }
}
