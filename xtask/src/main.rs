//! Setlist's task runner. `cargo xtask run` starts everything for local use; `cargo xtask test` runs every test.
//! Each command first installs what is missing (idempotent, quick when everything is present).

mod bench;
mod dist;
mod fuzz;
mod procs;
mod split;
mod steps;
mod tools;
mod tasks;

use std::process::ExitCode;

const USAGE: &str = "usage: cargo xtask <command>

commands:
  run     install what is missing, build, start the Spotify stand-in and the app; print the URL
  test    install what is missing and run every test (native, wasm in headless Chromium, Playwright)
  bench   measure bundle size, load, save cost, scrolling, first render; writes bench/results.md
  fuzz    run every fuzz target for 10 minutes each (--secs N to change); writes .setlist/fuzz/results.md
  dist    build dist/site (release app, config.json template) and dist/sink-lambda.zip and dist/job-lambda.zip (docs/deploy.md)
  setup   only install what is missing";

fn main() -> ExitCode {
    forget_cargo_run_env();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("run") => tasks::run(&args[1..]),
        Some("test") => tasks::test(&args[1..]),
        Some("bench") => bench::bench(&args[1..]),
        Some("setup") => tools::ensure_all(tools::Needs::everything()),
        Some("dist") => dist::main(&args[1..]),
        Some("fuzz") => fuzz::fuzz(&args[1..]),
        // Not for people: what Trunk runs as wasm-bindgen (xtask/src/split.rs).
        Some("split-bindgen") => split::bindgen(&args[1..]),
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            Ok(())
        }
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `cargo run` gives xtask its own package's variables (CARGO_MANIFEST_DIR, CARGO_PKG_NAME, ...), and every cargo
/// that xtask starts would inherit them. Cargo compares a build script's `rerun-if-env-changed` variables with its own
/// environment, and ring's build script (through cc) watches CARGO_MANIFEST_DIR and CARGO_PKG_*: ring, rustls,
/// reqwest, the AWS SDK's HTTP client and the sink compiled again at every switch between `cargo test` in a shell and
/// `cargo xtask test`. Called first, while xtask has one thread.
fn forget_cargo_run_env() {
    const SET_BY_CARGO_RUN: &[&str] =
        &["CARGO_MANIFEST_DIR", "CARGO_MANIFEST_PATH", "CARGO_CRATE_NAME", "CARGO_BIN_NAME", "CARGO_PRIMARY_PACKAGE"];
    let names: Vec<String> = std::env::vars_os()
        .filter_map(|(k, _)| k.into_string().ok())
        .filter(|k| k.starts_with("CARGO_PKG_") || SET_BY_CARGO_RUN.contains(&k.as_str()))
        .collect();
    for name in names {
        std::env::remove_var(name);
    }
}

/// One error type for every step: a sentence saying what failed.
pub(crate) type Result<T, E = String> = std::result::Result<T, E>;
