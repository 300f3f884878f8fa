//! The Setlist web app's entry point: `cargo xtask run` builds it with Trunk and serves it on 127.0.0.1:8080.
//!
//! The module is cut in three (issue 15): what a first visit needs, the playlist editor, and its tools panel. Each
//! `#[wasm_split]` function below is where the build cuts (xtask/src/split.rs): its body, and everything only it
//! reaches, becomes a chunk fetched the first time the function is called. They live here, in the binary, so that
//! the library (and the wasm tests that link it) has no split to resolve.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos::wasm_split::{wasm_split, SplitLoaderError};
use setlist::{Loading, Parts};

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(|| view! { <setlist::App parts=PARTS/> });
}

const PARTS: Parts = Parts { editor: load_editor, tools: load_tools, prefetch_editor };

fn load_editor() -> Loading {
    Box::pin(editor())
}

fn load_tools() -> Loading {
    Box::pin(tools())
}

/// Fetches the editor's chunk while the browser is idle, so that opening a playlist does not wait for it. A failure
/// is left for the opening itself to report, with its retry.
fn prefetch_editor() {
    request_idle_callback(|| spawn_local(async { _ = preload_editor().await }));
}

#[wasm_split(playlist_page, wasm_split_path = ::leptos::wasm_split, fallible, preload(preload_editor))]
fn editor() -> Result<AnyView, SplitLoaderError> {
    Ok(setlist::editor_view())
}

#[wasm_split(tools_panel, wasm_split_path = ::leptos::wasm_split, fallible)]
fn tools() -> Result<AnyView, SplitLoaderError> {
    Ok(setlist::tools_view())
}
