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

/// Polls until `done` holds (browser tasks run while this future sleeps), for at most two seconds.
async fn wait_for(mut done: impl FnMut() -> bool) -> bool {
    for _ in 0..200 {
        if done() {
            return true;
        }
        browser::sleep_ms(10).await;
    }
    done()
}

#[wasm_bindgen_test]
async fn an_exclusive_lock_runs_holders_one_after_another_in_request_order() {
    use std::cell::RefCell;
    use std::rc::Rc;
    let events = Rc::new(RefCell::new(Vec::<String>::new()));
    for name in ["a", "b", "c"] {
        let events = events.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let guard = browser::acquire_lock("setlist-test-lock").await;
            assert!(guard.is_held(), "Chromium has Web Locks");
            events.borrow_mut().push(format!("{name} in"));
            // Long enough for the others to be queued and, were the lock not exclusive, to barge in.
            browser::sleep_ms(30).await;
            events.borrow_mut().push(format!("{name} out"));
            drop(guard);
        });
    }
    assert!(wait_for(|| events.borrow().len() == 6).await, "{:?}", events.borrow());
    assert_eq!(*events.borrow(), ["a in", "a out", "b in", "b out", "c in", "c out"]);
    // Released: taking it again does not wait.
    let value = browser::with_lock("setlist-test-lock", || async { 7 }).await;
    assert_eq!(value, 7);
}

#[wasm_bindgen_test]
async fn a_lock_is_released_when_its_holder_is_dropped_unfinished() {
    use std::cell::Cell;
    use std::rc::Rc;
    let guard = browser::acquire_lock("setlist-test-drop").await;
    let second = Rc::new(Cell::new(false));
    let s = second.clone();
    wasm_bindgen_futures::spawn_local(async move {
        let _g = browser::acquire_lock("setlist-test-drop").await;
        s.set(true);
    });
    browser::sleep_ms(50).await;
    assert!(!second.get(), "still held");
    drop(guard);
    assert!(wait_for(|| second.get()).await, "granted after the drop");
}

#[wasm_bindgen_test]
async fn broadcast_reaches_other_channels_but_not_the_sender() {
    use std::cell::RefCell;
    use std::rc::Rc;
    let got_a = Rc::new(RefCell::new(Vec::<String>::new()));
    let got_b = Rc::new(RefCell::new(Vec::<String>::new()));
    let (ga, gb) = (got_a.clone(), got_b.clone());
    let a = browser::Channel::open("setlist-test-channel", move |m| ga.borrow_mut().push(m)).expect("channel");
    let b = browser::Channel::open("setlist-test-channel", move |m| gb.borrow_mut().push(m)).expect("channel");
    assert!(a.post(r#"{"kind":"signed_out"}"#));
    assert!(wait_for(|| !got_b.borrow().is_empty()).await);
    assert_eq!(*got_b.borrow(), [r#"{"kind":"signed_out"}"#]);
    assert!(b.post("back"));
    assert!(wait_for(|| !got_a.borrow().is_empty()).await);
    assert_eq!(*got_a.borrow(), ["back"]);
    assert_eq!(got_b.borrow().len(), 1, "a channel does not hear itself");
    // Closed on drop: nothing more arrives.
    drop(b);
    assert!(a.post("after close"));
    browser::sleep_ms(50).await;
    assert_eq!(got_b.borrow().len(), 1);
}

#[wasm_bindgen_test]
async fn a_request_that_outlives_its_timeout_is_a_network_error() {
    // 10.255.255.1 is unroutable here: the connection neither succeeds nor is refused, so only the timeout ends it.
    let req = http::Request::post("http://10.255.255.1:9/api/tokens").body("{}".to_string()).unwrap();
    let started = js_sys::Date::now();
    let err = browser::send_with_timeout(req, 200).await.expect_err("aborted");
    assert_eq!(err.host, "10.255.255.1:9");
    assert!(js_sys::Date::now() - started < 5_000.0);
}
