//! Reads the outputs of the two comparison binaries (files named
//! `mail-auth.N` and `mailauth.N` in one folder, one per run), refuses them
//! when a result differs between runs or between the libraries, and prints
//! the medians as a markdown table: `compare-report DIR [--quick]`.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;

use mailauth_compare::median;

const LIBRARIES: [&str; 2] = ["mail-auth", "mailauth"];

#[derive(Default)]
struct Library {
    /// Row order as first printed.
    rows: Vec<String>,
    checks: BTreeMap<String, String>,
    times: BTreeMap<String, Vec<f64>>,
    /// `ratio` lines: rows timed in turn, with the median ratio of each
    /// run.
    ratios: BTreeMap<String, Vec<f64>>,
    runs: usize,
}

fn read(dir: &Path, library: &str) -> Result<Library, String> {
    let mut out = Library::default();
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| {
            path.file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_prefix(library))
                .and_then(|rest| rest.strip_prefix('.'))
                .is_some_and(|n| n.parse::<u32>().is_ok())
        })
        .collect();
    files.sort();
    for path in files {
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        out.runs += 1;
        for line in text.lines() {
            let fields: Vec<&str> = line.split('\t').collect();
            match fields.as_slice() {
                ["library", name] if *name == library => {}
                ["library", name] => return Err(format!("{}: library {name}", path.display())),
                ["check", row, result] => {
                    if let Some(old) = out.checks.insert(row.to_string(), result.to_string())
                        && old != *result
                    {
                        return Err(format!(
                            "{library} {row}: {old} in one run, {result} in another"
                        ));
                    }
                }
                ["time", row, ns] => {
                    let ns: f64 = ns
                        .parse()
                        .map_err(|_| format!("{}: {line}", path.display()))?;
                    if !out.times.contains_key(*row) {
                        out.rows.push(row.to_string());
                    }
                    out.times.entry(row.to_string()).or_default().push(ns);
                }
                ["ratio", rows, value] => {
                    let value: f64 = value
                        .parse()
                        .map_err(|_| format!("{}: {line}", path.display()))?;
                    out.ratios.entry(rows.to_string()).or_default().push(value);
                }
                _ => return Err(format!("{}: unexpected line {line:?}", path.display())),
            }
        }
    }
    if out.runs == 0 {
        return Err(format!("no {library}.N output in {}", dir.display()));
    }
    Ok(out)
}

fn show(ns: f64) -> String {
    if ns >= 10_000.0 {
        format!("{:.1} µs", ns / 1000.0)
    } else if ns >= 1000.0 {
        format!("{:.2} µs", ns / 1000.0)
    } else {
        format!("{ns:.0} ns")
    }
}

fn med(times: &BTreeMap<String, Vec<f64>>, row: &str) -> Option<f64> {
    let mut samples = times.get(row)?.clone();
    samples.sort_by(f64::total_cmp);
    Some(median(&samples))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(dir) = args.iter().find(|a| !a.starts_with("--")) else {
        eprintln!("usage: compare-report DIR [--quick]");
        return ExitCode::from(2);
    };
    let quick = args.iter().any(|a| a == "--quick");
    let [peer, ours] = match LIBRARIES.map(|library| read(Path::new(dir), library)) {
        [Ok(peer), Ok(ours)] => [peer, ours],
        [Err(e), _] | [_, Err(e)] => {
            eprintln!("compare-report: {e}");
            return ExitCode::FAILURE;
        }
    };

    // Both libraries must give the same result on every row they share.
    let mut agree = 0;
    for (row, result) in &ours.checks {
        if let Some(theirs) = peer.checks.get(row) {
            if theirs != result {
                eprintln!("compare-report: {row}: mailauth says {result}, mail-auth says {theirs}");
                return ExitCode::FAILURE;
            }
            agree += 1;
        }
    }
    let only: Vec<&String> = peer
        .checks
        .keys()
        .filter(|r| !ours.checks.contains_key(*r))
        .collect();
    if !only.is_empty() {
        eprintln!("compare-report: rows only mail-auth checked: {only:?}");
        return ExitCode::FAILURE;
    }
    println!(
        "Both libraries agree on {agree} results ({} runs of mail-auth, {} of mailauth).\n",
        peer.runs, ours.runs
    );
    if quick {
        println!("(--quick: a few iterations only, the figures below are no measurement)\n");
    }

    println!("| row | mail-auth | mailauth | ratio (mailauth/mail-auth) |");
    println!("|---|---:|---:|---:|");
    let mut rows = ours.rows.clone();
    rows.extend(peer.rows.iter().filter(|r| !ours.rows.contains(r)).cloned());
    for row in &rows {
        let theirs = med(&peer.times, row);
        let mine = med(&ours.times, row);
        let cell = |v: Option<f64>| v.map_or("-".to_owned(), show);
        let ratio = match (mine, theirs) {
            (Some(m), Some(t)) if t > 0.0 => format!("{:.2}", m / t),
            _ => "-".to_owned(),
        };
        println!("| {row} | {} | {} | {ratio} |", cell(theirs), cell(mine));
    }
    // Timed round by round in turn: the median of the runs' ratios.
    if let Some(ratio) = med(
        &ours.ratios,
        "inbound/pipeline/rsa-2048/4KiB / inbound/dkim-verify-only/rsa-2048/4KiB",
    ) {
        println!(
            "\nmailauth inbound pipeline / DKIM verification alone (same message, rounds in turn): {ratio:.3}"
        );
    }
    ExitCode::SUCCESS
}
