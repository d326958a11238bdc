//! What both comparison binaries share, and neither library is linked into:
//! the generated messages, the keys, the DNS data, the expected results and
//! the timing loop. Each binary turns the DNS data into its library's
//! in-memory form and times the same operations over the same bytes.

use std::hint::black_box;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The signing and verification time (2026-11-18), for the library that
/// takes the time as an argument. No signature carries `x=`, so the other
/// library's clock does not change a result.
pub const NOW: u64 = 1_795_000_000;

/// The signing domain, the From domain and the MAIL FROM domain.
pub const DOMAIN: &str = "example.org";
/// The author and the envelope sender.
pub const SENDER: &str = "alice@example.org";
/// The client's HELO name (it publishes no SPF record).
pub const HELO: &str = "mail.example.org";
/// The receiving host, for the SPF `%{r}` macro and Authentication-Results.
pub const RECEIVER: &str = "mx.example.com";
/// Matched by an `ip4:` of the provider record reached through `include:`.
pub const IP_PASS: &str = "209.85.200.1";
/// Matched by nothing: the check goes through `include:`, `a`, `mx` (two
/// hosts) and the `ip4:`/`ip6:` terms to `-all`.
pub const IP_FAIL: &str = "192.0.2.200";

/// DKIM selectors under [`DOMAIN`].
pub const RSA_SELECTOR: &str = "rsa2048";
/// DKIM selectors under [`DOMAIN`].
pub const ED_SELECTOR: &str = "ed25519";

/// The domain's SPF record: an include of a provider, its own A and MX
/// hosts, then networks, then `-all`.
pub const SPF_DOMAIN_RECORD: &str = "v=spf1 include:_spf.provider.example a mx \
ip4:198.51.100.0/24 ip4:203.0.113.0/25 ip6:2001:db8:100::/48 -all";
/// Where the include points.
pub const SPF_PROVIDER_NAME: &str = "_spf.provider.example";
/// The provider's record (the passing address is in its first network).
pub const SPF_PROVIDER_RECORD: &str = "v=spf1 ip4:209.85.128.0/17 ip4:64.233.160.0/19 \
ip4:66.102.0.0/20 ip6:2607:f8b0:4000::/36 ~all";
/// The DMARC policy at `_dmarc.example.org`.
pub const DMARC_RECORD: &str =
    "v=DMARC1; p=reject; rua=mailto:dmarc-reports@example.org; adkim=r; aspf=r";

/// The header fields signed, in message order (the eight of [`message`]).
pub const SIGNED_HEADERS: [&str; 8] = [
    "From",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "MIME-Version",
    "Content-Type",
    "Content-Transfer-Encoding",
];

/// One DNS record of the shared data.
#[derive(Debug, Clone)]
pub enum Record {
    /// A TXT record holding an SPF policy.
    Spf(String, String),
    /// A TXT record holding a DKIM key.
    DkimKey(String, String),
    /// A TXT record holding a DMARC policy.
    Dmarc(String, String),
    /// An A record.
    A(String, Ipv4Addr),
    /// One MX record: owner, preference, exchange.
    Mx(String, u16, String),
}

/// Names that do not exist (NXDOMAIN) and are asked: the DMARC tree walk
/// goes up to `_dmarc.org`; the HELO name has no SPF record.
pub const NXDOMAIN: [&str; 2] = ["_dmarc.org", HELO];

/// The whole DNS data, with the DKIM key records read from `keys`.
pub fn records(keys: &Keys) -> Vec<Record> {
    let s = |x: &str| x.to_owned();
    vec![
        Record::DkimKey(
            format!("{RSA_SELECTOR}._domainkey.{DOMAIN}"),
            keys.rsa_record.clone(),
        ),
        Record::DkimKey(
            format!("{ED_SELECTOR}._domainkey.{DOMAIN}"),
            keys.ed_record.clone(),
        ),
        Record::Dmarc(format!("_dmarc.{DOMAIN}"), s(DMARC_RECORD)),
        Record::Spf(s(DOMAIN), s(SPF_DOMAIN_RECORD)),
        Record::Spf(s(SPF_PROVIDER_NAME), s(SPF_PROVIDER_RECORD)),
        Record::A(s(DOMAIN), Ipv4Addr::new(192, 0, 2, 80)),
        Record::Mx(s(DOMAIN), 10, format!("mx1.{DOMAIN}")),
        Record::Mx(s(DOMAIN), 20, format!("mx2.{DOMAIN}")),
        Record::A(format!("mx1.{DOMAIN}"), Ipv4Addr::new(192, 0, 2, 25)),
        Record::A(format!("mx2.{DOMAIN}"), Ipv4Addr::new(192, 0, 2, 26)),
    ]
}

/// The two example keys of the repository (examples/data/keys): private
/// keys as PKCS#8 PEM, public keys as the DKIM record text.
#[derive(Debug, Clone)]
pub struct Keys {
    /// RSA-2048 private key, PKCS#8 PEM.
    pub rsa_pem: String,
    /// Ed25519 private key, PKCS#8 PEM.
    pub ed_pem: String,
    /// `v=DKIM1; k=rsa; p=...`
    pub rsa_record: String,
    /// `v=DKIM1; k=ed25519; p=...`
    pub ed_record: String,
}

impl Keys {
    /// Reads the keys from the repository's examples/data/keys.
    pub fn load() -> Keys {
        let dir = repository().join("examples/data/keys");
        let read = |file: &str| {
            let path = dir.join(file);
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        };
        Keys {
            rsa_pem: read("sel2026.private"),
            ed_pem: read("arc2026.private"),
            rsa_record: record_text(&read("sel2026.txt")),
            ed_record: record_text(&read("arc2026.txt")),
        }
    }
}

/// The repository root (this crate lives in its `compare/` folder).
pub fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("compare/ has a parent")
        .to_path_buf()
}

/// The TXT data of a record line as `opendkim-genkey` prints it: the
/// quoted character-strings joined.
fn record_text(zone_line: &str) -> String {
    let mut out = String::new();
    let mut rest = zone_line;
    while let Some(start) = rest.find('"') {
        let after = &rest[start + 1..];
        let end = after.find('"').expect("closing quote");
        out.push_str(&after[..end]);
        rest = &after[end + 1..];
    }
    out
}

/// The DER inside a PEM file (standard base64 between the armour lines).
pub fn pem_to_der(pem: &str) -> Vec<u8> {
    let mut bits = 0u32;
    let mut count = 0;
    let mut out = Vec::new();
    for line in pem.lines().filter(|l| !l.starts_with("-----")) {
        for c in line.bytes() {
            let v = match c {
                b'A'..=b'Z' => c - b'A',
                b'a'..=b'z' => c - b'a' + 26,
                b'0'..=b'9' => c - b'0' + 52,
                b'+' => 62,
                b'/' => 63,
                _ => continue,
            };
            bits = (bits << 6) | u32::from(v);
            count += 6;
            if count >= 8 {
                count -= 8;
                out.push((bits >> count) as u8);
            }
        }
    }
    out
}

/// Message sizes measured: 4 KiB and 100 KiB.
pub const SIZES: [(&str, usize); 2] = [("4KiB", 4 * 1024), ("100KiB", 100 * 1024)];

/// An unsigned message of exactly `size` octets: eight header fields, then
/// body lines of 66 octets (64 and CRLF), dense in whitespace so that relaxed
/// canonicalization has work on every line: runs of spaces and tabs inside,
/// blanks before the line end. The lines vary (a fixed linear congruential
/// sequence), so the output is the same on every run.
pub fn message(size: usize) -> Vec<u8> {
    let mut out = format!(
        "From: Alice Example <{SENDER}>\r\n\
         To: Bob Example <bob@example.com>\r\n\
         Subject: Quarterly figures, second draft\r\n\
         Date: Wed, 18 Nov 2026 10:00:00 +0000\r\n\
         Message-ID: <20261118100000.4711@{DOMAIN}>\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\
         Content-Transfer-Encoding: 8bit\r\n\
         \r\n"
    )
    .into_bytes();
    const WORDS: [&str; 12] = [
        "the", "figures", "quarter", "rose", "by", "nine", "percent", "and", "costs", "fell",
        "while", "sales",
    ];
    const GAPS: [&str; 6] = [" ", "  ", "\t", " \t ", "   ", "\t\t"];
    const TAILS: [&str; 4] = [" ", "  \t", "\t", "   "];
    let mut state: u32 = 0x2545_f491;
    let mut next = |n: usize| {
        state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        (state >> 16) as usize % n
    };
    while out.len() < size {
        let tail = TAILS[next(TAILS.len())];
        let mut line = String::with_capacity(64);
        while line.len() < 64 - tail.len() {
            if !line.is_empty() {
                line.push_str(GAPS[next(GAPS.len())]);
            }
            line.push_str(WORDS[next(WORDS.len())]);
        }
        line.truncate(64 - tail.len());
        // A word cut at the end keeps its letters; a gap cut at the end
        // leaves blanks, which the tail adds anyway.
        line.push_str(tail);
        debug_assert_eq!(line.len(), 64);
        let room = size - out.len();
        if room >= 66 {
            out.extend_from_slice(line.as_bytes());
            out.extend_from_slice(b"\r\n");
        } else {
            // The last line is cut to fill the size exactly (the header's
            // length leaves it at least one octet and CRLF for both sizes).
            assert!(room >= 3, "size {size} leaves {room} octets");
            out.extend_from_slice(&line.as_bytes()[..room - 2]);
            out.extend_from_slice(b"\r\n");
        }
    }
    debug_assert_eq!(out.len(), size);
    out
}

/// The signed inputs for the verification rows, written by the binary of
/// this repository's library (which takes the signing time as an argument)
/// and read by both, so that both verify the same bytes.
pub fn signed_path(dir: &Path, algorithm: &str, size_label: &str) -> PathBuf {
    dir.join(format!("{algorithm}-{size_label}.eml"))
}

/// Where the runner keeps the signed messages unless told otherwise.
pub fn default_input_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target/inputs")
}

/// Reads a signed message written by the signing step.
pub fn read_signed(dir: &Path, algorithm: &str, size_label: &str) -> Vec<u8> {
    let path = signed_path(dir, algorithm, size_label);
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run `compare-mailauth sign-inputs {}` first)",
            path.display(),
            dir.display()
        )
    })
}

/// How long and how often each row is timed.
#[derive(Debug, Clone)]
pub struct Timing {
    /// Rounds per row; the row's figure is their median.
    pub rounds: usize,
    /// The target duration of one round; the iteration count is chosen
    /// from a calibration run to reach it.
    pub round: Duration,
    /// In the quick mode: a fixed, small number of iterations per round
    /// (or the number given with `--iterations`).
    pub fixed_iterations: Option<u64>,
    /// With `--only TEXT`: only the rows whose name holds TEXT are timed
    /// (results are still checked), for a profiler pointed at one row.
    pub only: Option<String>,
}

impl Timing {
    /// Reads `--rounds N`, `--round-ms N`, `--quick`, `--iterations N` and
    /// `--only TEXT` from the arguments.
    pub fn from_args(args: &[String]) -> Timing {
        let mut timing = Timing {
            rounds: 5,
            round: Duration::from_millis(40),
            fixed_iterations: None,
            only: None,
        };
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            match arg.as_str() {
                "--quick" => {
                    timing.rounds = 1;
                    timing.fixed_iterations = Some(3);
                }
                "--rounds" => timing.rounds = number(it.next(), "--rounds") as usize,
                "--iterations" => timing.fixed_iterations = Some(number(it.next(), "--iterations")),
                "--only" => timing.only = Some(it.next().expect("--only takes a row name").clone()),
                "--round-ms" => {
                    timing.round = Duration::from_millis(number(it.next(), "--round-ms"))
                }
                other if other.starts_with("--") => panic!("unknown option {other}"),
                _ => {}
            }
        }
        timing
    }

    /// Whether `row` is to be timed (`--only`).
    fn wanted(&self, row: &str) -> bool {
        self.only
            .as_ref()
            .is_none_or(|only| row.contains(only.as_str()))
    }

    /// How many times to run `op` per round: `--iterations`, or as many
    /// as fill a round, measured after a warm-up of a tenth of one.
    fn iterations<T>(&self, op: &mut impl FnMut() -> T) -> u64 {
        match self.fixed_iterations {
            Some(n) => n,
            None => {
                let target = self.round / 10;
                let start = Instant::now();
                let mut n = 0u64;
                while start.elapsed() < target || n < 2 {
                    black_box(op());
                    n += 1;
                }
                let per_op = start.elapsed().as_secs_f64() / n as f64;
                ((self.round.as_secs_f64() / per_op) as u64).max(5)
            }
        }
    }

    /// Two rows timed round by round in turn, so that both meet the same
    /// host: prints the `time` line of each (the median of its rounds) and
    /// `ratio<TAB>a/b<TAB>the median of the rounds' ratios`.
    pub fn pair<T, U>(&self, rows: [&str; 2], mut a: impl FnMut() -> T, mut b: impl FnMut() -> U) {
        if !rows.iter().any(|row| self.wanted(row)) {
            return;
        }
        let (n_a, n_b) = (self.iterations(&mut a), self.iterations(&mut b));
        let mut times_a = Vec::new();
        let mut times_b = Vec::new();
        let mut ratios = Vec::new();
        for _ in 0..self.rounds.max(1) {
            let t_a = round(n_a, &mut a);
            let t_b = round(n_b, &mut b);
            times_a.push(t_a);
            times_b.push(t_b);
            ratios.push(t_a / t_b);
        }
        for v in [&mut times_a, &mut times_b, &mut ratios] {
            v.sort_by(f64::total_cmp);
        }
        println!("time\t{}\t{:.1}", rows[0], median(&times_a));
        println!("time\t{}\t{:.1}", rows[1], median(&times_b));
        println!("ratio\t{} / {}\t{:.4}", rows[0], rows[1], median(&ratios));
    }

    /// Times `op` and prints `time<TAB>row<TAB>nanoseconds per op` (the
    /// median of the rounds).
    pub fn row<T>(&self, row: &str, mut op: impl FnMut() -> T) {
        if !self.wanted(row) {
            return;
        }
        let iterations = self.iterations(&mut op);
        let mut samples: Vec<f64> = (0..self.rounds.max(1))
            .map(|_| round(iterations, &mut op))
            .collect();
        samples.sort_by(f64::total_cmp);
        println!("time\t{row}\t{:.1}", median(&samples));
    }
}

/// One timed round: `op` run `iterations` times, in nanoseconds per run.
fn round<T>(iterations: u64, op: &mut impl FnMut() -> T) -> f64 {
    let start = Instant::now();
    for _ in 0..iterations {
        black_box(op());
    }
    start.elapsed().as_nanos() as f64 / iterations as f64
}

/// Prints `check<TAB>row<TAB>result`; the runner requires both libraries
/// to print the same line for each row they share.
pub fn check(row: &str, result: &str) {
    println!("check\t{row}\t{result}");
}

fn number(arg: Option<&String>, name: &str) -> u64 {
    arg.and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("{name} takes a number"))
}

/// The median of sorted samples.
pub fn median(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_have_the_size_and_shape_asked() {
        for (_, size) in SIZES {
            let m = message(size);
            assert_eq!(m.len(), size);
            let text = String::from_utf8(m).expect("ascii");
            let (header, body) = text.split_once("\r\n\r\n").expect("blank line");
            assert_eq!(header.split("\r\n").count(), 8);
            let lines: Vec<&str> = body.split_terminator("\r\n").collect();
            for line in &lines[..lines.len() - 1] {
                assert_eq!(line.len(), 64, "{line:?}");
                assert!(line.ends_with([' ', '\t']), "{line:?}");
                assert!(line.contains("  ") || line.contains('\t'), "{line:?}");
            }
        }
        assert_eq!(message(4096), message(4096));
    }

    #[test]
    fn keys_and_records_load() {
        let keys = Keys::load();
        assert!(keys.rsa_record.starts_with("v=DKIM1; k=rsa; p=MIIB"));
        assert!(keys.rsa_record.ends_with("IDAQAB"));
        assert!(keys.ed_record.starts_with("v=DKIM1; k=ed25519; p="));
        assert_eq!(pem_to_der(&keys.ed_pem).len(), 48);
        assert_eq!(pem_to_der(&keys.rsa_pem)[0], 0x30);
    }
}
