//! Runs a peer implementation (a script given a JSON request on standard
//! input) for the interoperability tests; shared by tests/dkim_interop.rs
//! and tests/arc_interop.rs.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use std::io::Write as _;
use std::process::{Command, Stdio};

/// Runs a peer script with a JSON request on stdin; returns its JSON answer.
pub fn run_peer(
    program: &std::path::Path,
    args: &[&str],
    request: &serde_json::Value,
) -> serde_json::Value {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(request.to_string().as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{} failed: {}",
        program.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "bad peer output ({e}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}
