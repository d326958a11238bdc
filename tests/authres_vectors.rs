//! Authentication-Results parsing vectors (tests/data/authentication-results):
//! RFC 8601 Appendix B, the Python `authres` 1.2.0 doctests and the
//! go-msgauth test tables. Every field that parses must also render and
//! parse back to the same structure.
//!
//! Run with `cargo test --test authres_vectors -- --nocapture` to see the
//! counts.
#![allow(clippy::unwrap_used)] // helpers outside #[test] functions read test data

use mailauth::authres::{AuthenticationResults, MethodResult, Property};
use mailauth::message::HeaderField;
use serde_json::Value;

/// Vectors where this parser and the reference disagree, with the reason.
/// The test checks that each of them does disagree, so the list stays true.
const KNOWN_DISAGREEMENTS: &[(&str, &str)] = &[
    (
        "authres-20",
        "`x-tls=pass version=TLSv1.2 ...`: properties without a ptype are outside the RFC 8601 \
         grammar; authres drops them silently, we refuse the field (expected \".\")",
    ),
    (
        "authres-22",
        "a real-world field whose last result is `x-tls=pass version=TLSv1.2 ...`, properties \
         without a ptype (as authres-20); the error is at that result, what comes before it parses",
    ),
    (
        "go-msgauth-10",
        "an empty value has no authserv-id, which RFC 8601 requires; go-msgauth accepts it",
    ),
    (
        "go-msgauth-13",
        "a `;` after the last result is outside the RFC 8601 grammar; go-msgauth accepts it \
         (authres refuses the same, vector authres-23)",
    ),
];

const DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/authentication-results"
);

fn load(name: &str) -> Value {
    let text = std::fs::read_to_string(format!("{DIR}/{name}")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn field_value(field: &str) -> Vec<u8> {
    let field = HeaderField::from_raw(field.as_bytes().to_vec());
    assert!(field.is_named(b"Authentication-Results"));
    field.value().to_vec()
}

fn str_or_none(v: &Value) -> Option<String> {
    v.as_str().map(str::to_owned)
}

/// The structure an `authres` JSON result describes.
fn from_authres_json(parsed: &Value) -> AuthenticationResults {
    let mut ar = AuthenticationResults::new(parsed["authserv_id"].as_str().unwrap());
    ar.version = parsed["version"].as_str().map(|v| v.parse().unwrap());
    for r in parsed["results"].as_array().unwrap() {
        ar.results.push(MethodResult {
            method: r["method"].as_str().unwrap().to_ascii_lowercase().into(),
            result: r["result"].as_str().unwrap().to_ascii_lowercase().into(),
            reason: str_or_none(&r["reason"]),
            properties: r["properties"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| {
                    Property::new(
                        p["type"].as_str().unwrap().to_ascii_lowercase(),
                        p["name"].as_str().unwrap().to_ascii_lowercase(),
                        p["value"].as_str().unwrap(),
                    )
                })
                .collect(),
        });
    }
    ar
}

/// Renders, parses and renders again: the same field, the same structure.
fn round_trip(ar: &AuthenticationResults) -> Result<(), String> {
    let field = ar.to_header_field();
    let value = field.strip_prefix("Authentication-Results:").unwrap();
    let again = AuthenticationResults::parse(value.as_bytes()).map_err(|e| e.to_string())?;
    if &again != ar || again.to_header_field() != field {
        return Err(format!("round trip changed {ar:?} into {again:?}"));
    }
    Ok(())
}

struct Tally {
    name: &'static str,
    passed: usize,
    total: usize,
    disagreements: Vec<String>,
    failures: Vec<String>,
}

impl Tally {
    fn new(name: &'static str) -> Tally {
        Tally {
            name,
            passed: 0,
            total: 0,
            disagreements: Vec::new(),
            failures: Vec::new(),
        }
    }

    fn record(&mut self, id: &str, outcome: Result<(), String>) {
        self.total += 1;
        let known = KNOWN_DISAGREEMENTS.iter().find(|(k, _)| *k == id);
        match (outcome, known) {
            (Ok(()), None) => self.passed += 1,
            (Ok(()), Some(_)) => self
                .failures
                .push(format!("{id}: listed as a disagreement but agrees")),
            (Err(e), Some((_, reason))) => {
                self.disagreements
                    .push(format!("{id}: {reason} (we say: {e})"));
            }
            (Err(e), None) => self.failures.push(format!("{id}: {e}")),
        }
    }

    fn report(&self) {
        println!(
            "{}: {}/{} agree, {} known disagreements",
            self.name,
            self.passed,
            self.total,
            self.disagreements.len()
        );
        for d in &self.disagreements {
            println!("  known disagreement {d}");
        }
        assert!(self.failures.is_empty(), "{:#?}", self.failures);
    }
}

#[test]
fn rfc8601_appendix_b() {
    let data = load("rfc8601-appendix-b-examples.json");
    let mut tally = Tally::new("RFC 8601 Appendix B");
    for example in data["examples"].as_array().unwrap() {
        for (i, field) in example["fields"].as_array().unwrap().iter().enumerate() {
            let id = format!("{} field {}", example["section"].as_str().unwrap(), i + 1);
            let value = field_value(field["field"].as_str().unwrap());
            let reference = &field["authres_1_2_0"];
            let expected = if reference["ok"].as_bool().unwrap() {
                from_authres_json(&reference["parsed"])
            } else {
                // B.7, which authres cannot parse; the README states the
                // meaning the RFC gives it.
                let mut ar = AuthenticationResults::new("foo.example.net");
                ar.version = Some(1);
                ar.results.push(MethodResult {
                    method: "dkim".into(),
                    result: "fail".into(),
                    reason: None,
                    properties: vec![Property::new("policy", "expired", "1362471462")],
                });
                ar
            };
            let outcome = match AuthenticationResults::parse(&value) {
                Ok(ar) if ar == expected => round_trip(&ar),
                Ok(ar) => Err(format!("parsed {ar:?}, expected {expected:?}")),
                Err(e) => Err(e.to_string()),
            };
            tally.record(&id, outcome);
        }
    }
    tally.report();
    assert_eq!(tally.total, 9);
}

#[test]
fn authres_doctests() {
    let data = load("authres-1.2.0-parse-vectors.json");
    let mut tally = Tally::new("authres 1.2.0");
    for vector in data["vectors"].as_array().unwrap() {
        let id = vector["id"].as_str().unwrap();
        let value = field_value(vector["header"].as_str().unwrap());
        let reference = &vector["base_parser"];
        let outcome = match (
            AuthenticationResults::parse(&value),
            reference["ok"].as_bool().unwrap(),
        ) {
            (Ok(ar), true) => {
                let expected = from_authres_json(&reference["parsed"]);
                if ar == expected {
                    round_trip(&ar)
                } else {
                    Err(format!("parsed {ar:?}, expected {expected:?}"))
                }
            }
            (Err(_), false) => Ok(()),
            (Ok(ar), false) => Err(format!("accepted {ar:?}, authres refuses it")),
            (Err(e), true) => Err(format!("refused ({e}), authres accepts it")),
        };
        tally.record(id, outcome);
    }
    tally.report();
    assert_eq!(tally.total, 23);
}

#[test]
fn go_msgauth_tables() {
    let data = load("go-msgauth-parse-vectors.json");
    let mut tally = Tally::new("go-msgauth");
    for (i, vector) in data["vectors"].as_array().unwrap().iter().enumerate() {
        let id = format!("go-msgauth-{:02}", i + 1);
        let value = vector["header_value"].as_str().unwrap();
        let outcome = match AuthenticationResults::parse(value.as_bytes()) {
            Err(e) => Err(e.to_string()),
            Ok(ar) => {
                let expected = vector["expected_results"].as_array().unwrap();
                let mut problems = Vec::new();
                if ar.authserv_id != vector["expected_authserv_id"].as_str().unwrap() {
                    problems.push(format!("authserv-id {}", ar.authserv_id));
                }
                if ar.results.len() != expected.len() {
                    problems.push(format!("{} results", ar.results.len()));
                }
                for (ours, theirs) in ar.results.iter().zip(expected) {
                    if ours.method != theirs["method"].as_str().unwrap()
                        || ours.result != theirs["result"].as_str().unwrap()
                        || ours.reason.as_deref() != theirs["reason"].as_str()
                    {
                        problems.push(format!("result {ours:?} vs {theirs}"));
                    }
                    // go-msgauth keeps only the properties it knows: each of
                    // them must be among ours.
                    for (key, value) in theirs["properties"].as_object().unwrap() {
                        let found = ours.properties.iter().any(|p| {
                            format!("{}.{}", p.property_type, p.property) == *key
                                && Some(p.value.as_str()) == value.as_str()
                        });
                        if !found {
                            problems.push(format!("property {key}={value} missing"));
                        }
                    }
                }
                if problems.is_empty() {
                    round_trip(&ar)
                } else {
                    Err(problems.join("; "))
                }
            }
        };
        tally.record(&id, outcome);
    }
    tally.report();
    assert_eq!(tally.total, 13);
}
