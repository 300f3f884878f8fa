//! The Setlist web app's entry point: `cargo xtask run` builds it with Trunk and serves it on 127.0.0.1:8080.

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(setlist::App);
}
