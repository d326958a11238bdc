//! `mailauth report parse`, run as a program.
#![cfg(feature = "cli")]

use std::process::{Command, Output};

const DIR: &str = "tests/data/dmarc-reports/aggregate";

fn mailauth(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mailauth"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run mailauth")
}

fn path(file: &str) -> String {
    format!("{DIR}/{file}")
}

#[test]
fn table_per_source() {
    let out = mailauth(&[
        "report",
        "parse",
        &path("rfc9990-example.net!example.com!1700000000!1700086399.xml"),
        &path("twilight.eml"),
    ]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).expect("utf-8");
    assert!(text.contains("example.net report dmarcbis-test-report-001 for example.com"));
    assert!(text.contains("2 records, 7 messages"));
    let row = text
        .lines()
        .find(|l| l.starts_with("198.51.100.1 "))
        .expect("row of 198.51.100.1");
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(cells, ["198.51.100.1", "5", "100.0", "100.0", "none=5"]);
    let row = text
        .lines()
        .find(|l| l.starts_with("203.0.113.10 "))
        .expect("row of 203.0.113.10");
    assert!(row.ends_with("reject=2"));
}

#[test]
fn json_and_exit_status() {
    let out = mailauth(&[
        "report",
        "parse",
        "--json",
        &path("rfc9990-sample.xml"),
        &path("invalid_xml.xml"),
        &path("estadocuenta1.infonacot.gob.mx!example.com!1536853302!1536939702!2940.xml.zip"),
    ]);
    // One unreadable file: input error, the others still summarized.
    assert_eq!(out.status.code(), Some(4));
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(value["reports"].as_array().expect("reports").len(), 2);
    assert_eq!(value["reports"][0]["messages"], 123);
    let sources = value["sources"].as_array().expect("sources");
    assert_eq!(sources[0]["source_ip"], "192.0.2.123");
    assert_eq!(sources[0]["dkim_aligned_pass_percent"], 100.0);
    assert_eq!(sources[0]["spf_aligned_pass_percent"], 0.0);
    assert_eq!(sources[0]["dispositions"]["pass"], 123);
    let errors = value["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0]["error"]
            .as_str()
            .expect("text")
            .contains("malformed XML")
    );
    // No file: usage error.
    assert_eq!(mailauth(&["report", "parse"]).status.code(), Some(2));
    // A missing file: input error.
    assert_eq!(
        mailauth(&["report", "parse", "no/such/file.xml"])
            .status
            .code(),
        Some(4)
    );
}
