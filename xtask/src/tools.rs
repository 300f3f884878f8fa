//! Installs what the tasks need, only when it is missing or at the wrong version. Never downloads a browser or a
//! tool binary from GitHub: everything comes from crates.io, npm, PyPI or Debian's packages.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::procs::{self, on_path, output};
use crate::Result;

/// Trunk 0.22 needs a newer rustc than this machine has; 0.21.14 is the newest that builds here.
const TRUNK_VERSION: &str = "0.21.14";
/// binaryen from npm: Debian's binaryen 108 miscompiles (WebAssembly.Table.set errors), fixed in 110.
const BINARYEN_VERSION: &str = "132.0.0";
/// wasm-split (`wasm_split_cli_support`), the module splitter made for the `wasm_split_helpers` that Leptos's lazy
/// functions use; the app's wasm_split_helpers 0.2 (Cargo.lock) and this 0.2 share the section format.
const WASM_SPLIT_VERSION: &str = "0.2.4";

#[derive(Clone, Copy, Default)]
pub(crate) struct Needs {
    pub(crate) wasm: bool,
    pub(crate) browser: bool,
    pub(crate) playwright: bool,
    /// moto's server (the sink's Secrets Manager tests) from PyPI.
    pub(crate) python: bool,
    /// spotipy from PyPI: the real client the conformance step runs against the stand-in (issue 14).
    pub(crate) spotipy: bool,
}

impl Needs {
    pub(crate) fn everything() -> Self {
        Self { wasm: true, browser: true, playwright: true, python: true, spotipy: true }
    }
}

pub(crate) fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives in the workspace").to_path_buf()
}

pub(crate) fn tools_dir() -> PathBuf {
    root().join("target").join("tools")
}

/// Installs everything `needs` asks for and waits for it: the quick installs, then Trunk and wasm-bindgen-cli.
pub(crate) fn ensure_all(needs: Needs) -> Result<()> {
    ensure_quick(needs)?;
    if needs.wasm {
        start_cargo_tools(true)?.wait_all()?;
    }
    Ok(())
}

/// Everything that comes prebuilt (rustup's target, npm, Debian, PyPI) or is only fetched: minutes at most on a
/// fresh machine, seconds when present. Trunk and wasm-bindgen-cli compile; [`start_cargo_tools`] starts them.
pub(crate) fn ensure_quick(needs: Needs) -> Result<()> {
    if needs.wasm {
        warn_if_rustflags_override();
        ensure_wasm_target()?;
        ensure_binaryen()?;
        // Trunk builds with `--offline`; fetch once so that works on a fresh machine.
        procs::run(Command::new(cargo()).arg("fetch").current_dir(root()))?;
    }
    if needs.browser {
        ensure_apt(&[("chromium", "chromium"), ("chromedriver", "chromium-driver"), ("brotli", "brotli")])?;
    }
    if needs.playwright {
        ensure_playwright()?;
    }
    if needs.python {
        ensure_pip("moto_server", "moto[server]==5.2.5")?;
    }
    if needs.spotipy {
        ensure_pip_module("spotipy", SPOTIPY_VERSION)?;
    }
    Ok(())
}

/// The tools that must compile, wasm-bindgen-cli and (if `trunk`) Trunk: each missing one is a `cargo install`
/// started now, in the background, so that it compiles while the native suite builds and runs (on a fresh 2-core
/// machine Trunk alone took 10 to 23 minutes).
pub(crate) fn start_cargo_tools(trunk: bool) -> Result<Installs> {
    let wb = wasm_bindgen_version()?;
    let mut installs = Installs::none();
    if trunk {
        installs.start("trunk", TRUNK_VERSION, "trunk", true)?;
    }
    // wasm-bindgen-cli must equal the library version in Cargo.lock exactly. Not `--locked`: its lockfile wants a
    // webpki-roots release the registry no longer has.
    installs.start("wasm-bindgen", &wb, "wasm-bindgen-cli", false)?;
    if trunk {
        // The splitter Trunk's builds of the app need (xtask/src/split.rs); its CLI is behind a feature.
        installs.start("wasm-split-cli", WASM_SPLIT_VERSION, "wasm_split_cli_support", true)?;
    }
    Ok(installs)
}

/// `cargo install`s running in the background, each logging to its own file (their output would interleave with
/// the suites'). Dropping this waits for them: stopping a half-done install would throw away its compile.
pub(crate) struct Installs {
    running: Vec<Install>,
    /// (crate, how long its install took) for the installs that finished.
    done: Vec<(String, Duration)>,
}

struct Install {
    crate_name: String,
    /// Waits for the child and returns how it ended and when: the install's own time, not when it was asked for.
    waiter: JoinHandle<(std::io::Result<ExitStatus>, Duration)>,
    log: PathBuf,
}

impl Installs {
    pub(crate) fn none() -> Self {
        Self { running: Vec::new(), done: Vec::new() }
    }

    /// `bin --version` must print `version`; otherwise `cargo install crate_name --version version` starts.
    fn start(&mut self, bin: &str, version: &str, crate_name: &str, locked: bool) -> Result<()> {
        let have = output(Command::new(bin).arg("--version").env("PATH", path_env())).unwrap_or_default();
        if have.split_whitespace().any(|w| w == version) || cargo_installed(bin, crate_name, version) {
            return Ok(());
        }
        let dir = tools_dir();
        std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        let log = dir.join(format!("install-{crate_name}.log"));
        let file = std::fs::File::create(&log).map_err(|e| format!("creating {}: {e}", log.display()))?;
        let err = file.try_clone().map_err(|e| e.to_string())?;
        let mut cmd = Command::new(cargo());
        cmd.args(["install", crate_name, "--version", version]);
        if locked {
            cmd.arg("--locked");
        }
        if crate_name == "wasm_split_cli_support" {
            cmd.args(["--features", "build-binary"]);
        }
        // Trunk's release profile asks for fat LTO in one codegen unit: minutes of single-threaded work at the end
        // of its install for a tool that mostly starts other programs. Cargo's release defaults are enough here.
        cmd.env("CARGO_PROFILE_RELEASE_LTO", "false").env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "16");
        // Each install in its own temporary folder (cargo install's default), never a shared target dir, where the
        // two installs would wait for each other's lock.
        cmd.env_remove("CARGO_TARGET_DIR").env_remove("CARGO_BUILD_TARGET_DIR");
        let shown = procs::describe(&cmd);
        eprintln!(
            "xtask: installing {crate_name} {version} in the background (have: {:?}; log: {}): $ {shown}",
            have.trim(),
            log.display()
        );
        let started = Instant::now();
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(file)
            .stderr(err)
            .spawn()
            .map_err(|e| format!("could not start `{shown}`: {e}"))?;
        let waiter = std::thread::spawn(move || {
            let status = child.wait();
            (status, started.elapsed())
        });
        self.running.push(Install { crate_name: crate_name.to_owned(), waiter, log });
        Ok(())
    }

    /// Whether any tool had to be installed in this run.
    pub(crate) fn installed_any(&self) -> bool {
        !self.running.is_empty() || !self.done.is_empty()
    }

    pub(crate) fn is_running(&self, crate_name: &str) -> bool {
        self.running.iter().any(|t| t.crate_name == crate_name)
    }

    /// Waits for the install of `crate_name`, if one is running.
    pub(crate) fn wait_for(&mut self, crate_name: &str) -> Result<()> {
        let Some(i) = self.running.iter().position(|t| t.crate_name == crate_name) else {
            return Ok(());
        };
        let install = self.running.remove(i);
        if !install.waiter.is_finished() {
            eprintln!("xtask: waiting for the install of {crate_name} (log: {})", install.log.display());
        }
        let (status, took) =
            install.waiter.join().map_err(|_| format!("waiting for the install of {crate_name} panicked"))?;
        let status = status.map_err(|e| format!("waiting for the install of {crate_name}: {e}"))?;
        self.done.push((format!("install {crate_name} (background)"), took));
        if status.success() {
            eprintln!("xtask: installed {crate_name} in {}", crate::steps::minutes(took));
            return Ok(());
        }
        let text = std::fs::read_to_string(&install.log).unwrap_or_default();
        let tail: Vec<&str> = text.lines().rev().take(40).collect::<Vec<_>>().into_iter().rev().collect();
        let log = install.log.display();
        Err(format!("installing {crate_name} failed ({status}); the end of {log}:\n{}", tail.join("\n")))
    }

    pub(crate) fn wait_all(&mut self) -> Result<()> {
        while let Some(name) = self.running.first().map(|t| t.crate_name.clone()) {
            self.wait_for(&name)?;
        }
        Ok(())
    }

    /// How long each finished install took, for the closing report.
    pub(crate) fn times(&self) -> &[(String, Duration)] {
        &self.done
    }
}

impl Drop for Installs {
    fn drop(&mut self) {
        for install in self.running.drain(..) {
            if !install.waiter.is_finished() {
                let name = &install.crate_name;
                eprintln!("xtask: letting the install of {name} finish so that no later run compiles it again");
            }
            let _ = install.waiter.join();
        }
    }
}

fn cargo_home() -> Option<PathBuf> {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
}

/// For a tool without `--version` (wasm-split-cli): `cargo install`'s own record names this crate at this version,
/// and the binary is there.
fn cargo_installed(bin: &str, crate_name: &str, version: &str) -> bool {
    let Some(home) = cargo_home() else { return false };
    let record = std::fs::read_to_string(home.join(".crates.toml")).unwrap_or_default();
    record.lines().any(|l| l.starts_with(&format!("\"{crate_name} {version} ("))) && home.join("bin").join(bin).is_file()
}

pub(crate) fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

/// PATH with the project-local tools (binaryen's wasm-opt) and cargo's bin dir first.
/// First of all, the `wasm-bindgen` that splits the app's module before binding it (xtask/src/split.rs).
pub(crate) fn path_env() -> std::ffi::OsString {
    let mut dirs = Vec::new();
    match crate::split::wrapper_dir() {
        Ok(dir) => dirs.push(dir),
        Err(e) => eprintln!("xtask: warning: the app will not be split: {e}"),
    }
    dirs.push(tools_dir().join("binaryen/node_modules/.bin"));
    if let Some(home) = cargo_home() {
        dirs.push(home.join("bin"));
    }
    if let Some(p) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&p));
    }
    std::env::join_paths(dirs).unwrap_or_default()
}

/// The wasm builds take `--cfg erase_components` from .cargo/config.toml; Cargo ignores that list when one of these
/// variables is set, and the app would build with Leptos's nested view types (a larger bundle, not what ships).
const RUSTFLAGS_OVERRIDES: &[&str] = &["RUSTFLAGS", "CARGO_ENCODED_RUSTFLAGS", "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS"];

fn warn_if_rustflags_override() {
    for var in RUSTFLAGS_OVERRIDES {
        if std::env::var_os(var).is_some() {
            eprintln!(
                "xtask: warning: {var} is set and replaces .cargo/config.toml's wasm rustflags; include \
                 `--cfg erase_components` in it or the app builds unlike the one that ships"
            );
        }
    }
}

/// The `rustflags` of one `[target.<triple>]` table of a Cargo config, as written on one line (the test that keeps
/// `erase_components` in the wasm table reads it).
#[cfg(test)]
fn config_rustflags(config: &str, triple: &str) -> Option<String> {
    let header = format!("[target.{triple}]");
    config
        .lines()
        .map(str::trim)
        .skip_while(|l| *l != header)
        .skip(1)
        .take_while(|l| !l.starts_with('['))
        .find_map(|l| l.strip_prefix("rustflags").map(|v| v.trim_start().trim_start_matches('=').trim().to_owned()))
}

fn ensure_wasm_target() -> Result<()> {
    let installed = output(Command::new("rustup").args(["target", "list", "--installed"])).unwrap_or_default();
    if installed.lines().any(|l| l.trim() == "wasm32-unknown-unknown") {
        return Ok(());
    }
    procs::run(Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]))
}

/// The wasm-bindgen version in Cargo.lock; the CLI must match it exactly.
pub(crate) fn wasm_bindgen_version() -> Result<String> {
    let lock = std::fs::read_to_string(root().join("Cargo.lock")).map_err(|e| format!("reading Cargo.lock: {e}"))?;
    lock_version(&lock, "wasm-bindgen").ok_or_else(|| "wasm-bindgen is not in Cargo.lock".into())
}

fn lock_version(lock: &str, name: &str) -> Option<String> {
    let needle = format!("name = \"{name}\"\n");
    let at = lock.find(&needle)? + needle.len();
    let line = lock[at..].lines().next()?;
    Some(line.strip_prefix("version = \"")?.strip_suffix('"')?.to_owned())
}

fn ensure_binaryen() -> Result<()> {
    let dir = tools_dir().join("binaryen");
    let bin = dir.join("node_modules/.bin/wasm-opt");
    let have = output(Command::new(&bin).arg("--version")).unwrap_or_default();
    let major = BINARYEN_VERSION.split('.').next().unwrap_or_default();
    if have.contains(&format!("version {major}")) {
        return Ok(());
    }
    std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    procs::run(
        Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--no-save", "--prefix"])
            .arg(&dir)
            .arg(format!("binaryen@{BINARYEN_VERSION}")),
    )
}

fn ensure_apt(pairs: &[(&str, &str)]) -> Result<()> {
    let missing: Vec<&str> = pairs.iter().filter(|(bin, _)| !on_path(bin)).map(|(_, pkg)| *pkg).collect();
    if missing.is_empty() {
        return Ok(());
    }
    let sudo = output(Command::new("id").arg("-u")).is_some_and(|u| u.trim() != "0");
    let apt = |args: &[&str]| {
        let mut c = if sudo { Command::new("sudo") } else { Command::new("apt-get") };
        if sudo {
            c.arg("apt-get");
        }
        c.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        c
    };
    procs::run(&mut apt(&["update", "-q"]))?;
    let mut install = apt(&["install", "-y", "-q", "--no-install-recommends"]);
    install.args(&missing);
    procs::run(&mut install)
}

/// A PyPI package whose command `bin` must be on PATH.
fn ensure_pip(bin: &str, requirement: &str) -> Result<()> {
    if on_path(bin) && output(Command::new(bin).arg("--help")).is_some() {
        return Ok(());
    }
    procs::run(Command::new("python3").args(["-m", "pip", "install", "--quiet", requirement]))?;
    // Under pyenv a new console script is reachable only through a shim, made by a rehash.
    if on_path("pyenv") {
        procs::run(Command::new("pyenv").arg("rehash"))?;
    }
    Ok(())
}

/// The spotipy release tests/spotipy/flow.py is written against; pinned so a new release cannot change the step.
const SPOTIPY_VERSION: &str = "2.26.0";

/// A PyPI package that is imported, not run (it has no command to look for): installed at exactly `version`
/// unless that version is already there.
fn ensure_pip_module(package: &str, version: &str) -> Result<()> {
    let installed = output(Command::new("python3").args(["-m", "pip", "show", package]));
    if installed.is_some_and(|shown| shown.lines().any(|line| line.trim() == format!("Version: {version}"))) {
        return Ok(());
    }
    procs::run(Command::new("python3").args(["-m", "pip", "install", "--quiet", &format!("{package}=={version}")]))
}

fn ensure_playwright() -> Result<()> {
    let e2e = root().join("tests/e2e");
    let marker = e2e.join("node_modules/@playwright/test/package.json");
    let lock = e2e.join("package-lock.json");
    let fresh = match (marker.metadata().and_then(|m| m.modified()), lock.metadata().and_then(|m| m.modified())) {
        (Ok(installed), Ok(locked)) => installed >= locked,
        _ => false,
    };
    if fresh {
        return Ok(());
    }
    // Playwright drives Debian's /usr/bin/chromium; it must never fetch its own browser.
    procs::run(
        Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&e2e)
            .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_version_reads_the_entry_for_that_exact_name() {
        let lock = "[[package]]\nname = \"wasm-bindgen-test\"\nversion = \"0.3.1\"\n\n[[package]]\nname = \"wasm-bindgen\"\nversion = \"0.2.130\"\n";
        assert_eq!(lock_version(lock, "wasm-bindgen").as_deref(), Some("0.2.130"));
        assert_eq!(lock_version(lock, "nope"), None);
    }

    /// The release bundle (and every other wasm build) is compiled with Leptos's type-erased views (issue 15), and
    /// linked keeping the relocations the split needs.
    #[test]
    fn wasm_builds_keep_erase_components() {
        let config = std::fs::read_to_string(root().join(".cargo/config.toml")).unwrap();
        let flags = config_rustflags(&config, "wasm32-unknown-unknown");
        assert_eq!(
            flags.as_deref(),
            Some(r#"["--cfg", "erase_components", "-Clink-args=--emit-relocs"]"#),
            "the wasm builds need erase_components (the shipped views) and the relocations wasm-split reads \
             (xtask/src/split.rs):\n{config}"
        );
        // Native builds (the services, xtask) keep their own flags: none.
        assert_eq!(config_rustflags(&config, "x86_64-unknown-linux-gnu"), None);
        assert!(!config.lines().any(|l| l.trim() == "[build]"), "a [build] rustflags would reach native builds too");
    }

    #[test]
    fn config_rustflags_reads_only_its_table() {
        let config = "[alias]\nrustflags = \"no\"\n\n[target.a]\nrunner = \"r\"\nrustflags = [\"x\"]\n[target.b]\nrunner = \"r\"\n";
        assert_eq!(config_rustflags(config, "a").as_deref(), Some(r#"["x"]"#));
        assert_eq!(config_rustflags(config, "b"), None);
        assert_eq!(config_rustflags(config, "c"), None);
    }

    /// Trunk uses a local wasm-bindgen only if Trunk.toml names the exact version in Cargo.lock.
    #[test]
    fn trunk_toml_pins_the_locked_wasm_bindgen() {
        let trunk = std::fs::read_to_string(root().join("Trunk.toml")).unwrap();
        let pinned = format!("wasm_bindgen = \"{}\"", wasm_bindgen_version().unwrap());
        assert!(trunk.contains(&pinned), "Trunk.toml must contain {pinned}");
    }
}
