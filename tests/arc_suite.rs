#![allow(clippy::unwrap_used)]
//! The ValiMail ARC test suite (tests/data/arc-valimail), run as
//! table-driven tests. Run with `--nocapture` to see the counts:
//!
//! ```text
//! cargo test --test arc_suite -- --nocapture
//! ```
//!
//! Conventions of the suite's README: messages have LF line endings and
//! are read with CRLF; an empty expected `cv` means fail; `cv` compares
//! without case; the signing cases compare the expected and produced field
//! values after removing all whitespace; an empty expected value means no
//! ARC set is added. The TXT records go into an in-memory zone.

use std::sync::Arc;

use mailauth::arc::{self, ArcResult, SealOptions, SealOutcome, Sealer, Validator};
use mailauth::dkim::SigningKey;
use mailauth::dns::{Name, ZoneResolver};
use serde_json::Value;

/// Validation cases read differently from the suite, with the reason. Must
/// stay in step with the results: the test fails when a listed case
/// passes.
const KNOWN_VALIDATION_FAILURES: &[(&str, &str)] = &[];

/// Signing cases read differently from the suite, with the reason.
const KNOWN_SIGNING_FAILURES: &[(&str, &str)] = &[];

fn load(file: &str) -> Vec<Value> {
    let path = format!("{}/tests/data/arc-valimail/{file}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn crlf(text: &str) -> Vec<u8> {
    text.replace("\r\n", "\n").replace('\n', "\r\n").into_bytes()
}

fn zone(scenario: &Value) -> ZoneResolver {
    let mut zone = ZoneResolver::new();
    if let Some(records) = scenario["txt-records"].as_object() {
        for (name, text) in records {
            let text = text.as_str().unwrap().replace('\n', "");
            zone.add_txt(&Name::new(name).unwrap(), text.trim());
        }
    }
    zone
}

fn validate(message: &[u8], zone: &ZoneResolver) -> arc::Outcome {
    let mut validator = Validator::new(&arc::Config {
        key_cache: None,
        ..arc::Config::default()
    });
    // Fed in small chunks: the split must not matter.
    for chunk in message.chunks(61) {
        validator.feed(chunk);
    }
    mailauth::resolve(validator.finish(), zone)
}

fn expected_result(cv: &str) -> ArcResult {
    match cv.trim().to_ascii_lowercase().as_str() {
        "pass" => ArcResult::Pass,
        "none" => ArcResult::None,
        // An empty cv is read as fail (README).
        _ => ArcResult::Fail,
    }
}

#[test]
fn validation_suite() {
    let mut passed = 0;
    let mut total = 0;
    let mut shadowed = 0;
    let mut failures = Vec::new();
    for scenario in load("arc-draft-validation-tests.json") {
        let zone = zone(&scenario);
        let cases = scenario["tests"].as_object().unwrap();
        for (name, case) in cases {
            // Four names appear twice in the YAML file; the JSON keeps the
            // second copy as `<name>_2`. A YAML reader keeps the second, so
            // that one counts under the name; the first is checked too,
            // outside the count (both expect the same result).
            let first_copy = cases.contains_key(&format!("{name}_2"));
            let name = name.strip_suffix("_2").filter(|n| cases.contains_key(*n)).unwrap_or(name);
            if first_copy {
                shadowed += 1;
            } else {
                total += 1;
            }
            let message = crlf(case["message"].as_str().unwrap());
            let expected = expected_result(case["cv"].as_str().unwrap_or(""));
            let outcome = validate(&message, &zone);
            let known = KNOWN_VALIDATION_FAILURES.iter().any(|(n, _)| *n == name);
            if outcome.result == expected {
                passed += usize::from(!first_copy);
                assert!(!known, "{name} is listed as a known failure but passes");
            } else if !known {
                failures.push(format!(
                    "{name}: expected {expected}, got {} ({:?})",
                    outcome.result, outcome.reason
                ));
            }
        }
    }
    println!("arc validation suite: {passed} of {total} passed ({shadowed} first copies of duplicated names also checked)");
    for (name, reason) in KNOWN_VALIDATION_FAILURES {
        println!("  known: {name}: {reason}");
    }
    assert_eq!(total, 171, "the suite has 171 validation cases");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn without_whitespace(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

#[test]
fn signing_suite() {
    let mut passed = 0;
    let mut total = 0;
    let mut failures = Vec::new();
    for scenario in load("arc-draft-sign-tests.json") {
        let zone = zone(&scenario);
        let key = SigningKey::from_pem(scenario["privatekey"].as_str().unwrap().as_bytes()).unwrap();
        let key = Arc::new(key);
        let domain = scenario["domain"].as_str().unwrap();
        let selector = scenario["sel"].as_str().unwrap();
        for (name, case) in scenario["tests"].as_object().unwrap() {
            total += 1;
            let message = crlf(case["message"].as_str().unwrap());
            let chain = validate(&message, &zone);
            let options = SealOptions {
                headers: case["sig-headers"]
                    .as_str()
                    .unwrap()
                    .split(':')
                    .map(str::to_owned)
                    .collect(),
                ..SealOptions::default()
            };
            let sealer = Sealer::new(
                domain,
                selector,
                key.clone(),
                case["srv-id"].as_str().unwrap(),
                options,
            )
            .unwrap();
            let now = case["t"].as_u64().unwrap();
            let mut sealing = sealer.start(now);
            for chunk in message.chunks(53) {
                sealing.update(chunk);
            }
            let outcome = sealing.finish_with_header_results(&chain).unwrap();
            let expected: Vec<String> = ["AAR", "AMS", "AS"]
                .iter()
                .map(|k| without_whitespace(case[*k].as_str().unwrap_or("")))
                .collect();
            let produced: Vec<String> = match &outcome {
                SealOutcome::Sealed(set) => [
                    set.authentication_results(),
                    set.message_signature(),
                    set.seal(),
                ]
                .iter()
                .map(|v| without_whitespace(v))
                .collect(),
                _ => vec![String::new(); 3],
            };
            let known = KNOWN_SIGNING_FAILURES.iter().any(|(n, _)| *n == name);
            if expected == produced {
                passed += 1;
                assert!(!known, "{name} is listed as a known failure but passes");
            } else if !known {
                failures.push(format!(
                    "{name} (chain {}): expected\n  {expected:?}\ngot\n  {produced:?}",
                    chain.result
                ));
            }
        }
    }
    println!("arc signing suite: {passed} of {total} passed");
    for (name, reason) in KNOWN_SIGNING_FAILURES {
        println!("  known: {name}: {reason}");
    }
    assert_eq!(total, 17, "the suite has 17 signing cases");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
