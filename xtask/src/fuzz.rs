//! `cargo xtask fuzz`: the long fuzz run. Every fuzz target is a proptest property over arbitrary input (bytes,
//! strings and JSON shaped like what the parsers read), in `crates/core/tests/fuzz.rs` and
//! `crates/sink/tests/fuzz.rs`; `cargo xtask test` runs each briefly. Here each target runs in release builds, in
//! batches with fresh random seeds, until its time is up; a failure stops the target and is reported with
//! proptest's minimal input (keep it as a regression test). proptest rather than cargo-fuzz: cargo-fuzz needs a
//! nightly toolchain and libFuzzer, which this project's machines do not have.

use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::tools::{cargo, root};
use crate::Result;

/// (package, test file, property).
const TARGETS: &[(&str, &str, &str)] = &[
    ("setlist-core", "fuzz", "callback_parser_never_panics"),
    ("setlist-core", "fuzz", "callback_parser_never_panics_on_query_shapes"),
    ("setlist-core", "fuzz", "callback_errors_never_echo_the_code"),
    ("setlist-core", "fuzz", "token_parser_never_panics"),
    ("setlist-core", "fuzz", "token_parser_never_echoes_a_secret"),
    ("setlist-core", "fuzz", "web_api_parsers_never_panic"),
    ("setlist-core", "fuzz", "web_api_parsers_never_panic_on_paging_shapes"),
    ("setlist-core", "fuzz", "id_parsers_never_panic"),
    ("setlist-sink", "fuzz", "push_parser_never_panics_or_echoes_a_token"),
    ("setlist-sink", "fuzz", "push_endpoint_never_panics_echoes_or_writes"),
];

/// Cases per batch: small enough that the time budget is kept to within a few seconds.
const BATCH: u64 = 5_000;

const USAGE: &str = "usage: cargo xtask fuzz [--secs N] [--jobs J] [NAME...]
  runs every fuzz target (or those whose name contains a NAME) for N seconds each (default 600), J at a time
  (default 2); prints executions per target and writes .setlist/fuzz/results.md";

struct Outcome {
    target: String,
    cases: u64,
    secs: f64,
    failure: Option<String>,
}

pub(crate) fn fuzz(args: &[String]) -> Result<()> {
    let mut secs = 600u64;
    let mut jobs = 2usize;
    let mut names = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--secs" => secs = it.next().and_then(|v| v.parse().ok()).ok_or(USAGE)?,
            "--jobs" => jobs = it.next().and_then(|v| v.parse().ok()).filter(|j| *j > 0).ok_or(USAGE)?,
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            other if other.starts_with('-') => return Err(format!("unknown option {other}\n{USAGE}")),
            other => names.push(other.to_owned()),
        }
    }
    let targets: Vec<_> = TARGETS
        .iter()
        .filter(|(_, _, t)| names.is_empty() || names.iter().any(|n| t.contains(n.as_str())))
        .copied()
        .collect();
    if targets.is_empty() {
        return Err(format!("no fuzz target matches {names:?}"));
    }
    // Build once, up front, so the budget is spent fuzzing.
    for package in ["setlist-core", "setlist-sink"] {
        crate::procs::run(
            Command::new(cargo())
                .args(["test", "--release", "--no-run", "--package", package, "--test", "fuzz"])
                .current_dir(root()),
        )?;
    }
    let queue = Arc::new(Mutex::new(targets.into_iter()));
    let results = Arc::new(Mutex::new(Vec::new()));
    let budget = Duration::from_secs(secs);
    let workers: Vec<_> = (0..jobs)
        .map(|_| {
            let (queue, results) = (Arc::clone(&queue), Arc::clone(&results));
            std::thread::spawn(move || loop {
                let next = queue.lock().ok().and_then(|mut q| q.next());
                let Some(target) = next else { break };
                let outcome = run_target(target, budget);
                eprintln!(
                    "xtask: fuzz {}: {} executions in {:.0} s{}",
                    outcome.target,
                    outcome.cases,
                    outcome.secs,
                    if outcome.failure.is_some() { ", FAILED" } else { ", no failure" }
                );
                if let Ok(mut r) = results.lock() {
                    r.push(outcome);
                }
            })
        })
        .collect();
    for w in workers {
        let _ = w.join();
    }
    let mut results = std::mem::take(&mut *results.lock().map_err(|_| "fuzz results lock poisoned")?);
    results.sort_by(|a, b| a.target.cmp(&b.target));
    let mut text = format!(
        "# Fuzz run\n\n{}, {secs} s per target, {jobs} at a time, release build, proptest batches of {BATCH} \
         cases with fresh seeds.\n\n| target | executions | seconds | result |\n| --- | --- | --- | --- |\n",
        crate::procs::output(Command::new("date").args(["-u", "+%Y-%m-%d %H:%M UTC"])).unwrap_or_default().trim()
    );
    for r in &results {
        text.push_str(&format!(
            "| {} | {} | {:.0} | {} |\n",
            r.target,
            r.cases,
            r.secs,
            if r.failure.is_some() { "**failed**" } else { "no failure" }
        ));
    }
    let dir = root().join(".setlist/fuzz");
    std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    std::fs::write(dir.join("results.md"), &text).map_err(|e| format!("writing fuzz results: {e}"))?;
    println!("{text}");
    let failed: Vec<_> = results.iter().filter_map(|r| r.failure.as_ref().map(|f| format!("{}:\n{f}", r.target))).collect();
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!("fuzz targets failed (keep each minimal input as a regression test):\n{}", failed.join("\n\n")))
    }
}

fn run_target((package, file, name): (&str, &str, &str), budget: Duration) -> Outcome {
    let start = Instant::now();
    let mut cases = 0;
    let mut failure = None;
    while start.elapsed() < budget {
        let out = Command::new(cargo())
            .args(["test", "--quiet", "--release", "--package", package, "--test", file, "--", "--exact", name])
            .current_dir(root())
            .env("PROPTEST_CASES", BATCH.to_string())
            .output();
        match out {
            Ok(o) if o.status.success() => {
                let text = String::from_utf8_lossy(&o.stdout);
                if !text.contains("1 passed") {
                    failure = Some(format!("the property did not run: {text}"));
                    break;
                }
                cases += BATCH;
            }
            Ok(o) => {
                failure = Some(format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr)));
                break;
            }
            Err(e) => {
                failure = Some(format!("could not run cargo test: {e}"));
                break;
            }
        }
    }
    Outcome { target: name.to_owned(), cases, secs: start.elapsed().as_secs_f64(), failure }
}
