//! The app's lazily loaded parts (issue 15): `#[wasm_split]` functions in the app mark where the module may be cut,
//! and the build cuts it there, so that a first visit downloads only what the first pages need.
//!
//! The cut has to happen between `cargo build` and wasm-bindgen (wasm-bindgen drops the relocations the splitter
//! reads), and Trunk 0.21 has no stage there (trunk-rs/trunk#1022). So xtask puts its own `wasm-bindgen` first on the
//! PATH it gives Trunk ([`wrapper_dir`]): it runs wasm-split (the `wasm_split_cli_support` tool that Leptos's
//! `#[lazy]` is made for) on Cargo's module, then the real wasm-bindgen on the main part ([`bindgen`]). Trunk then
//! optimises and hashes the main part as before; its post-build hook ([`place`]) optimises the chunks the same way
//! and puts them, and the loader module the main part imports (renamed `<hash>.js`), into the staged site.
//!
//! Written here rather than in a crate: it is the glue between two tools that do not know of each other.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use crate::procs;
use crate::tools::tools_dir;
use crate::Result;

/// `data-bin` of index.html: the name Trunk gives wasm-bindgen (`--out-name`) and the stem of its outputs.
const APP: &str = "setlist";
/// The loader module the splitter writes, which its main part imports (as `./__wasm_split.js`, its default link name).
const LOADER: &str = "__wasm_split.js";
/// The main part's import of [`LOADER`] as the wasm spells it: a name (LEB128 length, then the bytes).
const LOADER_IMPORT: &[u8] = b"\x11./__wasm_split.js";
/// Where the split records the name its loader is served under ([`loader_name`]).
const LINK_NAME: &str = "link-name";
/// index.html's `data-wasm-opt`: the chunks get the optimisation Trunk gives the main part.
pub(crate) const WASM_OPT_LEVEL: &str = "s";

/// A folder holding only `wasm-bindgen`, a script that runs `xtask split-bindgen`; [`crate::tools::path_env`] puts it
/// first, so every Trunk that xtask starts splits the module. Rewritten at each start (it names this xtask binary).
pub(crate) fn wrapper_dir() -> Result<PathBuf> {
    // Once per xtask: every command it starts asks for its PATH.
    static DIR: OnceLock<Result<PathBuf>> = OnceLock::new();
    DIR.get_or_init(write_wrapper).clone()
}

fn split_bin() -> PathBuf {
    tools_dir().join("split-bin")
}

fn write_wrapper() -> Result<PathBuf> {
    let dir = split_bin();
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
    let wasm = std::fs::read(&main).map_err(|e| format!("wasm-split wrote no {}: {e}", main.display()))?;
    // The loader gets a name of this build's own, so that the site can let browsers keep it (a fixed name would be
    // revalidated on every visit, a round trip before the app starts). wasm-bindgen copies the import's module name
    // into the app's JS, so it is renamed in the wasm, before binding.
    let link = loader_name(&wasm);
    let wasm = rename_import_module(&wasm, &link)?;
    std::fs::write(&main, wasm).map_err(|e| format!("writing {}: {e}", main.display()))?;
    std::fs::write(dir.join(LINK_NAME), &link).map_err(|e| format!("writing {LINK_NAME}: {e}"))?;
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

/// `<12 hex digits>.js`, from the main part's bytes: as long as the splitter's `__wasm_split.js` (see
/// [`rename_import_module`]), and a hash in the name, which the site caches for a year (dist.rs, `cache_control`).
fn loader_name(main: &[u8]) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    main.hash(&mut h);
    // Top bit set: twelve digits whatever the value, as `is_trunk_hash` wants at least twelve.
    format!("{:012x}.js", (h.finish() >> 16) | (1 << 47))
}

/// The wasm with its imports from `./__wasm_split.js` taken from `./{name}` instead. Only the import section is
/// touched, and the new name has the old one's length, so no size or offset in the module changes: a byte
/// replacement inside one section, no wasm encoder needed (xtask would otherwise carry wasmparser and wasm-encoder
/// for one string).
fn rename_import_module(wasm: &[u8], name: &str) -> Result<Vec<u8>> {
    let to = format!("\x11./{name}");
    if to.len() != LOADER_IMPORT.len() {
        return Err(format!("the loader's name {name:?} must be as long as __wasm_split.js"));
    }
    if wasm.get(..8) != Some(b"\0asm\x01\0\0\0".as_slice()) {
        return Err("not a wasm module (version 1)".into());
    }
    let mut out = wasm.to_vec();
    let mut pos = 8;
    while pos < wasm.len() {
        let id = wasm[pos];
        let (size, body) = leb128(wasm, pos + 1).ok_or("a section's size is cut off")?;
        let end = body.checked_add(size).filter(|e| *e <= wasm.len()).ok_or("a section runs past the module's end")?;
        if id == 2 {
            let section = &mut out[body..end];
            let mut found = 0;
            let mut at = 0;
            while let Some(i) = find(&section[at..], LOADER_IMPORT) {
                section[at + i..at + i + to.len()].copy_from_slice(to.as_bytes());
                at += i + to.len();
                found += 1;
            }
            return match found {
                0 => Err("the split main part imports nothing from ./__wasm_split.js: has wasm-split changed?".into()),
                _ => Ok(out),
            };
        }
        pos = end;
    }
    Err("the split main part has no import section".into())
}

/// An unsigned LEB128 at `at`: (value, where the bytes after it start).
fn leb128(bytes: &[u8], mut at: usize) -> Option<(usize, usize)> {
    let mut value: usize = 0;
    for shift in (0..35).step_by(7) {
        let b = *bytes.get(at)?;
        at += 1;
        value |= usize::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Some((value, at));
        }
    }
    None
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The first `wasm-bindgen` on PATH that is not this wrapper.
fn real_wasm_bindgen() -> Result<PathBuf> {
    let ours = split_bin();
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
    let link = std::fs::read_to_string(dir.join(LINK_NAME)).map_err(|e| format!("reading {LINK_NAME}: {e}"))?;
    let out = staging.join(link.trim());
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

    /// A module importing `f` from the loader and `g` from elsewhere, with a data section naming the loader too.
    fn module() -> Vec<u8> {
        let mut imports = vec![2];
        for (module, field) in [("./__wasm_split.js", "f"), ("wbg", "g")] {
            imports.push(module.len() as u8);
            imports.extend(module.as_bytes());
            imports.push(field.len() as u8);
            imports.extend(field.as_bytes());
            imports.extend([0, 0]); // a function of type 0
        }
        let mut wasm = b"\0asm\x01\0\0\0".to_vec();
        wasm.extend([1, 4, 1, 0x60, 0, 0]); // type section: one () -> ()
        wasm.push(2);
        wasm.push(imports.len() as u8);
        wasm.extend(&imports);
        let data = b"\x11./__wasm_split.js";
        wasm.extend([0, data.len() as u8 + 2, 1, b'd']);
        wasm.extend(data);
        wasm
    }

    #[test]
    fn only_the_loader_import_is_renamed_in_place() {
        let wasm = module();
        let name = loader_name(&wasm);
        assert_eq!(name.len(), LOADER.len());
        assert!(crate::dist::is_trunk_hash(name.trim_end_matches(".js")), "{name}");
        assert_ne!(name, loader_name(b"another build"));
        let renamed = rename_import_module(&wasm, &name).unwrap();
        assert_eq!(renamed.len(), wasm.len());
        let text = String::from_utf8_lossy(&renamed);
        assert!(text.contains(&format!("./{name}\x01f")), "the import is renamed");
        assert!(text.contains("\x03wbg\x01g"), "the other import is not");
        assert!(text.ends_with("./__wasm_split.js"), "bytes outside the import section are not touched");
        // A module that does not import the loader, or is cut off, is an error, not a silent copy.
        assert!(rename_import_module(&renamed, &name).unwrap_err().contains("imports nothing"));
        assert!(rename_import_module(&wasm[..20], &name).is_err());
        assert!(rename_import_module(b"not wasm at all", &name).is_err());
        assert!(rename_import_module(&wasm, "x.js").is_err());
    }

    #[test]
    fn the_chunks_get_the_optimisation_index_html_gives_the_app() {
        let html = std::fs::read_to_string(root().join("index.html")).unwrap();
        assert!(html.contains(&format!("data-wasm-opt=\"{WASM_OPT_LEVEL}\"")), "index.html and WASM_OPT_LEVEL differ");
        assert!(html.contains(&format!("data-bin=\"{APP}\"")), "index.html's binary is not APP");
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
