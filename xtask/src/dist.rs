//! `cargo xtask dist`: the deployable artefacts, and the security headers shared by production and local runs.
//!
//! - `dist/site/`: Trunk's release build (hashed asset names), no inline script (see [`externalize_scripts`]), a
//!   `config.json` template whose `stored_accounts` are the hashes of the stack's allow-list ([`render_config`]),
//!   and `dist/site.upload.txt` telling which Cache-Control each file gets on upload.
//! - `dist/sink-lambda.zip` and `dist/job-lambda.zip`: the sink's and the scheduled job's Lambda binaries, each as
//!   `bootstrap` for the `provided.al2023` runtime ([`LAMBDAS`]).
//!
//! The Content-Security-Policy is written once, here ([`csp`]): the CloudFormation template (deploy/setlist.json)
//! must carry exactly the production one (a test checks it), and `cargo xtask run|test` serve a local variant
//! that differs only by the stand-in's origin (through a generated Trunk config, [`local_trunk_config`]).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::procs::{self, on_path, output};
use crate::tools::{self, cargo, path_env, root, Needs};
use crate::Result;

/// Spotify's production services (DESIGN.md, Configuration).
pub(crate) const SPOTIFY_ACCOUNTS: &str = "https://accounts.spotify.com";
pub(crate) const SPOTIFY_API: &str = "https://api.spotify.com/v1";
/// Where Spotify serves cover art and avatars.
pub(crate) const SPOTIFY_IMAGE_HOSTS: &[&str] = &[
    "https://i.scdn.co",
    "https://mosaic.scdn.co",
    "https://image-cdn-ak.spotifycdn.com",
    "https://image-cdn-fa.spotifycdn.com",
];
/// The CloudFormation template.
pub(crate) const TEMPLATE: &str = "deploy/setlist.json";
const CFN_LINT: &str = "cfn-lint==1.51.0";

/// The stack's allow-list parameter: the sink's `SINK_ALLOW`, and the source of config.json's `stored_accounts`.
pub(crate) const ALLOW_LIST_PARAMETER: &str = "AllowedSpotifyUsers";
/// The stack output that echoes [`ALLOW_LIST_PARAMETER`] as deployed (`cargo xtask dist --stack` reads it).
pub(crate) const ALLOW_LIST_OUTPUT: &str = "StoredSpotifyUsers";

const USAGE: &str = "usage: cargo xtask dist [--site-only | --lambda-only] (--stored-accounts ID,ID,... | --stack NAME) [--config FILE]
  writes dist/site/ (release build + config.json + dist/site.upload.txt), dist/sink-lambda.zip and dist/job-lambda.zip
  config.json is FILE (default config.example.json) with stored_accounts = SHA-256 of each Spotify user id of the
  stack's AllowedSpotifyUsers, given as
    --stored-accounts ID,ID,...   the exact value of AllowedSpotifyUsers (the stack's StoredSpotifyUsers output)
    --stack NAME                  read from deployed stack NAME's StoredSpotifyUsers output (aws CLI)
       cargo xtask dist externalize-scripts DIR   (Trunk hook) move inline <script>s of DIR/index.html to files
       cargo xtask dist place-split DIR PROFILE   (Trunk hook) put the app's lazily loaded chunks into DIR
       cargo xtask dist headers [ACCOUNTS_BASE API_BASE]   print the security headers (production by default)";

pub(crate) fn main(args: &[String]) -> Result<()> {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["externalize-scripts", dir] => externalize_dir(Path::new(dir)),
        ["place-split", dir, profile] => crate::split::place(Path::new(dir), profile),
        ["headers"] => {
            print_headers(&security_headers(SPOTIFY_ACCOUNTS, SPOTIFY_API, &[]));
            Ok(())
        }
        ["headers", accounts, api] => {
            print_headers(&security_headers(accounts, api, &[origin(accounts)]));
            Ok(())
        }
        ["-h" | "--help"] => {
            println!("{USAGE}");
            Ok(())
        }
        _ => {
            let options = parse_options(&args).map_err(|e| format!("{e}\n{USAGE}"))?;
            dist(&options)
        }
    }
}

/// Where config.json's `stored_accounts` come from: always the stack's allow-list, never a list of its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AllowList {
    /// The value of `AllowedSpotifyUsers`, as given on the command line.
    Given(String),
    /// Read from a deployed stack's [`ALLOW_LIST_OUTPUT`].
    Stack(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Options {
    pub(crate) site: bool,
    pub(crate) lambda: bool,
    pub(crate) allow_list: Option<AllowList>,
    /// config.json's other fields: this file (the operator's filled-in copy), else config.example.json.
    pub(crate) config: Option<PathBuf>,
}

pub(crate) fn parse_options(args: &[&str]) -> Result<Options> {
    let (mut site, mut lambda, mut allow_list, mut config) = (true, true, None, None);
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        // `--flag value` or `--flag=value`.
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v)),
            _ => (*arg, None),
        };
        let mut value = |name: &str| -> Result<String> {
            inline.or_else(|| it.next().copied()).map(str::to_owned).ok_or(format!("{name} needs a value"))
        };
        match flag {
            "--site-only" if inline.is_none() => lambda = false,
            "--lambda-only" if inline.is_none() => site = false,
            "--stored-accounts" | "--stack" if allow_list.is_some() => {
                return Err("give the allow-list once: --stored-accounts or --stack".into())
            }
            "--stored-accounts" => allow_list = Some(AllowList::Given(value(flag)?)),
            "--stack" => allow_list = Some(AllowList::Stack(value(flag)?)),
            "--config" if config.is_none() => config = Some(PathBuf::from(value(flag)?)),
            _ => return Err(format!("unexpected argument {arg:?}")),
        }
    }
    if !site && !lambda {
        return Err("--site-only and --lambda-only exclude each other".into());
    }
    if site && allow_list.is_none() {
        return Err(format!(
            "config.json's stored_accounts come from the stack's {ALLOW_LIST_PARAMETER}: pass --stored-accounts with its \
             exact value, or --stack NAME (docs/deploy.md, section 4.1)"
        ));
    }
    if !site && (allow_list.is_some() || config.is_some()) {
        return Err("--stored-accounts, --stack and --config are for the site's config.json, not with --lambda-only".into());
    }
    Ok(Options { site, lambda, allow_list, config })
}

fn print_headers(headers: &[(&'static str, String)]) {
    for (k, v) in headers {
        println!("{k}: {v}");
    }
}

fn dist(options: &Options) -> Result<()> {
    let out = root().join("dist");
    if options.site {
        // Before the long build: a list the sink would refuse stops here.
        let list = match options.allow_list.as_ref().ok_or("no allow-list for config.json")? {
            AllowList::Given(list) => list.clone(),
            AllowList::Stack(name) => stack_allow_list(name)?,
        };
        parse_allow_list(&list)?;
        let template = options.config.clone().unwrap_or_else(|| root().join("config.example.json"));
        let config = render_config(&read(&template)?, &list).map_err(|e| format!("{}: {e}", template.display()))?;
        dist_site(&out, &config)?;
        println!("xtask: dist/site/config.json ({} with stored_accounts) stores {}", template.display(), describe_accounts(&list)?);
    }
    if options.lambda {
        dist_lambda(&out)?;
    }
    println!("xtask: dist ready in {} (upload steps: docs/deploy.md)", out.display());
    Ok(())
}

/// `dist_site` with `config` as dist/site/config.json.
fn dist_site(out: &Path, config: &str) -> Result<()> {
    tools::ensure_all(Needs { wasm: true, ..Needs::default() })?;
    let site = out.join("site");
    let _ = std::fs::remove_dir_all(&site);
    std::fs::create_dir_all(out).map_err(|e| format!("creating {}: {e}", out.display()))?;
    let template = root().join("config.example.json");
    procs::run(
        Command::new("trunk")
            .args(["build", "--release", "--filehash", "true", "--dist"])
            .arg(&site)
            .current_dir(root())
            .env("PATH", path_env())
            .env("SETLIST_CONFIG", &template),
    )?;
    write(&site.join("config.json"), config)?;
    let html = read(&site.join("index.html"))?;
    if let Some(inline) = inline_script(&html) {
        return Err(format!("dist/site/index.html still has an inline script, which the CSP blocks: {inline:.80}"));
    }
    let files = list_files(&site)?;
    let plan = upload_plan(&files);
    let mut text = String::from(
        "# Cache-Control for each file of dist/site (docs/deploy.md, Upload the site). Hashed names never change\n\
         # content, so browsers and CloudFront keep them a year; index.html and config.json must be revalidated.\n",
    );
    for (file, cache) in &plan {
        text.push_str(&format!("{file}\t{cache}\n"));
    }
    write(&out.join("site.upload.txt"), &text)?;
    println!("xtask: dist/site: {} files", files.len());
    Ok(())
}

// ---------------------------------------------------------------------------------------------------------------
// config.json's stored accounts: the stack's allow-list, hashed

/// The sink's allow-list as the sink reads `SINK_ALLOW` (crates/sink/src/bin/sink-lambda.rs): comma-separated, each
/// id trimmed, empty entries skipped, every id one [`check_user_id`] accepts. An empty list is refused, as the sink
/// refuses to start on one. Duplicates are dropped (first one kept).
pub(crate) fn parse_allow_list(list: &str) -> Result<Vec<String>> {
    let mut ids: Vec<String> = Vec::new();
    for id in list.split(',').map(str::trim).filter(|id| !id.is_empty()) {
        check_user_id(id)?;
        if !ids.iter().any(|known| known == id) {
            ids.push(id.to_owned());
        }
    }
    if ids.is_empty() {
        return Err(format!(
            "the allow-list {list:?} names no Spotify user id: the sink refuses to start on an empty {ALLOW_LIST_PARAMETER}"
        ));
    }
    Ok(ids)
}

/// The sink's rule for a Spotify user id (crates/sink/src/store/mod.rs, `check_user_id`, and the template's
/// `JobSpotifyUser` pattern): 1 to 128 characters of letters, digits and `_ + = . @ -`, not starting with `.`.
pub(crate) fn check_user_id(user: &str) -> Result<()> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '+' | '=' | '.' | '@' | '-');
    if user.is_empty() || user.len() > 128 || user.starts_with('.') || !user.chars().all(allowed) {
        return Err(format!(
            "{user:?} is not a Spotify user id the sink accepts: use 1-128 letters, digits or _+=.@- (not starting with .)"
        ));
    }
    Ok(())
}

/// config.json for production: `template` (config.example.json) with `stored_accounts` replaced by the SHA-256 hex
/// of each id of `allow_list`, the value of the stack's `AllowedSpotifyUsers` ([`parse_allow_list`]); every other
/// field as the template has it. The result is checked to be JSON whose `stored_accounts` are exactly those hashes.
pub(crate) fn render_config(template: &str, allow_list: &str) -> Result<String> {
    let hashes: Vec<String> = parse_allow_list(allow_list)?.iter().map(|id| crate::tasks::stored_account_hash(id)).collect();
    let key = "\"stored_accounts\"";
    let at = template.find(key).ok_or("no \"stored_accounts\" field to fill in (copy it from config.example.json)")?;
    let open = at + template[at..].find('[').ok_or("stored_accounts is not a list")?;
    let close = open + template[open..].find(']').ok_or("stored_accounts is not a list")?;
    let items: Vec<String> = hashes.iter().map(|h| format!("\n    \"{h}\"")).collect();
    let text = format!("{}[{}\n  ]{}", &template[..open], items.join(","), &template[close + 1..]);
    let parsed: serde_json::Value = serde_json::from_str(&text).map_err(|e| format!("config.json would not be JSON: {e}"))?;
    let listed: Vec<&str> = parsed
        .get("stored_accounts")
        .and_then(serde_json::Value::as_array)
        .map(|a| a.iter().filter_map(serde_json::Value::as_str).collect())
        .unwrap_or_default();
    if listed != hashes {
        return Err(format!("config.json's stored_accounts came out as {listed:?}, not the hashes {hashes:?}"));
    }
    Ok(text)
}

/// What the operator is told: how many accounts, and which ids (they are the operator's own; only the file
/// published on the site must not carry them).
fn describe_accounts(list: &str) -> Result<String> {
    let ids = parse_allow_list(list)?;
    Ok(format!("{} account(s), hashed: {}", ids.len(), ids.join(", ")))
}

/// The deployed stack's allow-list, from its [`ALLOW_LIST_OUTPUT`] output (`aws` CLI, the usual credentials).
fn stack_allow_list(stack: &str) -> Result<String> {
    let query = format!("Stacks[0].Outputs[?OutputKey=='{ALLOW_LIST_OUTPUT}'].OutputValue");
    let mut cmd = Command::new("aws");
    cmd.args(["cloudformation", "describe-stacks", "--stack-name", stack, "--query", &query, "--output", "text"]);
    let out = cmd.output().map_err(|e| format!("{}: {e} (is the aws CLI installed?)", procs::describe(&cmd)))?;
    if !out.status.success() {
        return Err(format!("{} failed: {}", procs::describe(&cmd), String::from_utf8_lossy(&out.stderr).trim()));
    }
    let value = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    if value.is_empty() || value == "None" {
        return Err(format!(
            "stack {stack} has no {ALLOW_LIST_OUTPUT} output: its {ALLOW_LIST_PARAMETER} is empty (or the stack predates \
             the output; update it with deploy/setlist.json)"
        ));
    }
    Ok(value)
}

/// Cache-Control for a file of the site: long for names carrying Trunk's content hash, revalidate for the rest.
pub(crate) fn cache_control(file: &str) -> &'static str {
    const IMMUTABLE: &str = "public, max-age=31536000, immutable";
    const REVALIDATE: &str = "no-cache";
    let name = file.rsplit('/').next().unwrap_or(file);
    let stem = name.split('.').next().unwrap_or(name);
    // Trunk appends `-<hash>` to the stem (setlist-1a2b3c4d5e6f7a8b_bg.wasm, main-1a2b....css); so does the loader.
    // The hash is a u64 in hex without leading zeros: 16 digits, sometimes fewer (setlist-ee7bce3a69edf30.js).
    let hashed = stem.split(['-', '_']).any(is_trunk_hash);
    if hashed && name != "index.html" && name != "config.json" {
        IMMUTABLE
    } else {
        REVALIDATE
    }
}

/// A u64 as Trunk prints it in a file name: lowercase hex, no leading zeros. 12 digits at least: one build in 16^4
/// would have fewer, and only be revalidated; a word of a file's own name is never taken for a hash.
pub(crate) fn is_trunk_hash(part: &str) -> bool {
    (12..=16).contains(&part.len()) && part.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The Cache-Control of each file of `dir` (a built site), as `dist/site.upload.txt` gives it; the bench's server
/// serves a build with these, as CloudFront does after the upload.
pub(crate) fn cache_plan(dir: &Path) -> Result<Vec<(String, &'static str)>> {
    Ok(upload_plan(&list_files(dir)?))
}

fn upload_plan(files: &[String]) -> Vec<(String, &'static str)> {
    files.iter().map(|f| (f.clone(), cache_control(f))).collect()
}

fn list_files(dir: &Path) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).map_err(|e| format!("listing {}: {e}", d.display()))? {
            let path = entry.map_err(|e| e.to_string())?.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(rel) = path.strip_prefix(dir) {
                out.push(rel.to_string_lossy().into_owned());
            }
        }
    }
    out.sort();
    Ok(out)
}

/// A Lambda function's package: built from `package`'s binary `bin`, written to `dist/<zip>` as `bootstrap`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Lambda {
    pub(crate) package: &'static str,
    pub(crate) bin: &'static str,
    pub(crate) zip: &'static str,
}

/// Every Lambda of the stack (deploy/setlist.json): the sink (`SinkCodeKey`) and the scheduled job (`JobCodeKey`).
pub(crate) const LAMBDAS: &[Lambda] = &[
    Lambda { package: "setlist-sink", bin: "sink-lambda", zip: "sink-lambda.zip" },
    Lambda { package: "setlist-job", bin: "setlist-job-lambda", zip: "job-lambda.zip" },
];

/// `cargo build --release --package P --bin B` of every [`LAMBDAS`] binary, each copied to `bootstrap` and zipped.
fn dist_lambda(out: &Path) -> Result<()> {
    for lambda in LAMBDAS {
        procs::run(
            Command::new(cargo())
                .args(["build", "--release", "--package", lambda.package, "--bin", lambda.bin])
                .current_dir(root()),
        )?;
        package_lambda(out, lambda)?;
    }
    Ok(())
}

/// `lambda.bin` from the release build as `bootstrap` in `dist/<lambda.zip>` (python3's zipfile, else `zip`).
fn package_lambda(out: &Path, lambda: &Lambda) -> Result<()> {
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root().join("target"));
    let staging = out.join("lambda").join(lambda.bin);
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging).map_err(|e| format!("creating {}: {e}", staging.display()))?;
    let bootstrap = staging.join("bootstrap");
    std::fs::copy(target.join("release").join(lambda.bin), &bootstrap).map_err(|e| format!("copying {}: {e}", lambda.bin))?;
    check_glibc(&bootstrap)?;
    let zip = out.join(lambda.zip);
    let _ = std::fs::remove_file(&zip);
    if on_path("python3") {
        procs::run(
            Command::new("python3")
                .args(["-c", "import sys, zipfile\nwith zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED) as z:\n    i = zipfile.ZipInfo('bootstrap'); i.external_attr = 0o100755 << 16; i.compress_type = zipfile.ZIP_DEFLATED\n    z.writestr(i, open(sys.argv[2], 'rb').read())"])
                .arg(&zip)
                .arg(&bootstrap),
        )?;
    } else {
        procs::run(Command::new("zip").arg("-j").arg(&zip).arg(&bootstrap))?;
    }
    println!("xtask: {} ({} as bootstrap for provided.al2023, {})", zip.display(), lambda.bin, std::env::consts::ARCH);
    Ok(())
}

/// provided.al2023 has glibc 2.34: a bootstrap linked against newer symbol versions would not start there.
const AL2023_GLIBC: (u32, u32) = (2, 34);

fn check_glibc(bin: &Path) -> Result<()> {
    let Some(symbols) = output(Command::new("objdump").arg("-T").arg(bin)) else {
        eprintln!("xtask: objdump not found; not checking the bootstrap's glibc symbol versions");
        return Ok(());
    };
    let newest = max_glibc(&symbols);
    match newest {
        Some(v) if v > AL2023_GLIBC => Err(format!(
            "the bootstrap needs GLIBC_{}.{}, newer than provided.al2023's {}.{}; build on an older glibc or for musl",
            v.0, v.1, AL2023_GLIBC.0, AL2023_GLIBC.1
        )),
        Some(v) => {
            println!("xtask: bootstrap needs at most GLIBC_{}.{} (provided.al2023 has {}.{})", v.0, v.1, AL2023_GLIBC.0, AL2023_GLIBC.1);
            Ok(())
        }
        None => Ok(()),
    }
}

/// The newest `GLIBC_x.y` symbol version in `objdump -T` output.
pub(crate) fn max_glibc(objdump: &str) -> Option<(u32, u32)> {
    objdump
        .split("GLIBC_")
        .skip(1)
        .filter_map(|rest| {
            let v: String = rest.chars().take_while(|c| c.is_ascii_digit() || *c == '.').collect();
            let mut parts = v.split('.').map(|p| p.parse::<u32>().ok());
            Some((parts.next()??, parts.next().flatten().unwrap_or(0)))
        })
        .max()
}

// ---------------------------------------------------------------------------------------------------------------
// Security headers

/// `scheme://host[:port]` of a URL.
pub(crate) fn origin(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("https", url));
    let host = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    format!("{scheme}://{host}")
}

/// The Content-Security-Policy for an app whose config points at `accounts_base` and `api_base`; `extra_img`
/// adds image origins (the stand-in serves its own cover art). No 'unsafe-inline', no 'unsafe-eval': only
/// 'wasm-unsafe-eval', which compiling the app's WebAssembly needs.
pub(crate) fn csp(accounts_base: &str, api_base: &str, extra_img: &[String]) -> String {
    let mut connect = vec!["'self'".to_owned()];
    for o in [origin(accounts_base), origin(api_base)] {
        if !connect.contains(&o) {
            connect.push(o);
        }
    }
    let mut img: Vec<String> = vec!["'self'".to_owned()];
    img.extend(SPOTIFY_IMAGE_HOSTS.iter().map(|h| (*h).to_owned()));
    for o in extra_img {
        if !img.contains(o) {
            img.push(o.clone());
        }
    }
    [
        "default-src 'none'".to_owned(),
        "script-src 'self' 'wasm-unsafe-eval'".to_owned(),
        "style-src 'self'".to_owned(),
        format!("img-src {}", img.join(" ")),
        format!("connect-src {}", connect.join(" ")),
        "font-src 'self'".to_owned(),
        "manifest-src 'self'".to_owned(),
        "object-src 'none'".to_owned(),
        "base-uri 'none'".to_owned(),
        // Sign-in leaves by navigation, not by a form; the app's own forms never submit to a server.
        "form-action 'self'".to_owned(),
        "frame-ancestors 'none'".to_owned(),
    ]
    .join("; ")
}

/// Every response header the site sends, as CloudFront's response-headers policy does in production. HSTS is
/// left out locally (plain http on loopback).
pub(crate) fn security_headers(accounts_base: &str, api_base: &str, extra_img: &[String]) -> Vec<(&'static str, String)> {
    vec![
        ("Content-Security-Policy", csp(accounts_base, api_base, extra_img)),
        ("Referrer-Policy", "no-referrer".into()),
        ("X-Content-Type-Options", "nosniff".into()),
        ("X-Frame-Options", "DENY".into()),
        ("Cross-Origin-Opener-Policy", "same-origin".into()),
        ("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=(), usb=()".into()),
    ]
}

/// A Trunk config for `trunk serve` that serves the production headers with the local origins: the project's
/// Trunk.toml with absolute paths (Trunk resolves paths against the config file's folder) plus `[serve.headers]`.
pub(crate) fn local_trunk_config(name: &str, accounts_base: &str, api_base: &str) -> Result<PathBuf> {
    let base = read(&root().join("Trunk.toml"))?;
    let stand_in_images = vec![origin(accounts_base), origin(api_base)];
    let headers = security_headers(accounts_base, api_base, &stand_in_images);
    let text = generated_trunk_toml(&base, &root(), &headers)?;
    let dir = root().join(".setlist").join(name);
    std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    let path = dir.join("Trunk.toml");
    write(&path, &text)?;
    Ok(path)
}

fn generated_trunk_toml(base: &str, root: &Path, headers: &[(&'static str, String)]) -> Result<String> {
    if base.contains("[serve.headers]") {
        return Err("Trunk.toml already has [serve.headers]; xtask writes them (xtask/src/dist.rs)".into());
    }
    let abs = |rel: &str| toml_str(&root.join(rel).to_string_lossy());
    let mut out = String::from("# Generated by cargo xtask from Trunk.toml: absolute paths, plus the security headers.\n");
    for line in base.lines() {
        let t = line.trim_start();
        if let Some(v) = t.strip_prefix("target = \"").and_then(|v| v.strip_suffix('"')) {
            out.push_str(&format!("target = {}\n", abs(v)));
        } else if let Some(list) = t.strip_prefix("ignore = [").and_then(|v| v.strip_suffix(']')) {
            // Trunk refuses to start when an ignored path does not exist (it canonicalizes each one), and a fresh
            // clone has no `dist/` or `.setlist/`: keep only the paths that exist.
            let items: Vec<String> = list
                .split(',')
                .map(|s| s.trim().trim_matches('"'))
                .filter(|s| !s.is_empty() && root.join(s).exists())
                .map(abs)
                .collect();
            out.push_str(&format!("ignore = [{}]\n", items.join(", ")));
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    out.push_str("\n[serve.headers]\n");
    for (k, v) in headers {
        out.push_str(&format!("{} = {}\n", toml_str(k), toml_str(v)));
    }
    Ok(out)
}

fn toml_str(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

// ---------------------------------------------------------------------------------------------------------------
// No inline scripts: Trunk's loader moves to a file

/// The Trunk hook: rewrites `dir/index.html` so that no `<script>` has inline code; each one's code goes to a
/// content-hashed file next to it.
fn externalize_dir(dir: &Path) -> Result<()> {
    let path = dir.join("index.html");
    let html = read(&path)?;
    let public_url = std::env::var("TRUNK_PUBLIC_URL").unwrap_or_else(|_| "/".into());
    let (rewritten, files) = externalize_scripts(&html, &public_url);
    for (name, code) in &files {
        write(&dir.join(name), code)?;
    }
    write(&path, &rewritten)
}

/// Moves the code of every inline `<script>` into a file: returns the new HTML and the (file name, code) pairs.
/// Trunk's `{{__TRUNK_...}}` placeholders (autoreload, filled in by `trunk serve` only inside HTML) become the
/// page's own location.
pub(crate) fn externalize_scripts(html: &str, public_url: &str) -> (String, Vec<(String, String)>) {
    let base = if public_url.ends_with('/') { public_url.to_owned() } else { format!("{public_url}/") };
    let mut out = String::with_capacity(html.len());
    let mut files = Vec::new();
    let mut rest = html;
    while let Some(start) = find_ci(rest, "<script") {
        let Some(open_end) = rest[start..].find('>').map(|i| start + i) else { break };
        let Some(close) = find_ci(&rest[open_end..], "</script>").map(|i| open_end + i) else { break };
        let attrs = rest[start + "<script".len()..open_end].trim_end_matches('/').trim();
        let code = &rest[open_end + 1..close];
        out.push_str(&rest[..start]);
        if has_src(attrs) || code.trim().is_empty() {
            out.push_str(&rest[start..close + "</script>".len()]);
        } else {
            let module = attrs.contains("module");
            let code = code
                .replace("'{{__TRUNK_ADDRESS__}}'", "window.location.host")
                .replace("`{{__TRUNK_ADDRESS__}}`", "window.location.host")
                .replace("{{__TRUNK_WS_BASE__}}", &base);
            let name = format!("{}-{:016x}.js", if module { "boot" } else { "script" }, fnv1a(code.as_bytes()));
            let sep = if attrs.is_empty() { "" } else { " " };
            out.push_str(&format!("<script{sep}{attrs} src=\"{base}{name}\"></script>"));
            files.push((name, code.trim().to_owned() + "\n"));
        }
        rest = &rest[close + "</script>".len()..];
    }
    out.push_str(rest);
    (out, files)
}

/// The first inline script's code, if any (a check on the final index.html).
pub(crate) fn inline_script(html: &str) -> Option<String> {
    let (_, files) = externalize_scripts(html, "/");
    files.into_iter().next().map(|(_, code)| code)
}

fn has_src(attrs: &str) -> bool {
    attrs.split_whitespace().any(|a| a.to_ascii_lowercase().starts_with("src="))
}

fn find_ci(hay: &str, needle: &str) -> Option<usize> {
    hay.to_ascii_lowercase().find(needle)
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3))
}

// ---------------------------------------------------------------------------------------------------------------
// cfn-lint

/// `cfn-lint` on the CloudFormation template; installs it from PyPI when missing.
pub(crate) fn cfn_lint() -> Result<()> {
    if output(Command::new("cfn-lint").arg("--version")).is_none() {
        procs::run(Command::new("python3").args(["-m", "pip", "install", "--quiet", CFN_LINT]))?;
        if on_path("pyenv") {
            procs::run(Command::new("pyenv").arg("rehash"))?;
        }
    }
    procs::run(Command::new("cfn-lint").arg("--").arg(TEMPLATE).current_dir(root()))
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| format!("reading {}: {e}", path.display()))
}

fn write(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).map_err(|e| format!("writing {}: {e}", path.display()))
}

#[cfg(test)]
mod tests;
