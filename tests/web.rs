//! Browser tests (wasm-bindgen-test in headless Chromium): the browser glue and real components, selected by
//! `data-testid`. Run with `cargo xtask test wasm`.
#![cfg(target_arch = "wasm32")]

use leptos::prelude::*;
use setlist::browser::{self, Area};
use setlist::ErrorPanel;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn document() -> web_sys::Document {
    web_sys::window().unwrap().document().unwrap()
}

#[wasm_bindgen_test]
fn storage_round_trips_and_areas_are_separate() {
    browser::storage_set(Area::Session, "setlist.test", "one");
    browser::storage_set(Area::Local, "setlist.test", "two");
    assert_eq!(browser::storage_get(Area::Session, "setlist.test").as_deref(), Some("one"));
    assert_eq!(browser::storage_get(Area::Local, "setlist.test").as_deref(), Some("two"));
    browser::storage_remove(Area::Session, "setlist.test");
    assert_eq!(browser::storage_get(Area::Session, "setlist.test"), None);
    assert_eq!(browser::storage_get(Area::Local, "setlist.test").as_deref(), Some("two"));
    browser::storage_remove(Area::Local, "setlist.test");
}

#[wasm_bindgen_test]
fn replace_url_drops_the_query_without_navigating() {
    let before = browser::location_path();
    browser::replace_url("/callback?code=abc&state=def");
    assert_eq!(browser::location_search(), "?code=abc&state=def");
    browser::replace_url("/callback");
    assert_eq!(browser::location_search(), "");
    browser::replace_url(&before);
}

#[wasm_bindgen_test]
fn error_panel_shows_its_message_and_actions() {
    let host = document().create_element("div").unwrap();
    document().body().unwrap().append_child(&host).unwrap();
    let host: web_sys::HtmlElement = wasm_bindgen::JsCast::unchecked_into(host);
    let _mounted = leptos::mount::mount_to(host.clone(), || {
        view! {
            <ErrorPanel title="Sign-in did not complete" message="The sign-in response did not match.">
                <button data-testid="retry">"Retry"</button>
            </ErrorPanel>
        }
    });
    let panel = host.query_selector("[data-testid=error]").unwrap().expect("panel rendered");
    assert_eq!(panel.get_attribute("role").as_deref(), Some("alert"));
    let msg = host.query_selector("[data-testid=error-message]").unwrap().unwrap();
    assert_eq!(msg.text_content().as_deref(), Some("The sign-in response did not match."));
    assert!(host.query_selector("[data-testid=retry]").unwrap().is_some());
}

#[wasm_bindgen_test]
async fn an_unreachable_host_is_a_network_error_naming_only_the_host() {
    // Port 9 (discard) is closed on loopback: the fetch fails without an HTTP response.
    let req = http::Request::get("http://127.0.0.1:9/v1/me?token=secret-value").body(String::new()).unwrap();
    let err = browser::send(req).await.expect_err("nothing listens there");
    assert_eq!(err.host, "127.0.0.1:9");
    assert!(!format!("{err:?}").contains("secret-value"));
}
