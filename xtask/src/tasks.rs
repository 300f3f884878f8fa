//! The tasks themselves: what to build, what to start, in which order.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::procs::{self, Service};
use crate::steps::Steps;
use crate::tools::{self, cargo, path_env, root, Installs, Needs};
use crate::Result;

const RUN_APP_PORT: u16 = 8080;
const RUN_STAND_IN_PORT: u16 = 8090;
const RUN_SINK_PORT: u16 = 8091;
const CLIENT_ID: &str = "setlist-dev";
const SCOPES: &[&str] = &[
    "user-read-private",
    "user-read-email",
    "playlist-read-private",
    "playlist-read-collaborative",
    "playlist-modify-private",
    "playlist-modify-public",
];

/// Where each part listens for one run of the whole system.
pub(crate) struct Ports {
    pub(crate) app: u16,
    pub(crate) stand_in: u16,
    pub(crate) sink: u16,
}

impl Ports {
    pub(crate) fn app_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.app)
    }
    pub(crate) fn stand_in_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.stand_in)
    }
    fn redirect_uri(&self) -> String {
        format!("{}/callback", self.app_url())
    }
}

/// The runtime config.json that points the app at the stand-in (DESIGN.md, Configuration).
/// `stored` are the Spotify user ids whose tokens this site stores (the sink's allow-list); config.json lists them
/// as SHA-256 hex (core's `stored_account_hash`), so the app pushes only theirs.
pub(crate) fn write_config(name: &str, ports: &Ports, stored: &[&str]) -> Result<PathBuf> {
    let dir = root().join(".setlist").join(name);
    std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    let scopes: Vec<String> = SCOPES.iter().map(|s| format!("\"{s}\"")).collect();
    let stored: Vec<String> = stored.iter().map(|user| format!("\"{}\"", stored_account_hash(user))).collect();
    let json = format!(
        "{{\n  \"client_id\": \"{CLIENT_ID}\",\n  \"redirect_uri\": \"{}\",\n  \"accounts_base\": \"{}\",\n  \"api_base\": \"{}/v1\",\n  \"push_url\": \"/api/tokens\",\n  \"scopes\": [{}],\n  \"stored_accounts\": [{}]\n}}\n",
        ports.redirect_uri(),
        ports.stand_in_url(),
        ports.stand_in_url(),
        scopes.join(", "),
        stored.join(", ")
    );
    let path = dir.join("config.json");
    std::fs::write(&path, json).map_err(|e| format!("writing {}: {e}", path.display()))?;
    Ok(path)
}

/// Lowercase hex SHA-256 of a Spotify user id: how config.json names a stored account (core's
/// `stored_account_hash`; xtask keeps few dependencies, so it hashes with sha2 itself).
pub(crate) fn stored_account_hash(user: &str) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(user.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// The stand-in's seeded users, all stored by the one-command run's sink.
pub(crate) const SEEDED_USERS: &[&str] = &["alice.setlist", "bruno.setlist", "chen.setlist"];
/// The e2e run stores alice and bruno; chen is a visitor whose tokens must never leave the browser.
pub(crate) const E2E_STORED_USERS: &[&str] = &["alice.setlist", "bruno.setlist"];

/// The native suite's build: the test binaries of everything but the web app, and with them the services' binaries,
/// which Cargo builds into target/debug for the integration tests. Running, conformance and e2e take the services
/// from this very build: a `cargo build -p ... --bin ...` resolves features without the dev-dependencies'
/// (resolver 2) and so compiled tokio, hyper and the AWS SDK a second time (issue 17). Any change to the package
/// selection changes features deep in the graph (leaving xtask out changes libc's, and with it the AWS SDK's), so
/// this is the one selection every native step uses.
const NATIVE_TESTS: &[&str] = &["test", "--workspace", "--exclude", "setlist"];
const WASM_TESTS: &[&str] = &["test", "--package", "setlist", "--target", "wasm32-unknown-unknown"];
/// The release app exactly as `trunk serve --release` builds it (Trunk 0.21's cargo arguments, with index.html's
/// `data-bin`, and `--manifest-path`): built here first, so that its time and compiles are counted and Trunk finds
/// it fresh.
const APP_RELEASE: &[&str] = &["build", "--target=wasm32-unknown-unknown", "--release", "--bin", "setlist"];

/// The native services for running and testing: (stand-in, sink), from the native suite's build ([`NATIVE_TESTS`]);
/// a no-op when that build is done.
pub(crate) fn build_services(steps: &mut Steps) -> Result<(PathBuf, PathBuf)> {
    native_build(steps, "build services (the native suite's build)")?;
    let dir = target_dir().join("debug");
    let bins = (dir.join("setlist-stand-in"), dir.join("sink-local"));
    for bin in [&bins.0, &bins.1] {
        if !bin.is_file() {
            return Err(format!(
                "{} is missing after the native suite's build: Cargo builds a package's binaries only when it has \
                 integration tests (tests/)",
                bin.display()
            ));
        }
    }
    Ok(bins)
}

fn native_build(steps: &mut Steps, name: &str) -> Result<()> {
    steps.cargo(name, Command::new(cargo()).args(NATIVE_TESTS).arg("--no-run").current_dir(root()), &target_dir())
}

/// The services in the `native` profile (optimised for speed, Cargo.toml), for benchmarks.
pub(crate) fn build_optimised_services() -> Result<(PathBuf, PathBuf)> {
    procs::run(
        Command::new(cargo())
            .args(["build", "--package", "setlist-stand-in", "--package", "setlist-sink", "--bin", "setlist-stand-in"])
            .args(["--bin", "sink-local", "--profile", "native"])
            .current_dir(root()),
    )?;
    Ok((target_dir().join("native/setlist-stand-in"), target_dir().join("native/sink-local")))
}

/// The token sink with its file store (DESIGN.md, Token push), checking users against the stand-in.
/// `store` is a directory: one file per Spotify user. `extra` are more `sink-local` flags.
pub(crate) fn start_sink(bin: &Path, ports: &Ports, store: &Path, extra: &[&str]) -> Result<Service> {
    let mut cmd = Command::new(bin);
    cmd.args(["--port", &ports.sink.to_string()])
        .args(["--api-base", &format!("{}/v1", ports.stand_in_url())])
        .arg("--store")
        .arg(format!("file:{}", store.display()))
        .args(extra);
    let mut svc = Service::start("sink", &mut cmd)?;
    wait_port(&mut svc, ports.sink, Duration::from_secs(30))?;
    Ok(svc)
}

pub(crate) fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root().join("target"))
}

pub(crate) fn start_stand_in(bin: &Path, ports: &Ports, control: bool) -> Result<Service> {
    let mut cmd = Command::new(bin);
    cmd.args(["--port", &ports.stand_in.to_string(), "--client-id", CLIENT_ID])
        .args(["--redirect-uri", &ports.redirect_uri()]);
    if control {
        cmd.arg("--control");
    }
    let mut svc = Service::start("stand-in", &mut cmd)?;
    wait_port(&mut svc, ports.stand_in, Duration::from_secs(30))?;
    Ok(svc)
}

pub(crate) fn start_trunk(ports: &Ports, config: &Path, release: bool, dist: &Path) -> Result<Service> {
    let mut cmd = Command::new("trunk");
    cmd.arg("serve")
        .args(["--address", "127.0.0.1", "--port", &ports.app.to_string()])
        .arg("--dist")
        .arg(dist)
        .current_dir(root())
        .env("PATH", path_env())
        .env("SETLIST_CONFIG", config)
        // The production security headers (CSP included), with the stand-in's origin allowed (xtask/src/dist.rs).
        .arg("--config")
        .arg(crate::dist::local_trunk_config(
            &format!("trunk-{}", ports.app),
            &ports.stand_in_url(),
            &format!("{}/v1", ports.stand_in_url()),
        )?)
        // Same-origin push: /api/* goes to the sink, as CloudFront routes it in production.
        .args(["--proxy-backend", &format!("http://127.0.0.1:{}/api/", ports.sink), "--proxy-rewrite", "/api/"]);
    if release {
        // Tests serve one fixed build: edits made while they run must not trigger a rebuild mid-test.
        // (Absolute: Trunk resolves paths against the generated config's folder.)
        cmd.args(["--release", "--no-autoreload", "--watch"]).arg(root().join("index.html"));
    }
    let mut svc = Service::start("trunk", &mut cmd)?;
    // Trunk answers only once the first build is in dist; a release build takes a few minutes from cold.
    svc.wait_ready(&format!("{}/", ports.app_url()), "_bg.wasm", Duration::from_secs(1200))?;
    Ok(svc)
}

fn wait_port(svc: &mut Service, port: u16, timeout: Duration) -> Result<()> {
    let start = Instant::now();
    while !procs::port_in_use(port) {
        svc.check_alive()?;
        if start.elapsed() > timeout {
            return Err(format!("nothing listens on port {port} after {}s", timeout.as_secs()));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(())
}

pub(crate) fn run(args: &[String]) -> Result<()> {
    if let Some(a) = args.first() {
        return Err(format!("`run` takes no arguments (got {a})"));
    }
    tools::ensure_quick(Needs { wasm: true, ..Needs::default() })?;
    let ports = Ports {
        app: env_port("SETLIST_PORT", RUN_APP_PORT)?,
        stand_in: env_port("SETLIST_STAND_IN_PORT", RUN_STAND_IN_PORT)?,
        sink: env_port("SETLIST_SINK_PORT", RUN_SINK_PORT)?,
    };
    for (what, port) in [("app", ports.app), ("stand-in", ports.stand_in), ("sink", ports.sink)] {
        if procs::port_in_use(port) {
            return Err(format!("port {port} for the {what} is taken; stop what uses it or set SETLIST_PORT / SETLIST_STAND_IN_PORT / SETLIST_SINK_PORT"));
        }
    }
    let stop = stop_flag()?;
    // Trunk and wasm-bindgen-cli compile (when missing) while the services build.
    let mut installs = tools::start_cargo_tools(true)?;
    let (stand_in, sink) = build_services(&mut Steps::new())?;
    installs.wait_all()?;
    let config = write_config("run", &ports, SEEDED_USERS)?;
    let _stand_in = start_stand_in(&stand_in, &ports, false)?;
    let store = root().join(".setlist/run/tokens");
    let _sink = start_sink(&sink, &ports, &store, &[])?;
    let _trunk = start_trunk(&ports, &config, false, &root().join("dist"))?;
    println!();
    println!("Setlist is running: {}", ports.app_url());
    println!("  Spotify stand-in: {} (sign in as any seeded user on its consent page)", ports.stand_in_url());
    println!("  Token sink: http://127.0.0.1:{} (the app pushes to /api/tokens; stored in {})", ports.sink, store.display());
    println!("  Press Ctrl-C to stop.");
    while !stop.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(200));
    }
    eprintln!("xtask: stopping");
    Ok(())
}

fn env_port(var: &str, default: u16) -> Result<u16> {
    match std::env::var(var) {
        Ok(v) => v.parse().map_err(|_| format!("{var}={v} is not a port number")),
        Err(_) => Ok(default),
    }
}

/// Ctrl-C (and SIGTERM) set a flag; the services are dropped, and so stopped, when the task returns.
fn stop_flag() -> Result<Arc<AtomicBool>> {
    let flag = Arc::new(AtomicBool::new(false));
    let f = flag.clone();
    ctrlc::set_handler(move || f.store(true, Ordering::SeqCst)).map_err(|e| format!("installing Ctrl-C handler: {e}"))?;
    Ok(flag)
}

/// In this order when all run: conformance needs no tool that compiles, so it runs while Trunk may still be
/// installing.
const ALL_SUITES: &[&str] = &["native", "conformance", "wasm", "e2e"];

pub(crate) fn test(args: &[String]) -> Result<()> {
    // `cargo xtask test e2e -- <playwright args>` passes the rest to Playwright (e.g. a spec file to run alone).
    let (args, extra) = match args.iter().position(|a| a == "--") {
        Some(i) => (&args[..i], &args[i + 1..]),
        None => (args, &[][..]),
    };
    let suites: Vec<&str> = if args.is_empty() { ALL_SUITES.to_vec() } else { args.iter().map(String::as_str).collect() };
    if let Some(bad) = suites.iter().find(|s| !ALL_SUITES.contains(s)) {
        return Err(format!("unknown suite {bad}; choose from {}", ALL_SUITES.join(", ")));
    }
    let mut steps = Steps::new();
    let e2e = suites.contains(&"e2e");
    let wasm = e2e || suites.contains(&"wasm");
    let needs = Needs {
        wasm,
        browser: suites.iter().any(|s| *s != "native"),
        playwright: e2e,
        python: suites.iter().any(|s| *s == "native" || *s == "conformance"),
        spotipy: suites.contains(&"conformance"),
    };
    steps.time("install what is missing (rustup, binaryen, apt, npm, pip; cargo fetch)", || tools::ensure_quick(needs))?;
    let _stop = stop_flag()?;
    let mut installs = if wasm { tools::start_cargo_tools(e2e)? } else { Installs::none() };
    let result = run_suites(&suites, extra, &mut steps, &mut installs);
    for (name, took) in installs.times() {
        steps.record(name, *took);
    }
    println!("{}", steps.summary(installs.installed_any()));
    result?;
    println!("xtask: all tests passed ({})", suites.join(", "));
    Ok(())
}

fn run_suites(suites: &[&str], extra: &[String], steps: &mut Steps, installs: &mut Installs) -> Result<()> {
    for suite in suites {
        match *suite {
            "native" => test_native(steps)?,
            "wasm" => test_wasm(steps, installs)?,
            "conformance" => test_conformance(steps)?,
            "e2e" => test_e2e(steps, installs, extra)?,
            _ => unreachable!("checked above"),
        }
    }
    Ok(())
}

/// Waits for the background install of `crate_name` if it is still running, and records how long the run waited.
fn wait_for_tool(steps: &mut Steps, installs: &mut Installs, crate_name: &str) -> Result<()> {
    if installs.is_running(crate_name) {
        steps.time(&format!("wait for the {crate_name} install"), || installs.wait_for(crate_name))?;
    }
    Ok(())
}

fn test_native(steps: &mut Steps) -> Result<()> {
    // The web app is tested in the browser (wasm suite); natively, everything else.
    native_build(steps, "build native")?;
    steps.cargo("run native", Command::new(cargo()).args(NATIVE_TESTS).current_dir(root()), &target_dir())?;
    steps.time("run cfn-lint", crate::dist::cfn_lint)
}

fn test_wasm(steps: &mut Steps, installs: &mut Installs) -> Result<()> {
    let wasm_tests = || {
        let mut cmd = Command::new(cargo());
        cmd.args(WASM_TESTS)
            .current_dir(root())
            .env("PATH", path_env())
            .env("CHROMEDRIVER", "/usr/bin/chromedriver");
        cmd
    };
    steps.cargo("build wasm", wasm_tests().arg("--no-run"), &target_dir())?;
    // The runner, wasm-bindgen-test-runner, comes with wasm-bindgen-cli.
    wait_for_tool(steps, installs, "wasm-bindgen-cli")?;
    steps.cargo("run wasm", &mut wasm_tests(), &target_dir())
}

fn test_e2e(steps: &mut Steps, installs: &mut Installs, extra: &[String]) -> Result<()> {
    let ports = Ports { app: procs::free_port()?, stand_in: procs::free_port()?, sink: procs::free_port()? };
    let (stand_in, sink) = build_services(steps)?;
    let manifest = root().join("Cargo.toml");
    let mut app = Command::new(cargo());
    // Trunk's PATH too: a build script that watches an environment variable would otherwise see two builds.
    app.args(APP_RELEASE).arg("--manifest-path").arg(&manifest).current_dir(root()).env("PATH", path_env());
    steps.cargo("build app (release, wasm)", &mut app, &target_dir())?;
    wait_for_tool(steps, installs, "wasm-bindgen-cli")?;
    wait_for_tool(steps, installs, "wasm_split_cli_support")?;
    wait_for_tool(steps, installs, "trunk")?;
    // One config per run: concurrent runs must not pick up each other's ports.
    let config = write_config(&format!("e2e-{}", ports.app), &ports, E2E_STORED_USERS)?;
    let _stand_in = start_stand_in(&stand_in, &ports, true)?;
    let store = root().join(".setlist/e2e/tokens");
    let _ = std::fs::remove_dir_all(&store);
    // The specs sign the same users in dozens of times within minutes; the budget itself is tested natively.
    let mut flags = vec!["--sign-ins-per-hour", "100000"];
    for user in E2E_STORED_USERS {
        flags.extend(["--allow", user]);
    }
    let _sink = start_sink(&sink, &ports, &store, &flags)?;
    // The release build, wasm-opt included: only a real browser on the optimised output catches a broken optimiser.
    let dist = target_dir().join("e2e-dist");
    let _trunk = steps.time("serve app (Trunk: wasm-bindgen, wasm-opt)", || start_trunk(&ports, &config, true, &dist))?;
    steps.time("run e2e", || {
        procs::run(
            Command::new("npx")
                .args(["playwright", "test"])
                .args(extra)
                .current_dir(root().join("tests/e2e"))
                .env("SETLIST_APP_URL", ports.app_url())
                .env("SETLIST_STAND_IN_URL", ports.stand_in_url())
                .env("SETLIST_SINK_STORE", &store)
                .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1"),
        )
    })
}

/// Schemathesis against a fresh stand-in: every implemented operation's responses must match the reference spec.
fn test_conformance(steps: &mut Steps) -> Result<()> {
    let ports = Ports { app: procs::free_port()?, stand_in: procs::free_port()?, sink: 0 };
    let (stand_in, _) = build_services(steps)?;
    let _stand_in = start_stand_in(&stand_in, &ports, true)?;
    steps.time("run conformance", || {
        procs::run(
            Command::new("bash")
                .arg(root().join("crates/stand-in/conformance/run.sh"))
                .arg(ports.stand_in_url())
                .current_dir(root()),
        )
    })?;
    // A client the stand-in was not written for (issue 14), on the same stand-in: it signs in as chen.setlist and
    // edits a playlist of its own, so schemathesis's edits to alice's playlists do not matter.
    steps.time("run spotipy flow", || {
        procs::run(
            Command::new("python3")
                .arg(root().join("tests/spotipy/flow.py"))
                .args([ports.stand_in_url(), CLIENT_ID.to_owned(), ports.redirect_uri()])
                .current_dir(root()),
        )
    })
}
