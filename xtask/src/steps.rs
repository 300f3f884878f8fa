//! What a task spent its time on, and what Cargo compiled for it.
//!
//! CI has 90 minutes on a 2-core machine (issue 17), so `cargo xtask test` times every step and counts every unit
//! Cargo compiles. A crate compiled twice in one profile is time lost: it happened when the services' build resolved
//! features differently from the native suite's (resolver 2 adds dev-dependency features only to builds that need
//! them) and the AWS SDK compiled a second time. Every cargo step here reads Cargo's JSON messages, and a second
//! compile of a crate in [`must_build_once`] fails the run at once; other repeats are listed in the summary.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::procs;
use crate::Result;

/// Wall-clock budgets for `cargo xtask test` (issue 17), leaving CI's 90 minutes room for a slower, shared machine.
pub(crate) const BUDGET_TOOLS_INSTALLED: Duration = Duration::from_secs(25 * 60);
pub(crate) const BUDGET_FRESH_MACHINE: Duration = Duration::from_secs(55 * 60);

/// One compiled unit, as Cargo would put it in a directory of its own: the same crate built into the same profile
/// directory (`debug`, `release`, `wasm32-unknown-unknown/debug`, ...) twice was built with two configurations.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Unit {
    pub(crate) package: String,
    pub(crate) version: String,
    /// `lib`, `bin sink-local`, `custom-build`, ...: a library and its build script are different units.
    pub(crate) target: String,
    /// The crate's unit-test harness (`cargo test`) is a different unit from the crate itself.
    pub(crate) test: bool,
    /// Where Cargo wrote it, relative to the target directory: the profile (and target triple) it belongs to.
    pub(crate) area: String,
}

/// Crates that are never build-time dependencies here, so a second compile of one in the same profile can only be
/// a second feature set (the failure of issue 17). Build-time crates (syn, serde_derive, ...) are compiled again for
/// the host by the wasm builds when their features differ; those are listed, not fatal.
pub(crate) fn must_build_once(package: &str) -> bool {
    package.starts_with("aws-")
        || ["tokio", "hyper", "hyper-util", "axum", "reqwest", "rustls", "ring", "lambda_http", "lambda_runtime"]
            .contains(&package)
}

pub(crate) struct Steps {
    started: Instant,
    done: Vec<(String, Duration)>,
    /// How many times each unit was compiled (not found fresh) in this run.
    compiled: BTreeMap<Unit, usize>,
}

impl Steps {
    pub(crate) fn new() -> Self {
        Self { started: Instant::now(), done: Vec::new(), compiled: BTreeMap::new() }
    }

    pub(crate) fn record(&mut self, name: &str, took: Duration) {
        self.done.push((name.to_owned(), took));
    }

    /// Runs `f` and records how long it took, whether or not it succeeded.
    pub(crate) fn time<T>(&mut self, name: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
        let start = Instant::now();
        let out = f();
        self.record(name, start.elapsed());
        out
    }

    /// Runs a cargo command with JSON messages on stdout: compiled units are counted, everything else on stdout
    /// (test output) is passed through, and diagnostics stay on stderr as usual.
    pub(crate) fn cargo(&mut self, name: &str, cmd: &mut Command, target_dir: &Path) -> Result<()> {
        cmd.arg("--message-format=json-render-diagnostics").stdout(Stdio::piped());
        let shown = procs::describe(cmd);
        eprintln!("xtask: $ {shown}");
        let start = Instant::now();
        let mut child = cmd.spawn().map_err(|e| format!("could not start `{shown}`: {e}"))?;
        let mut units = Vec::new();
        if let Some(stdout) = child.stdout.take() {
            let mut out = std::io::stdout().lock();
            for line in BufReader::new(stdout).lines() {
                let line = line.map_err(|e| format!("reading the output of `{shown}`: {e}"))?;
                match compiled_unit(&line, target_dir) {
                    Some(Some(unit)) => units.push(unit),
                    Some(None) => {}
                    None => {
                        let _ = writeln!(out, "{line}");
                    }
                }
            }
        }
        let status = child.wait().map_err(|e| format!("waiting for `{shown}`: {e}"))?;
        self.record(name, start.elapsed());
        eprintln!("xtask: {name}: compiled {} units in {}", units.len(), minutes(start.elapsed()));
        for unit in units {
            *self.compiled.entry(unit).or_default() += 1;
        }
        let fatal: Vec<String> = self
            .repeats()
            .into_iter()
            .filter(|(u, _)| must_build_once(&u.package))
            .map(|(u, n)| format!("  {} {} ({}) in {}: {n} times", u.package, u.version, u.target, u.area))
            .collect();
        if !fatal.is_empty() {
            return Err(format!(
                "\n\n!!! `{shown}` compiled again what an earlier step of this run had compiled in the same \
                 profile:\n{}\n!!! Some cargo invocation resolves features differently from the native suite's \
                 build (xtask/src/tasks.rs, NATIVE_TESTS), or runs with other environment variables; every step \
                 must reuse that build.\n",
                fatal.join("\n")
            ));
        }
        if status.success() {
            Ok(())
        } else {
            Err(format!("`{shown}` failed ({status})"))
        }
    }

    /// Units compiled more than once in this run, with their counts.
    pub(crate) fn repeats(&self) -> Vec<(&Unit, usize)> {
        self.compiled.iter().filter(|(_, n)| **n > 1).map(|(u, n)| (u, *n)).collect()
    }

    /// The closing report: each step's time, the total against its budget, and what was compiled more than once.
    pub(crate) fn summary(&self, installed_tools: bool) -> String {
        let total = self.started.elapsed();
        let width = self.done.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
        let mut s = String::from("xtask: step times\n");
        for (name, took) in &self.done {
            s.push_str(&format!("  {name:<width$}  {:>8}\n", minutes(*took)));
        }
        let (budget, which) = if installed_tools {
            (BUDGET_FRESH_MACHINE, "installing Trunk/wasm-bindgen-cli")
        } else {
            (BUDGET_TOOLS_INSTALLED, "with the tools installed")
        };
        let verdict = if total <= budget {
            format!("within budget, {} to spare", minutes(budget - total))
        } else {
            format!("OVER BUDGET by {}", minutes(total - budget))
        };
        s.push_str(&format!(
            "xtask: budget: {} in all vs {} {which}: {verdict}\n",
            minutes(total),
            minutes(budget)
        ));
        let repeats = self.repeats();
        let packages: std::collections::BTreeSet<&str> = repeats.iter().map(|(u, _)| u.package.as_str()).collect();
        s.push_str(&format!(
            "xtask: compiled {} units; {} compiled more than once per profile ({} crates){}\n",
            self.compiled.values().sum::<usize>(),
            repeats.len(),
            packages.len(),
            if repeats.is_empty() { "" } else { ":" }
        ));
        for (u, n) in repeats {
            s.push_str(&format!("  {n}x {} {} ({}{}) in {}\n", u.package, u.version, u.target, test_mark(u), u.area));
        }
        s
    }
}

fn test_mark(u: &Unit) -> &'static str {
    if u.test {
        ", test"
    } else {
        ""
    }
}

/// `12m 05s`.
pub(crate) fn minutes(d: Duration) -> String {
    let s = d.as_secs();
    format!("{}m {:02}s", s / 60, s % 60)
}

/// Reads one line of cargo's stdout under `--message-format=json*`: `None` if it is not a Cargo message (test
/// output), `Some(None)` for a message that compiled nothing, `Some(Some(unit))` for a unit compiled now.
pub(crate) fn compiled_unit(line: &str, target_dir: &Path) -> Option<Option<Unit>> {
    if !line.starts_with("{\"reason\":") {
        return None;
    }
    let msg: Value = serde_json::from_str(line).ok()?;
    if msg["reason"] != "compiler-artifact" || msg["fresh"] != false {
        return Some(None);
    }
    let (package, version) = package_name_version(msg["package_id"].as_str()?)?;
    let kinds: Vec<&str> = msg["target"]["kind"].as_array()?.iter().filter_map(Value::as_str).collect();
    let name = msg["target"]["name"].as_str()?;
    let target = match kinds.as_slice() {
        ["lib" | "rlib" | "proc-macro" | "cdylib" | "custom-build", ..] => kinds.join(","),
        _ => format!("{} {name}", kinds.join(",")),
    };
    let file = msg["filenames"].as_array()?.first()?.as_str()?;
    Some(Some(Unit {
        package,
        version,
        target,
        test: msg["profile"]["test"] == true,
        area: area(Path::new(file), target_dir),
    }))
}

/// `registry+https://...#aws-config@1.13.0`, `path+file:///work/main/xtask#0.1.0` (the folder names the package),
/// or the older `aws-config 1.13.0 (registry+https://...)`.
fn package_name_version(id: &str) -> Option<(String, String)> {
    if let Some((source, spec)) = id.rsplit_once('#') {
        return Some(match spec.split_once('@') {
            Some((name, version)) => (name.to_owned(), version.to_owned()),
            None => (source.rsplit('/').next()?.to_owned(), spec.to_owned()),
        });
    }
    let mut words = id.split_whitespace();
    Some((words.next()?.to_owned(), words.next()?.to_owned()))
}

/// The profile directory an artifact belongs to: `debug/deps/libx-1a2b.rlib`, `debug/build/x-1a2b/build-script-build`
/// and `debug/sink-local` are all `debug`.
fn area(file: &Path, target_dir: &Path) -> String {
    let rel = file.strip_prefix(target_dir).unwrap_or(file);
    let parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    let end = parts.iter().position(|p| ["deps", "build", "examples"].contains(&p.as_str())).unwrap_or(parts.len() - 1);
    parts[..end].join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    const TARGET: &str = "/work/main/target";

    /// A compiler-artifact line as cargo 1.95 prints it (trimmed to the fields read).
    fn artifact(id: &str, kind: &str, name: &str, test: bool, file: &str, fresh: bool) -> String {
        format!(
            "{{\"reason\":\"compiler-artifact\",\"package_id\":\"{id}\",\
             \"target\":{{\"kind\":[\"{kind}\"],\"name\":\"{name}\"}},\
             \"profile\":{{\"opt_level\":\"1\",\"debuginfo\":2,\"test\":{test}}},\"features\":[],\
             \"filenames\":[\"{TARGET}/{file}\"],\"executable\":null,\"fresh\":{fresh}}}"
        )
    }

    fn aws_config(hash: &str, area: &str, fresh: bool) -> String {
        artifact(
            "registry+https://github.com/rust-lang/crates.io-index#aws-config@1.13.0",
            "lib",
            "aws_config",
            false,
            &format!("{area}/deps/libaws_config-{hash}.rlib"),
            fresh,
        )
    }

    fn count(steps: &[Vec<String>]) -> Steps {
        let mut s = Steps::new();
        for step in steps {
            for line in step {
                if let Some(Some(u)) = compiled_unit(line, Path::new(TARGET)) {
                    *s.compiled.entry(u).or_default() += 1;
                }
            }
        }
        s
    }

    #[test]
    fn a_second_build_of_the_aws_sdk_in_one_profile_is_a_fatal_repeat() {
        // The native suite's build, then a services build that resolved other features (another hash).
        let s = count(&[vec![aws_config("1a2b", "debug", false)], vec![aws_config("3c4d", "debug", false)]]);
        let repeats = s.repeats();
        assert_eq!(repeats.len(), 1);
        let (unit, n) = repeats[0];
        let found = (unit.package.as_str(), unit.version.as_str(), unit.area.as_str(), n);
        assert_eq!(found, ("aws-config", "1.13.0", "debug", 2));
        assert!(must_build_once(&unit.package));
        assert!(s.summary(false).contains("2x aws-config 1.13.0 (lib) in debug"));
    }

    #[test]
    fn reusing_a_build_is_not_a_repeat() {
        let s = count(&[vec![aws_config("1a2b", "debug", false)], vec![aws_config("1a2b", "debug", true)]]);
        assert!(s.repeats().is_empty());
        assert!(s.summary(false).contains("compiled 1 units; 0 compiled more than once"));
    }

    #[test]
    fn other_profiles_and_targets_are_other_units() {
        let s = count(&[vec![
            aws_config("1a2b", "debug", false),
            aws_config("5e6f", "release", false),
            aws_config("7a8b", "x86_64-unknown-linux-gnu/debug", false),
        ]]);
        assert!(s.repeats().is_empty());
        assert_eq!(s.compiled.len(), 3);
    }

    #[test]
    fn a_crate_its_test_harness_and_its_build_script_are_different_units() {
        let sink = "path+file:///work/main/crates/sink#setlist-sink@0.1.0";
        let s = count(&[vec![
            artifact(sink, "lib", "setlist_sink", false, "debug/deps/libsetlist_sink-1.rlib", false),
            artifact(sink, "lib", "setlist_sink", true, "debug/deps/setlist_sink-2", false),
            artifact(sink, "bin", "sink-local", false, "debug/sink-local", false),
            artifact(sink, "bin", "sink-lambda", false, "debug/sink-lambda", false),
            artifact(sink, "custom-build", "build-script-build", false, "debug/build/sink-3/build-script-build", false),
        ]]);
        assert!(s.repeats().is_empty(), "{:?}", s.repeats());
        let areas: Vec<&str> = s.compiled.keys().map(|u| u.area.as_str()).collect();
        assert_eq!(areas, ["debug"; 5]);
    }

    #[test]
    fn host_crates_compiled_twice_are_listed_but_not_fatal() {
        let syn = |hash: &str| {
            artifact(
                "registry+https://github.com/rust-lang/crates.io-index#syn@2.0.119",
                "lib",
                "syn",
                false,
                &format!("debug/deps/libsyn-{hash}.rlib"),
                false,
            )
        };
        let s = count(&[vec![syn("1")], vec![syn("2")]]);
        assert_eq!(s.repeats().len(), 1);
        assert!(!must_build_once("syn"));
        assert!(s.summary(false).contains("1 compiled more than once per profile (1 crates)"));
    }

    #[test]
    fn test_output_and_other_messages_are_told_apart() {
        let dir = Path::new(TARGET);
        assert_eq!(compiled_unit("test sink::push_is_stored ... ok", dir), None);
        assert_eq!(compiled_unit("{\"reason\":\"build-finished\",\"success\":true}", dir), Some(None));
        assert_eq!(compiled_unit(&aws_config("1", "debug", true), dir), Some(None));
    }

    #[test]
    fn package_ids_of_every_form_give_name_and_version() {
        let pv = |id: &str| package_name_version(id).map(|(p, v)| format!("{p} {v}"));
        let registry = "registry+https://github.com/rust-lang/crates.io-index";
        assert_eq!(pv(&format!("{registry}#aws-config@1.13.0")).as_deref(), Some("aws-config 1.13.0"));
        assert_eq!(pv("path+file:///work/main/xtask#0.1.0").as_deref(), Some("xtask 0.1.0"));
        assert_eq!(pv("path+file:///work/main/crates/sink#setlist-sink@0.1.0").as_deref(), Some("setlist-sink 0.1.0"));
        assert_eq!(pv(&format!("tokio 1.54.1 ({registry})")).as_deref(), Some("tokio 1.54.1"));
    }

    /// Issue 17 in miniature, with a real Cargo: a dev-dependency adds a feature to a dependency, so building the
    /// binary on its own (no dev units, resolver 2) compiles that dependency a second time. The test build repeated
    /// compiles nothing; the binary built on its own is caught.
    #[test]
    fn a_real_second_feature_set_is_caught_and_repeating_one_build_is_not() {
        let dir = std::env::temp_dir().join(format!("xtask-steps-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let files = [
            ("Cargo.toml", "[workspace]\nmembers = [\"app\", \"aws-fixture\"]\nresolver = \"2\"\n"),
            (
                "aws-fixture/Cargo.toml",
                "[package]\nname = \"aws-fixture\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
                 [features]\nextra = []\n",
            ),
            (
                "aws-fixture/src/lib.rs",
                "pub fn answer() -> u8 {\n    if cfg!(feature = \"extra\") { 2 } else { 1 }\n}\n",
            ),
            (
                "app/Cargo.toml",
                "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\n\
                 aws-fixture = { path = \"../aws-fixture\" }\n\n[dev-dependencies]\n\
                 aws-fixture = { path = \"../aws-fixture\", features = [\"extra\"] }\n",
            ),
            ("app/src/main.rs", "fn main() {\n    println!(\"{}\", aws_fixture::answer());\n}\n"),
            ("app/tests/answer.rs", "#[test]\nfn answers() {\n    assert_eq!(aws_fixture::answer(), 2);\n}\n"),
        ];
        for (path, text) in files {
            let path = dir.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        let target = dir.join("target");
        let cargo = |args: &[&str]| {
            let mut cmd = Command::new(crate::tools::cargo());
            cmd.args(args).args(["--quiet", "--offline"]).current_dir(&dir).env("CARGO_TARGET_DIR", &target);
            cmd
        };
        let mut steps = Steps::new();
        steps.cargo("tests", &mut cargo(&["test", "--no-run"]), &target).unwrap();
        steps.cargo("tests again", &mut cargo(&["test", "--no-run"]), &target).unwrap();
        assert!(steps.repeats().is_empty(), "{}", steps.summary(false));
        assert!(steps.summary(false).contains("compiled 5 units"), "{}", steps.summary(false));
        let err = steps.cargo("the binary alone", &mut cargo(&["build", "--bin", "app"]), &target).unwrap_err();
        assert!(err.contains("aws-fixture 0.1.0 (lib) in debug: 2 times"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn budget_line_names_the_budget_that_applies() {
        let s = Steps::new();
        assert!(s.summary(false).contains("vs 25m 00s with the tools installed: within budget"));
        assert!(s.summary(true).contains("vs 55m 00s installing Trunk/wasm-bindgen-cli: within budget"));
    }
}
