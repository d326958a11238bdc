//! Every public field of every outcome reaches both bindings.
//!
//! The fields are read from the Rust sources (so a field added to an
//! outcome fails this test until C and Python expose it), then looked up
//! in the C header (`include/mailauth.h`, an accessor function) and the
//! Python stubs (`_native.pyi`, a property of the result class). Where a
//! binding names a field differently the table below says so.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The `pub` fields of `pub struct <name> {` in the `.rs` files under
/// `dir` (exactly one definition must exist).
fn rust_fields(dir: &str, name: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut files = vec![root().join(dir)];
    while let Some(path) = files.pop() {
        if path.is_dir() {
            for entry in std::fs::read_dir(&path).unwrap() {
                files.push(entry.unwrap().path());
            }
            continue;
        }
        if path.extension().is_some_and(|e| e == "rs") {
            found.extend(struct_fields(&path, name));
        }
    }
    assert_eq!(
        found.len(),
        1,
        "pub struct {name} in {dir}: {} found",
        found.len()
    );
    found.remove(0)
}

fn struct_fields(path: &Path, name: &str) -> Option<Vec<String>> {
    let text = std::fs::read_to_string(path).unwrap();
    let start = text.find(&format!("\npub struct {name} {{\n"))?;
    let body = &text[start..];
    let end = body.find("\n}\n")?;
    Some(
        body[..end]
            .lines()
            .filter_map(|line| line.trim().strip_prefix("pub "))
            .filter_map(|rest| rest.split_once(':'))
            .filter(|(field, _)| !field.contains(' '))
            .map(|(field, _)| field.to_owned())
            .collect(),
    )
}

/// The property and method names of `class <name>:` in the stubs.
fn python_names(stubs: &str, name: &str) -> Vec<String> {
    let start = stubs
        .find(&format!("\nclass {name}:"))
        .unwrap_or_else(|| panic!("class {name} not in the stubs"));
    stubs[start + 1..]
        .lines()
        .skip(1)
        .take_while(|line| line.is_empty() || line.starts_with(' '))
        .filter_map(|line| line.trim().strip_prefix("def "))
        .filter_map(|rest| rest.split_once('('))
        .map(|(name, _)| name.to_owned())
        .collect()
}

/// One Rust outcome type and where its fields go.
struct Outcome {
    /// The module directory or file holding the type.
    source: &'static str,
    rust: &'static str,
    /// The prefix of its C accessors.
    c_prefix: &'static str,
    python: &'static str,
    /// Fields named differently: (field, C function without the prefix,
    /// Python name); empty names for a field deliberately not exposed
    /// (the table says why).
    renamed: &'static [(&'static str, &'static str, &'static str)],
}

const OUTCOMES: &[Outcome] = &[
    Outcome {
        source: "src/spf",
        rust: "Outcome",
        c_prefix: "mailauth_spf_outcome_",
        python: "SpfResult",
        renamed: &[],
    },
    Outcome {
        source: "src/dkim",
        rust: "SignatureResult",
        c_prefix: "mailauth_dkim_outcome_",
        python: "SignatureResult",
        renamed: &[],
    },
    Outcome {
        source: "src/dkim",
        rust: "Verification",
        c_prefix: "mailauth_dkim_outcome_",
        python: "DkimResult",
        renamed: &[("signatures", "count", "signatures")],
    },
    Outcome {
        source: "src/dmarc",
        rust: "Outcome",
        c_prefix: "mailauth_dmarc_outcome_",
        python: "DmarcResult",
        renamed: &[
            ("record", "record_tag", "record_tag"),
            // Read as its reason type and comment (below).
            ("policy_override", "override_type", "policy_override"),
        ],
    },
    // Every tag of the record that applied, by its name.
    Outcome {
        source: "src/dmarc",
        rust: "Record",
        c_prefix: "mailauth_dmarc_outcome_",
        python: "DmarcResult",
        renamed: &[
            ("policy", "record_tag", "record_tag"),
            ("subdomain_policy", "record_tag", "record_tag"),
            ("nonexistent_subdomain_policy", "record_tag", "record_tag"),
            ("public_suffix", "record_tag", "record_tag"),
            ("testing", "record_tag", "record_tag"),
            ("dkim_alignment", "record_tag", "record_tag"),
            ("spf_alignment", "record_tag", "record_tag"),
            ("aggregate_report_uris", "record_tag", "record_tag"),
            ("failure_report_uris", "record_tag", "record_tag"),
            ("failure_options", "record_tag", "record_tag"),
            ("percent", "record_tag", "record_tag"),
            ("report_formats", "record_tag", "record_tag"),
            ("report_interval", "record_tag", "record_tag"),
            // Not a tag: the bad tags ignored while parsing, which
            // `mailauth dmarc lint` reports; not carried to the bindings.
            ("tag_errors", "", ""),
        ],
    },
    Outcome {
        source: "src/arc",
        rust: "Outcome",
        c_prefix: "mailauth_arc_outcome_",
        python: "ArcResult",
        renamed: &[("instances", "instance_count", "instances")],
    },
    Outcome {
        source: "src/arc",
        rust: "SetSummary",
        c_prefix: "mailauth_arc_outcome_set_",
        python: "ArcSet",
        renamed: &[],
    },
    // The reason type and comment of a policy override, read from the
    // DMARC outcome.
    Outcome {
        source: "src/dmarc",
        rust: "PolicyOverride",
        c_prefix: "mailauth_dmarc_outcome_override_",
        python: "PolicyOverride",
        renamed: &[("kind", "type", "type")],
    },
    Outcome {
        source: "src/inbound.rs",
        rust: "Verdict",
        c_prefix: "mailauth_inbound_outcome_",
        python: "AuthResult",
        renamed: &[
            ("spf_mail_from", "spf", "spf"),
            ("remove", "forged_count", "remove"),
            ("trusted_results", "trusted_result", "trusted_results"),
            ("bimi_remove", "bimi_remove_count", "bimi_remove"),
        ],
    },
    Outcome {
        source: "src/inbound.rs",
        rust: "ExistingField",
        c_prefix: "mailauth_inbound_outcome_forged_",
        python: "RemovedField",
        renamed: &[("field", "field", "raw")],
    },
    // The BIMI fields to remove are of the same type, read through
    // `mailauth_inbound_outcome_bimi_remove_*` in C.
    Outcome {
        source: "src/inbound.rs",
        rust: "ExistingField",
        c_prefix: "mailauth_inbound_outcome_bimi_remove_",
        python: "RemovedField",
        renamed: &[("field", "field", "raw")],
    },
    Outcome {
        source: "src/bimi",
        rust: "Outcome",
        c_prefix: "mailauth_bimi_outcome_",
        python: "BimiResult",
        renamed: &[],
    },
    Outcome {
        source: "src/bimi",
        rust: "Record",
        c_prefix: "mailauth_bimi_record_",
        python: "BimiRecord",
        renamed: &[("locations", "location", "locations")],
    },
];

#[test]
fn every_outcome_field_reaches_c_and_python() {
    let header = read("include/mailauth.h");
    let stubs = read("bindings/python/python/mailauth/_native.pyi");
    let mut missing = Vec::new();
    let mut checked = 0;
    for outcome in OUTCOMES {
        let fields = rust_fields(outcome.source, outcome.rust);
        assert!(!fields.is_empty(), "no fields read for {}", outcome.rust);
        let python = python_names(&stubs, outcome.python);
        for field in fields {
            let (c, py) = outcome
                .renamed
                .iter()
                .find(|(f, _, _)| *f == field)
                .map_or((field.as_str(), field.as_str()), |(_, c, py)| (*c, *py));
            if c.is_empty() && py.is_empty() {
                println!("not exposed: {}::{field}", outcome.rust);
                continue;
            }
            let function = format!("{}{c}(", outcome.c_prefix);
            if !header.contains(&function) {
                missing.push(format!("C: {}::{field} (no {function}...))", outcome.rust));
            }
            if !python.iter().any(|name| name == py) {
                missing.push(format!(
                    "Python: {}::{field} (no {}.{py})",
                    outcome.rust, outcome.python
                ));
            }
            checked += 1;
        }
    }
    println!("{checked} outcome fields checked in C and Python");
    assert!(
        missing.is_empty(),
        "fields missing from a binding:\n{}",
        missing.join("\n")
    );
}

/// A configuration type (its source and name) and, per field, the
/// settings text that sets it (empty: not a setting, with the reason in a
/// comment).
type Knobs = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
);

/// Every field of the configurations of the checks, and the settings key
/// (or why there is none) that sets it: the settings file is how C
/// (`mailauth_settings_load_text`) and Python (`Settings.from_toml`)
/// reach every knob, so a field added to a configuration fails this test
/// until the settings file carries it. Each key is then loaded with a
/// value other than its default, which must change the configuration.
const KNOBS: &[Knobs] = &[
    (
        "src/spf",
        "Config",
        &[
            ("max_dns_mechanisms", "[spf]\nmax_dns_mechanisms = 12"),
            ("max_void_lookups", "[spf]\nmax_void_lookups = 3"),
            (
                "void_lookup_counting",
                "[spf]\nvoid_lookup_counting = \"per-lookup\"",
            ),
            ("max_mx_names", "[spf]\nmax_mx_names = 5"),
            ("max_ptr_names", "[spf]\nmax_ptr_names = 5"),
            ("max_terms", "[spf]\nmax_terms = 100"),
            ("max_explanation_len", "[spf]\nmax_explanation_len = 100"),
            ("default_explanation", "[spf]\ndefault_explanation = \"no\""),
            ("receiver", "[spf]\nreceiver = \"mx.example\""),
            ("record_cache", "[spf]\nrecord_cache = false"),
        ],
    ),
    (
        "src/dkim",
        "VerifyConfig",
        &[
            ("max_signatures", "[verify]\nmax_signatures = 2"),
            ("allow_sha1", "[verify]\nallow_sha1 = true"),
            ("min_rsa_bits", "[verify]\nmin_key_bits = 2048"),
            ("clock_skew", "[verify]\nclock_skew = 10"),
            ("max_header_fields", "[verify]\nmax_header_fields = 10"),
            ("max_header_bytes", "[verify]\nmax_header_bytes = 1000"),
            (
                "unsigned_body_content",
                "[verify]\nunsigned_body_content = \"fail\"",
            ),
            ("key_cache", "[verify]\nkey_cache = false"),
        ],
    ),
    (
        "src/dkim",
        "SignOptions",
        &[
            (
                "canonicalization",
                "[signing]\ncanonicalization = \"simple/simple\"",
            ),
            ("headers", "[signing]\nheaders = [\"from\", \"subject\"]"),
            (
                "oversigned",
                "[signing]\noversign_headers = [\"from\", \"to\"]",
            ),
            ("timestamp", "[signing]\ntimestamp = false"),
            ("expire_after", "[signing]\nsignature_ttl = 86400"),
            ("body_length", "[signing]\nbody_length = true"),
            ("header_limits", "[verify]\nmax_header_fields = 10"),
        ],
    ),
    (
        "src/dmarc",
        "Config",
        &[
            ("mode", "[dmarc]\nmode = \"rfc7489\""),
            (
                "max_tree_walk_queries",
                "[dmarc]\nmax_tree_walk_queries = 5",
            ),
            (
                "public_suffix_list",
                "[dmarc]\npublic_suffix_list = \"src/dmarc/public_suffix_list.dat\"",
            ),
            ("max_record_bytes", "[dmarc]\nmax_record_bytes = 1000"),
            ("max_report_uris", "[dmarc]\nmax_report_uris = 2"),
            ("max_from_addresses", "[dmarc]\nmax_from_addresses = 2"),
            ("max_identifiers", "[dmarc]\nmax_identifiers = 2"),
            ("strict_records", "[dmarc]\nstrict_records = true"),
            ("record_cache", "[dmarc]\nrecord_cache = false"),
        ],
    ),
    (
        "src/inbound.rs",
        "Config",
        &[
            ("authserv_id", "authserv_id = \"mx.other.example\""),
            ("spf", "[spf]\nmax_terms = 100"),
            ("dkim", "[verify]\nclock_skew = 10"),
            ("dmarc", "[dmarc]\nstrict_records = true"),
            // Set per message by the session (the time of the message).
            ("now", ""),
            ("check_helo", "[spf]\ncheck_helo = false"),
            // The session decides who is checked (sign_authenticated,
            // internal_hosts, daemon_names), not the pipeline.
            ("skip_authenticated", ""),
            ("internal_networks", ""),
            (
                "trusted_authserv_ids",
                "trusted_authserv_ids = [\"border.example\"]",
            ),
            ("bimi", "[bimi]\nenabled = true"),
            ("arc", "[arc]\nverify = true"),
            (
                "trusted_arc_sealers",
                "[arc]\ntrusted_sealers = [\"sealer.example\"]",
            ),
        ],
    ),
    // Read into `inbound::Config::arc` when `[arc] verify` is on.
    (
        "src/arc",
        "Config",
        &[
            ("max_sets", "[arc]\nverify = true\nmax_sets = 10"),
            ("allow_sha1", "[arc]\nverify = true\nallow_sha1 = true"),
            ("min_rsa_bits", "[arc]\nverify = true\nmin_key_bits = 2048"),
            ("oldest_pass", "[arc]\nverify = true\noldest_pass = true"),
            (
                "max_header_fields",
                "[arc]\nverify = true\n[verify]\nmax_header_fields = 10",
            ),
            (
                "max_header_bytes",
                "[arc]\nverify = true\n[verify]\nmax_header_bytes = 1000",
            ),
            (
                "key_cache",
                "[arc]\nverify = true\n[verify]\nkey_cache = false",
            ),
        ],
    ),
    (
        "src/bimi",
        "Config",
        &[
            ("enabled", "[bimi]\nenabled = true"),
            (
                "require_signed_selector",
                "[bimi]\nrequire_signed_selector = false",
            ),
            ("max_record_bytes", "[bimi]\nmax_record_bytes = 1000"),
            ("max_location_uris", "[bimi]\nmax_location_uris = 2"),
        ],
    ),
];

#[test]
fn every_configuration_field_is_a_setting() {
    use mailauth::session::Settings;
    let load = |text: &str| {
        Settings::from_toml(text, "parity", &root()).unwrap_or_else(|e| panic!("{text}: {e}"))
    };
    let describe = |s: &Settings| {
        format!(
            "{:?}\n{:?}\n{:?}",
            s.inbound_config(),
            s.sign_options(),
            s.inbound_config()
                .dmarc
                .public_suffix_list
                .as_ref()
                .map(|l| l.rule_count())
        )
    };
    let mut checked = 0;
    let mut missing = Vec::new();
    for (source, name, table) in KNOBS {
        for field in rust_fields(source, name) {
            let Some((_, setting)) = table.iter().find(|(f, _)| *f == field) else {
                missing.push(format!("{name}::{field} ({source}) has no setting"));
                continue;
            };
            checked += 1;
            if setting.is_empty() {
                continue;
            }
            // ARC's configuration exists only with `[arc] verify`: its
            // knobs are compared with that.
            let base = if *source == "src/arc" {
                load("[arc]\nverify = true")
            } else {
                load("")
            };
            if describe(&load(setting)) == describe(&base) {
                missing.push(format!("{name}::{field}: {setting:?} changes nothing"));
            }
        }
    }
    println!("{checked} configuration fields checked against the settings file");
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}
