//! A real authoritative DNS server (Knot DNS) on loopback, for tests that
//! go over the wire.
//!
//! ```ignore
//! mod support;
//! let server = support::DnsServer::start(&[(
//!     "example.com",
//!     &support::zone_with_soa("example.com", "@ TXT \"v=spf1 -all\"\n"),
//! )]);
//! let resolver = server.resolver();          // a StubResolver asking it
//! let address = server.addr();               // 127.0.0.1:PORT, UDP and TCP
//! ```
//!
//! `knotd` must be installed (Debian package `knot`; `scripts/setup.sh`
//! installs it). Without it the test fails, saying so. Set `KNOTD` to use
//! another binary. The server runs in a temporary directory with its log in
//! `knotd.log` there ([`DnsServer::log`]); it is killed and the directory
//! removed when the [`DnsServer`] is dropped.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use std::collections::HashSet;
use std::fmt::Write as _;
use std::fs;
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use mailauth::dns::{Name, Query, build_query, parse_response};
#[cfg(feature = "stub-resolver")]
use mailauth::dns::{StubConfig, StubResolver};

/// How long a server may take to answer its first query.
const START_TIMEOUT: Duration = Duration::from_secs(15);
/// How many ports are tried before giving up.
const START_TRIES: usize = 5;

/// Ports handed out in this process, so that parallel tests never share one.
static PORTS_USED: Mutex<Option<HashSet<u16>>> = Mutex::new(None);
static INSTANCE: AtomicU32 = AtomicU32::new(0);

/// A running `knotd` serving the zones it was started with on 127.0.0.1,
/// over UDP and TCP.
pub struct DnsServer {
    child: Child,
    dir: PathBuf,
    addr: SocketAddr,
}

/// Zone-file text for `origin` with the SOA and NS records a server needs
/// put in front of `records` (written relative to `origin`). TTL 300; the
/// SOA MINIMUM, hence the negative TTL, is 60.
pub fn zone_with_soa(origin: &str, records: &str) -> String {
    format!(
        "$ORIGIN {origin}.\n$TTL 300\n\
         @ IN SOA ns.{origin}. hostmaster.{origin}. 1 3600 600 86400 60\n\
         @ IN NS ns.{origin}.\n\
         ns IN A 127.0.0.1\n\
         {records}\n"
    )
}

/// Where `knotd` is, or a failure saying how to get it.
fn knotd() -> PathBuf {
    if let Some(path) = std::env::var_os("KNOTD") {
        let path = PathBuf::from(path);
        assert!(
            path.is_file(),
            "KNOTD={} is not a file: point it at knotd or unset it",
            path.display()
        );
        return path;
    }
    let mut candidates: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|path| {
            std::env::split_paths(&path)
                .map(|dir| dir.join("knotd"))
                .collect()
        })
        .unwrap_or_default();
    candidates.push(PathBuf::from("/usr/sbin/knotd"));
    candidates.push(PathBuf::from("/usr/local/sbin/knotd"));
    candidates.into_iter().find(|path| path.is_file()).unwrap_or_else(|| {
        panic!(
            "knotd (Knot DNS) not found in PATH, /usr/sbin or /usr/local/sbin: these tests need a \
             real DNS server; install the Debian package `knot` (scripts/setup.sh does) or set KNOTD"
        )
    })
}

/// A loopback port free for both UDP and TCP right now, not handed out
/// before in this process.
fn free_port() -> u16 {
    loop {
        let udp = UdpSocket::bind("127.0.0.1:0").expect("bind a UDP socket on loopback");
        let port = udp.local_addr().expect("local address").port();
        if TcpListener::bind(("127.0.0.1", port)).is_err() {
            continue;
        }
        let mut used = PORTS_USED.lock().unwrap_or_else(|e| e.into_inner());
        if used.get_or_insert_with(HashSet::new).insert(port) {
            return port;
        }
    }
}

impl DnsServer {
    /// Starts `knotd` serving `zones` (pairs of zone name and zone-file
    /// text, which must hold a SOA: see [`zone_with_soa`]) and waits until
    /// it answers.
    ///
    /// Panics, with the server's log, when it cannot be started.
    pub fn start(zones: &[(&str, &str)]) -> DnsServer {
        assert!(
            !zones.is_empty(),
            "DnsServer::start needs at least one zone"
        );
        let knotd = knotd();
        let mut last_log = String::new();
        for _ in 0..START_TRIES {
            let instance = INSTANCE.fetch_add(1, Ordering::SeqCst);
            let nanos = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.subsec_nanos());
            let dir = std::env::temp_dir().join(format!(
                "mailauth-knot-{}-{instance}-{nanos}",
                std::process::id()
            ));
            let token = format!("{}-{instance}-{nanos}", std::process::id());
            let port = free_port();
            let addr = SocketAddr::from(([127, 0, 0, 1], port));
            write_files(&dir, port, zones, &token);
            let log = fs::File::create(dir.join("knotd.log")).expect("create the knotd log");
            let child = Command::new(&knotd)
                .arg("-c")
                .arg(dir.join("knot.conf"))
                .stdin(Stdio::null())
                .stdout(log.try_clone().expect("clone the log file"))
                .stderr(log)
                .spawn()
                .unwrap_or_else(|e| panic!("cannot run {}: {e}", knotd.display()));
            let mut server = DnsServer { child, dir, addr };
            if server.wait_ready(zones[0].0, &token) {
                return server;
            }
            last_log = server.log();
            // Dropping kills it; try another port.
        }
        panic!("knotd did not start after {START_TRIES} tries; last log:\n{last_log}");
    }

    /// The address it listens on (UDP and TCP).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The daemon's output so far.
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.join("knotd.log")).unwrap_or_default()
    }

    #[cfg(feature = "stub-resolver")]
    /// A stub configuration asking only this server: 2 s per try, 2 tries.
    pub fn stub_config(&self) -> StubConfig {
        StubConfig {
            nameservers: vec![self.addr],
            timeout: Duration::from_secs(2),
            attempts: 2,
            ..StubConfig::default()
        }
    }

    #[cfg(feature = "stub-resolver")]
    /// A [`StubResolver`] with [`DnsServer::stub_config`].
    pub fn resolver(&self) -> StubResolver {
        StubResolver::new(self.stub_config())
    }

    /// Polls until the server gives this instance's marker record (so that
    /// a stray server on the same port is not taken for ours), or the
    /// process exits, or the start timeout passes.
    fn wait_ready(&mut self, zone: &str, token: &str) -> bool {
        let name = Name::new(&format!("_harness.{zone}")).expect("zone name");
        let query = Query::txt(name);
        let socket = UdpSocket::bind("127.0.0.1:0").expect("bind a UDP socket on loopback");
        socket
            .set_read_timeout(Some(Duration::from_millis(50)))
            .expect("set a read timeout");
        let started = Instant::now();
        let mut buffer = vec![0u8; 65_535];
        while started.elapsed() < START_TIMEOUT {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            let _ = socket.send_to(&build_query(&query, 1, Some(1232)), self.addr);
            // Until the zone is loaded the server may answer otherwise:
            // keep asking.
            if let Ok((len, _)) = socket.recv_from(&mut buffer)
                && let Ok((answer, _)) = parse_response(&query, &buffer[..len])
                && answer
                    .txt()
                    .is_some_and(|records| records.iter().any(|r| r.joined() == token.as_bytes()))
            {
                return true;
            }
        }
        false
    }
}

/// Writes the configuration and zone files of one instance.
fn write_files(dir: &Path, port: u16, zones: &[(&str, &str)], token: &str) {
    fs::create_dir_all(dir.join("db")).expect("create the server directory");
    let d = dir.display();
    let mut config = String::new();
    for line in [
        "server:".to_owned(),
        format!("    listen: 127.0.0.1@{port}"),
        format!("    rundir: \"{d}\""),
        format!("    pidfile: \"{d}/knot.pid\""),
        "    udp-workers: 1".to_owned(),
        "    tcp-workers: 1".to_owned(),
        "    background-workers: 1".to_owned(),
        "log:".to_owned(),
        "  - target: stderr".to_owned(),
        "    any: info".to_owned(),
        "database:".to_owned(),
        format!("    storage: \"{d}/db\""),
        "template:".to_owned(),
        "  - id: default".to_owned(),
        format!("    storage: \"{d}\""),
        "    file: \"%s.zone\"".to_owned(),
        "    zonefile-sync: -1".to_owned(),
        "    zonefile-load: whole".to_owned(),
        "    journal-content: none".to_owned(),
        "zone:".to_owned(),
    ] {
        config.push_str(&line);
        config.push('\n');
    }
    for (index, (zone, text)) in zones.iter().enumerate() {
        let zone = zone.trim_end_matches('.');
        writeln!(config, "  - domain: \"{zone}\"").unwrap();
        let mut text = (*text).to_owned();
        if index == 0 {
            // The marker the readiness probe looks for.
            write!(text, "\n_harness.{zone}. 0 IN TXT \"{token}\"\n").unwrap();
        }
        fs::write(dir.join(format!("{zone}.zone")), text).expect("write a zone file");
    }
    fs::write(dir.join("knot.conf"), config).expect("write knot.conf");
}

impl Drop for DnsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// The Python of the peers' virtualenv (`target/peers-venv`, or
/// `MAILAUTH_PEERS_VENV`), once `import <modules>` works in it; the test
/// fails naming `packages` otherwise (`scripts/setup-peers.sh` installs
/// them).
pub fn peers_python(modules: &str, packages: &str) -> PathBuf {
    let venv = std::env::var_os("MAILAUTH_PEERS_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/peers-venv"));
    let python = venv.join("bin/python");
    let ok = Command::new(&python)
        .args(["-c", &format!("import {modules}")])
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "{packages} not installed in {}: run scripts/setup-peers.sh",
        venv.display()
    );
    python
}
