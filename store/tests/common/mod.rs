//! Test helpers: a store of each backend, fresh for each test, and a
//! simple verdict type.
//!
//! PostgreSQL: the server named by `MAILAUTH_TEST_PG` (a connection string,
//! which scripts/pg-test-server.sh sets); without it, the test starts its
//! own private server through that script (stopped when the test process
//! ends). A test never skips a backend: when no server can be started it
//! fails and says why.

#![allow(clippy::unwrap_used)]
#![allow(dead_code, unreachable_pub)]

use std::path::PathBuf;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use mailauth_store::{Entry, Period, PostgresStore, Recordable, ReportStore, SqliteStore};

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn unique(prefix: &str) -> String {
    format!(
        "{prefix}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// The two backends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub const BACKENDS: [Backend; 2] = [Backend::Sqlite, Backend::Postgres];

/// Where a fresh store is: reopen it with [`Place::open`].
#[derive(Debug, Clone)]
pub enum Place {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Place {
    pub fn new(backend: Backend) -> Place {
        match backend {
            Backend::Sqlite => {
                let dir = std::env::temp_dir().join(unique("mailauth-store-test"));
                std::fs::create_dir_all(&dir).expect("temporary folder");
                Place::Sqlite(dir.join("reports.sqlite"))
            }
            Backend::Postgres => Place::Postgres(fresh_database()),
        }
    }

    pub fn open(&self) -> Box<dyn ReportStore> {
        match self {
            Place::Sqlite(path) => Box::new(
                SqliteStore::open(path, std::time::Duration::from_secs(10)).expect("sqlite store"),
            ),
            Place::Postgres(connection) => {
                Box::new(PostgresStore::connect(connection).expect("postgres store"))
            }
        }
    }

    /// The text a child process gets to open the same store.
    pub fn describe(&self) -> String {
        match self {
            Place::Sqlite(path) => format!("sqlite:{}", path.display()),
            Place::Postgres(connection) => format!("postgres:{connection}"),
        }
    }

    pub fn parse(text: &str) -> Place {
        if let Some(path) = text.strip_prefix("sqlite:") {
            Place::Sqlite(PathBuf::from(path))
        } else {
            Place::Postgres(text.strip_prefix("postgres:").expect("a place").to_owned())
        }
    }
}

/// The connection string of the test server.
pub fn server() -> &'static str {
    static SERVER: OnceLock<String> = OnceLock::new();
    SERVER.get_or_init(|| {
        if let Ok(connection) = std::env::var("MAILAUTH_TEST_PG") {
            return connection;
        }
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/pg-test-server.sh");
        let dir = std::env::temp_dir().join(unique("mailauth-pg"));
        let output = std::process::Command::new(&script)
            .arg("start")
            .arg(&dir)
            .arg(std::process::id().to_string())
            .output()
            .expect("run scripts/pg-test-server.sh");
        assert!(
            output.status.success(),
            "MAILAUTH_TEST_PG is not set and {} could not start a PostgreSQL server \
             (install Debian's postgresql, or run the tests under \
             `scripts/pg-test-server.sh run cargo test -p mailauth-store`): {}",
            script.display(),
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout)
            .expect("connection string")
            .trim()
            .to_owned()
    })
}

/// A new, empty database on the test server.
pub fn fresh_database() -> String {
    let base = server();
    let name = unique("mailauth_test");
    let mut admin = postgres::Client::connect(base, postgres::NoTls)
        .unwrap_or_else(|e| panic!("connect to the test PostgreSQL ({base}): {e}"));
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .expect("create database");
    format!("{base} dbname={name}")
}

/// A verdict for the store tests: a policy domain, a source address and a
/// result, the three making the aggregation key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestVerdict {
    pub policy_domain: String,
    pub source: String,
    pub result: String,
}

impl TestVerdict {
    pub fn new(policy_domain: &str, source: &str, result: &str) -> TestVerdict {
        TestVerdict {
            policy_domain: policy_domain.to_owned(),
            source: source.to_owned(),
            result: result.to_owned(),
        }
    }
}

impl Recordable for TestVerdict {
    fn entry(&self, period: Period) -> Option<Entry> {
        (!self.policy_domain.is_empty()).then(|| Entry {
            period,
            policy_domain: self.policy_domain.clone(),
            key: format!("{}|{}", self.source, self.result),
            record: format!(
                "{{\"source\":\"{}\",\"result\":\"{}\"}}",
                self.source, self.result
            ),
            policy: "{\"p\":\"none\"}".to_owned(),
            count: 1,
        })
    }
}
