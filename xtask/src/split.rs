//! The app's lazily loaded parts (issue 15): `#[wasm_split]` functions in the app mark where the module may be cut,
//! and the build cuts it there, so that a first visit downloads only what the first pages need.
//!
//! The cut has to happen between `cargo build` and wasm-bindgen (wasm-bindgen drops the relocations the splitter
//! reads), and Trunk 0.21 has no stage there (trunk-rs/trunk#1022). So xtask puts its own `wasm-bindgen` first on the
//! PATH it gives Trunk ([`wrapper_dir`]): it runs wasm-split (the `wasm_split_cli_support` tool that Leptos's
//! `#[lazy]` is made for) on Cargo's module, then the real wasm-bindgen on the main part ([`bindgen`]). Trunk then
//! optimises and hashes the main part as before; its post-build hook ([`place`]) optimises the chunks the same way
//! and puts them, and the loader module the main part imports (`__wasm_split.js`), into the staged site.
//!
//! Written here rather than in a crate: it is the glue between two tools that do not know of each other.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::procs;
use crate::tools::tools_dir;
use crate::Result;

/// `data-bin` of index.html: the name Trunk gives wasm-bindgen (`--out-name`) and the stem of its outputs.
const APP: &str = "setlist";
/// The module the split main part imports its chunk loaders from (the splitter's default link name): wasm-bindgen
/// turns the import into `import ... from "./__wasm_split.js"` next to the app's JS, so it lives at the site's root.
const LOADER: &str = "__wasm_split.js";
/// index.html's `data-wasm-opt`: the chunks get the optimisation Trunk gives the main part.
pub(crate) const WASM_OPT_LEVEL: &str = "s";

/// A folder holding only `wasm-bindgen`, a script that runs `xtask split-bindgen`; [`crate::tools::path_env`] puts it
/// first, so every Trunk that xtask starts splits the module. Rewritten at each start (it names this xtask binary).
pub(crate) fn wrapper_dir() -> Result<PathBuf> {
    let dir = tools_dir().join("split-bin");
    let exe = std::env::current_exe().map_err(|e| format!("finding xtask's own binary: {e}"))?;
    let exe = exe.to_str().ok_or("xtask's path is not UTF-8")?;
    if exe.contains('\'') {
        return Err(format!("xtask's path {exe:?} has a quote; move the checkout"));
    }
    let script = format!(
        "#!/bin/sh\n# Written by cargo xtask (xtask/src/split.rs): wasm-split, then the real wasm-bindgen.\nexec '{exe}' split-bindgen \"$@\"\n"
    );
    let path = dir.join("wasm-bindgen");
    if std::fs::read_to_string(&path).ok().as_deref() != Some(script.as_str()) {
        std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        // Written beside and renamed: another xtask may be running the script right now.
        let tmp = dir.join(format!(".wasm-bindgen.{}", std::process::id()));
        std::fs::write(&tmp, &script).map_err(|e| format!("writing {}: {e}", tmp.display()))?;
        set_executable(&tmp)?;
        std::fs::rename(&tmp, &path).map_err(|e| format!("writing {}: {e}", path.display()))?;
    }
    Ok(dir)
}

#[cfg(unix)]
fn set_executable(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        .map_err(|e| format!("making {} executable: {e}", path.display()))
}

#[cfg(not(unix))]
fn set_executable(_: &Path) -> Result<()> {
    Ok(())
}

/// What Trunk asks wasm-bindgen to do, as far as the split needs to know.
#[derive(Debug, PartialEq, Eq)]
struct BindgenCall {
    out_dir: PathBuf,
    out_name: String,
    /// Position of the input module among the arguments.
    input_at: usize,
}

/// Trunk 0.21 passes `--target=web --out-dir=DIR --out-name=NAME INPUT.wasm [flags]`; anything else (`--version`) is
/// not a build and goes to wasm-bindgen unchanged.
fn parse_call(args: &[String]) -> Option<BindgenCall> {
    let value = |flag: &str| args.iter().find_map(|a| a.strip_prefix(flag)?.strip_prefix('='));
    let out_dir = PathBuf::from(value("--out-dir")?);
    let out_name = value("--out-name")?.to_owned();
    let mut inputs = args.iter().enumerate().filter(|(_, a)| !a.starts_with('-') && a.ends_with(".wasm"));
    let (input_at, _) = inputs.next()?;
    if inputs.next().is_some() {
        return None;
    }
    Some(BindgenCall { out_dir, out_name, input_at })
}

/// Where the split of `out_name` goes: beside wasm-bindgen's outputs, where the hook finds it.
fn split_dir(out_dir: &Path, out_name: &str) -> PathBuf {
    out_dir.join(format!("{out_name}.split"))
}

/// `xtask split-bindgen ARGS`: what Trunk runs as wasm-bindgen.
pub(crate) fn bindgen(args: &[String]) -> Result<()> {
    let real = real_wasm_bindgen()?;
    let Some(call) = parse_call(args) else {
        return procs::run(Command::new(&real).args(args));
    };
    let dir = split_dir(&call.out_dir, &call.out_name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    let input = &args[call.input_at];
    procs::run(
        Command::new("wasm-split-cli")
            .arg(input)
            .arg(&dir)
            .args(["--target", "web", "--out-name", &call.out_name]),
    )?;
    let main = dir.join(format!("{}.wasm", call.out_name));
    if !main.is_file() {
        return Err(format!("wasm-split wrote no {}", main.display()));
    }
    let mut args = args.to_vec();
    args[call.input_at] = main.to_str().ok_or("a non-UTF-8 path")?.to_owned();
    // The chunks are instantiated with the main part's function table, which wasm-bindgen otherwise stops exporting
    // (an LLD export it does not use itself); without it a chunk fails to link ("table import requires a Table").
    if !args.iter().any(|a| a == "--keep-lld-exports") {
        args.push("--keep-lld-exports".to_owned());
    }
    procs::run(Command::new(&real).args(&args))?;
    // What this split was bound into: the hook places the chunks only beside this very JS (a split left over from an
    // earlier build must not be put next to a module that was never split).
    let bound = call.out_dir.join(format!("{}.js", call.out_name));
    std::fs::copy(&bound, dir.join(BOUND)).map_err(|e| format!("copying {}: {e}", bound.display()))?;
    Ok(())
}

/// The split's copy of the JS wasm-bindgen wrote for its main part.
const BOUND: &str = "bound.js";

/// The first `wasm-bindgen` on PATH that is not this wrapper.
fn real_wasm_bindgen() -> Result<PathBuf> {
    let ours = tools_dir().join("split-bin");
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .filter(|d| d != &ours)
        .map(|d| d.join("wasm-bindgen"))
        .find(|p| p.is_file())
        .ok_or_else(|| "wasm-bindgen (wasm-bindgen-cli) is not on PATH; `cargo xtask setup` installs it".to_owned())
}

/// `xtask dist place-split STAGING PROFILE` (Trunk's post-build hook): the chunks and their loader into the site.
pub(crate) fn place(staging: &Path, profile: &str) -> Result<()> {
    let dir = split_dir(&crate::tasks::target_dir().join("wasm-bindgen").join(profile), APP);
    let loader = std::fs::read_to_string(dir.join(LOADER)).map_err(|e| {
        format!(
            "reading {}: {e}: the module was not split; build the app through cargo xtask (run, test, dist), whose \
             PATH gives Trunk the splitting wasm-bindgen",
            dir.join(LOADER).display()
        )
    })?;
    let main_js = main_js(staging)?;
    let staged = std::fs::read(staging.join(&main_js)).map_err(|e| format!("reading {main_js}: {e}"))?;
    if std::fs::read(dir.join(BOUND)).ok() != Some(staged) {
        return Err(format!(
            "{} was not split in this build (the split in {} belongs to another): build the app through cargo xtask \
             (run, test, dist) or with target/tools/split-bin first on PATH",
            main_js,
            dir.display()
        ));
    }
    let stem = main_js.trim_end_matches(".js");
    let mut chunks = Vec::new();
    for entry in std::fs::read_dir(&dir).map_err(|e| format!("reading {}: {e}", dir.display()))? {
        let name = entry.map_err(|e| e.to_string())?.file_name().into_string().map_err(|n| format!("{n:?}"))?;
        if name.ends_with(".wasm") && name != format!("{APP}.wasm") {
            chunks.push(name);
        }
    }
    chunks.sort();
    let renames: Vec<(String, String)> = chunks.iter().map(|c| (c.clone(), format!("{stem}-{c}"))).collect();
    let text = link_loader(&loader, &main_js, &renames)?;
    for (from, to) in &renames {
        let (src, dst) = (dir.join(from), staging.join(to));
        if profile == "release" {
            procs::run(
                Command::new("wasm-opt")
                    .arg(format!("--output={}", dst.display()))
                    .arg(format!("-O{WASM_OPT_LEVEL}"))
                    .arg(&src),
            )?;
        } else {
            std::fs::copy(&src, &dst).map_err(|e| format!("copying {} to {}: {e}", src.display(), dst.display()))?;
        }
    }
    let out = staging.join(LOADER);
    std::fs::write(&out, text).map_err(|e| format!("writing {}: {e}", out.display()))
}

/// The app's JS in the staged site: `setlist-<hash>.js`, or `setlist.js` when hashing is off.
fn main_js(staging: &Path) -> Result<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(staging).map_err(|e| format!("reading {}: {e}", staging.display()))? {
        let name = entry.map_err(|e| e.to_string())?.file_name().into_string().unwrap_or_default();
        let hashed = name
            .strip_prefix(&format!("{APP}-"))
            .and_then(|r| r.strip_suffix(".js"))
            .is_some_and(crate::dist::is_trunk_hash);
        if hashed || name == format!("{APP}.js") {
            found.push(name);
        }
    }
    match found.as_slice() {
        [one] => Ok(one.clone()),
        _ => Err(format!("expected one {APP} JS module in {}, found {found:?}", staging.display())),
    }
}

/// The splitter's loader, pointed at the names the site serves: the app's JS as Trunk named it, and each chunk under
/// the app's hashed stem (a chunk belongs to exactly one build of the main part; the site caches hashed names for a
/// year). Every name must be found exactly once: a loader that still named a missing file would fail only when the
/// panel opens.
fn link_loader(loader: &str, main_js: &str, chunks: &[(String, String)]) -> Result<String> {
    let mut text = replace_once(loader, &format!("from \"./{APP}.js\""), &format!("from \"./{main_js}\""))?;
    for (from, to) in chunks {
        text = replace_once(&text, &format!("\"./{from}\""), &format!("\"./{to}\""))?;
    }
    Ok(text)
}

fn replace_once(text: &str, from: &str, to: &str) -> Result<String> {
    match text.matches(from).count() {
        1 => Ok(text.replacen(from, to, 1)),
        n => Err(format!("the split loader names {from} {n} times, expected once: has wasm-split's output changed?")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tools::root;

    fn strings(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn trunks_call_is_read_and_anything_else_is_passed_on() {
        let args = strings(&["--target=web", "--out-dir=/t/wasm-bindgen/release", "--out-name=setlist", "/t/a.wasm", "--no-typescript"]);
        assert_eq!(
            parse_call(&args),
            Some(BindgenCall { out_dir: "/t/wasm-bindgen/release".into(), out_name: "setlist".into(), input_at: 3 })
        );
        assert_eq!(parse_call(&strings(&["--version"])), None);
        assert_eq!(parse_call(&strings(&["--out-dir=/o", "--out-name=x"])), None, "no input");
        assert_eq!(parse_call(&strings(&["--out-dir=/o", "--out-name=x", "a.wasm", "b.wasm"])), None, "two inputs");
    }

    #[test]
    fn the_loader_is_pointed_at_the_served_names_and_a_changed_format_is_an_error() {
        let loader = "import { initSync } from \"./setlist.js\";\nconst a = fetch(new URL(\"./split_tools_panel.wasm\", import.meta.url));\n";
        let chunks = [("split_tools_panel.wasm".to_owned(), "setlist-0123456789abcdef-split_tools_panel.wasm".to_owned())];
        let linked = link_loader(loader, "setlist-0123456789abcdef.js", &chunks).unwrap();
        assert_eq!(
            linked,
            "import { initSync } from \"./setlist-0123456789abcdef.js\";\nconst a = fetch(new URL(\"./setlist-0123456789abcdef-split_tools_panel.wasm\", import.meta.url));\n"
        );
        let err = link_loader("import { initSync } from \"./main.js\";", "setlist-0123456789abcdef.js", &[]).unwrap_err();
        assert!(err.contains("0 times"), "{err}");
        let missing = [("chunk_1.wasm".to_owned(), "x-chunk_1.wasm".to_owned())];
        assert!(link_loader(loader, "setlist.js", &missing).is_err());
    }

    #[test]
    fn the_chunks_get_the_optimisation_index_html_gives_the_app() {
        let html = std::fs::read_to_string(root().join("index.html")).unwrap();
        assert!(html.contains(&format!("data-wasm-opt=\"{WASM_OPT_LEVEL}\"")), "index.html and WASM_OPT_LEVEL differ");
    }

    #[test]
    fn the_main_js_is_found_hashed_or_not_and_only_alone() {
        let dir = std::env::temp_dir().join(format!("xtask-split-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("setlist-0123456789abcdef.js"), "").unwrap();
        std::fs::write(dir.join("boot-0123456789abcdef.js"), "").unwrap();
        std::fs::write(dir.join("setlist-0123456789abcdef_bg.wasm"), "").unwrap();
        assert_eq!(main_js(&dir).unwrap(), "setlist-0123456789abcdef.js");
        std::fs::write(dir.join("setlist.js"), "").unwrap();
        assert!(main_js(&dir).is_err(), "two candidates");
        std::fs::remove_file(dir.join("setlist-0123456789abcdef.js")).unwrap();
        std::fs::remove_file(dir.join("setlist.js")).unwrap();
        // Trunk drops the hash's leading zeros.
        std::fs::write(dir.join("setlist-ee7bce3a69edf30.js"), "").unwrap();
        assert_eq!(main_js(&dir).unwrap(), "setlist-ee7bce3a69edf30.js");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
