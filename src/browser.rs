//! Browser glue: the only module that touches `web-sys`, `gloo-net` and storage. Views and session logic call these
//! functions; they never build URLs or parse JSON themselves.

use gloo_net::http::RequestBuilder;
use wasm_bindgen::prelude::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// A response reduced to what the app's logic needs.
#[derive(Clone, Debug)]
pub struct HttpResponse {
    pub status: u16,
    pub body: String,
    /// `Retry-After` in seconds, when the server sent one.
    pub retry_after: Option<u64>,
}

/// The request never produced an HTTP response: host down, DNS, CORS refusal (which hides a 429), or offline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetworkError {
    pub host: String,
}

/// Sends a request built by core. The error keeps only the host: a URL may carry a code or a token.
pub async fn send(req: http::Request<String>) -> Result<HttpResponse, NetworkError> {
    send_with_signal(req, None).await
}

/// Like [`send`], but gives up after `timeout_ms` (a network error), so a hanging connection cannot hold a lock.
pub async fn send_with_timeout(req: http::Request<String>, timeout_ms: u32) -> Result<HttpResponse, NetworkError> {
    let Ok(controller) = web_sys::AbortController::new() else { return send(req).await };
    let signal = controller.signal();
    // Fires after the request is done too; aborting a finished fetch is a no-op, and firing frees the closure.
    set_timeout_ms(timeout_ms, move || controller.abort());
    send_with_signal(req, Some(&signal)).await
}

async fn send_with_signal(
    req: http::Request<String>,
    signal: Option<&web_sys::AbortSignal>,
) -> Result<HttpResponse, NetworkError> {
    let (parts, body) = req.into_parts();
    let host = parts.uri.authority().map(|a| a.to_string()).unwrap_or_default();
    let net_err = || NetworkError { host: host.clone() };
    let mut builder = RequestBuilder::new(&parts.uri.to_string()).method(parts.method.clone()).abort_signal(signal);
    for (name, value) in &parts.headers {
        if let Ok(v) = value.to_str() {
            builder = builder.header(name.as_str(), v);
        }
    }
    let request = if body.is_empty() && parts.method == http::Method::GET {
        builder.build()
    } else {
        builder.body(body)
    }
    .map_err(|_| net_err())?;
    let response = request.send().await.map_err(|_| net_err())?;
    let status = response.status();
    let retry_after = response.headers().get("retry-after").and_then(|v| v.trim().parse().ok());
    let body = response.text().await.map_err(|_| net_err())?;
    Ok(HttpResponse { status, body, retry_after })
}

/// GET a same-origin file (config.json) as text.
pub async fn get_text(path: &str) -> Result<HttpResponse, NetworkError> {
    let req = http::Request::get(path).body(String::new()).map_err(|_| NetworkError { host: "this site".into() })?;
    let (parts, _) = req.into_parts();
    let response = RequestBuilder::new(&parts.uri.to_string())
        .header("cache-control", "no-cache")
        .send()
        .await
        .map_err(|_| NetworkError { host: "this site".into() })?;
    let status = response.status();
    let body = response.text().await.map_err(|_| NetworkError { host: "this site".into() })?;
    Ok(HttpResponse { status, body, retry_after: None })
}

fn window() -> Option<web_sys::Window> {
    web_sys::window()
}

/// Which Web Storage area a value lives in.
#[derive(Clone, Copy, Debug)]
pub enum Area {
    /// Per tab: the pending sign-in (the tab that starts the flow finishes it).
    Session,
    /// Shared by the tabs of this origin and kept across reloads: the tokens.
    Local,
}

fn storage(area: Area) -> Option<web_sys::Storage> {
    let w = window()?;
    match area {
        Area::Session => w.session_storage().ok().flatten(),
        Area::Local => w.local_storage().ok().flatten(),
    }
}

pub fn storage_get(area: Area, key: &str) -> Option<String> {
    storage(area)?.get_item(key).ok().flatten()
}

/// Stores a value; false when storage is unavailable or full (private mode, quota).
pub fn storage_set(area: Area, key: &str, value: &str) -> bool {
    storage(area).is_some_and(|s| s.set_item(key, value).is_ok())
}

pub fn storage_remove(area: Area, key: &str) {
    if let Some(s) = storage(area) {
        let _ = s.remove_item(key);
    }
}

/// `location.search`, with its leading `?`.
pub fn location_search() -> String {
    window().and_then(|w| w.location().search().ok()).unwrap_or_default()
}

/// `location.pathname` + `location.search`: where to come back to after signing in.
pub fn location_path() -> String {
    let Some(loc) = window().map(|w| w.location()) else { return "/".into() };
    format!("{}{}", loc.pathname().unwrap_or_else(|_| "/".into()), loc.search().unwrap_or_default())
}

/// Replaces the address bar's URL without navigating, so `code` and `state` leave it (and its history entry).
pub fn replace_url(path: &str) {
    if let Some(h) = window().and_then(|w| w.history().ok()) {
        let _ = h.replace_state_with_url(&JsValue::NULL, "", Some(path));
    }
}

/// Leaves the app for `url` (the authorize page).
pub fn navigate_away(url: &str) -> bool {
    window().is_some_and(|w| w.location().assign(url).is_ok())
}

/// Unix time in seconds from the browser's clock; core takes time as a parameter.
pub fn now_secs() -> u64 {
    (js_sys::Date::now() / 1000.0) as u64
}

/// [`now_secs`] rounded up: scheduling "`n` seconds from now" from it never comes early.
pub fn now_secs_ceil() -> u64 {
    (js_sys::Date::now() / 1000.0).ceil() as u64
}

/// Focuses the first element matching `selector`, if any (keyboard users keep their place after a re-render).
pub fn focus_selector(selector: &str) {
    use wasm_bindgen::JsCast;
    let el = window().and_then(|w| w.document()).and_then(|d| d.query_selector(selector).ok().flatten());
    if let Some(el) = el.and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok()) {
        let _ = el.focus();
    }
}

/// Offers `text` as a file named `filename` to download (a playlist export). Returns whether the browser took it.
pub fn download(filename: &str, mime: &str, text: &str) -> bool {
    let parts = js_sys::Array::of1(&JsValue::from_str(text));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let Ok(blob) = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options) else { return false };
    let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) else { return false };
    let document = window().and_then(|w| w.document());
    let anchor = document
        .and_then(|d| d.create_element("a").ok())
        .and_then(|a| a.dyn_into::<web_sys::HtmlAnchorElement>().ok());
    let Some(anchor) = anchor else { return false };
    anchor.set_href(&url);
    anchor.set_download(filename);
    anchor.click();
    // The click has started the download; the object URL can go once this task ends.
    set_timeout_ms(0, move || {
        let _ = web_sys::Url::revoke_object_url(&url);
    });
    true
}

/// The name and text of the file chosen in a file input, read in full; an error sentence when there is none, it
/// is larger than `max_bytes`, or it cannot be read as text.
pub async fn read_chosen_file(input: &web_sys::HtmlInputElement, max_bytes: usize) -> Result<(String, String), String> {
    let file = input.files().and_then(|files| files.get(0)).ok_or("choose a file first")?;
    if file.size() > max_bytes as f64 {
        return Err(format!("{} is larger than {} MB", file.name(), max_bytes / (1024 * 1024)));
    }
    let text = JsFuture::from(file.text()).await.map_err(|_| format!("{} could not be read", file.name()))?;
    let text = text.as_string().ok_or_else(|| format!("{} is not text", file.name()))?;
    Ok((file.name(), text))
}

// Cross-tab coordination: Web Locks, BroadcastChannel, timers.

/// Calls `f` once after `ms` milliseconds.
fn set_timeout_ms(ms: u32, f: impl FnOnce() + 'static) {
    let Some(w) = window() else { return };
    let callback = Closure::once_into_js(f);
    let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(
        callback.unchecked_ref(),
        i32::try_from(ms).unwrap_or(i32::MAX),
    );
}

/// Waits `ms` milliseconds.
pub async fn sleep_ms(ms: u32) {
    let (promise, resolve) = deferred();
    set_timeout_ms(ms, move || {
        let _ = resolve.call0(&JsValue::UNDEFINED);
    });
    let _ = JsFuture::from(promise).await;
}

/// A uniformly random `u32` (for backoff jitter; not for secrets).
pub fn random_u32() -> u32 {
    (js_sys::Math::random() * f64::from(u32::MAX)) as u32
}

/// A promise and the function that resolves it.
fn deferred() -> (js_sys::Promise, js_sys::Function) {
    let mut resolve = None;
    let promise = js_sys::Promise::new(&mut |res, _rej| resolve = Some(res));
    // The executor runs synchronously inside `new Promise`, so `resolve` is always set here.
    let resolve = resolve.unwrap_or_else(|| js_sys::Function::from(JsValue::UNDEFINED));
    (promise, resolve)
}

/// `navigator.locks`, where the browser has it (all current ones do, in secure contexts such as loopback http).
fn lock_manager() -> Option<JsValue> {
    let nav = window()?.navigator();
    let locks = js_sys::Reflect::get(&nav, &JsValue::from_str("locks")).ok()?;
    (!locks.is_undefined() && !locks.is_null()).then_some(locks)
}

/// An exclusive Web Lock held until dropped (<https://w3c.github.io/web-locks/>). Dropping releases it, also when
/// the future holding it is cancelled; closing the tab releases it too.
#[must_use = "the lock is released when the guard is dropped"]
pub struct LockGuard {
    release: Option<js_sys::Function>,
}

impl LockGuard {
    /// Whether a lock is really held: false when the browser has no Web Locks or refused the request, in which
    /// case the caller runs without cross-tab exclusion.
    pub fn is_held(&self) -> bool {
        self.release.is_some()
    }
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        if let Some(release) = self.release.take() {
            let _ = release.call0(&JsValue::UNDEFINED);
        }
    }
}

/// Waits for the exclusive Web Lock `name`, shared by every tab and worker of this origin (and queued in request
/// order within one tab too). `navigator.locks.request(name, {mode: "exclusive"}, cb)` holds the lock until the
/// promise `cb` returns settles; that promise is resolved when the guard drops.
pub async fn acquire_lock(name: &str) -> LockGuard {
    let unheld = LockGuard { release: None };
    let Some(locks) = lock_manager() else { return unheld };
    let Some(request) = js_sys::Reflect::get(&locks, &JsValue::from_str("request"))
        .ok()
        .and_then(|r| r.dyn_into::<js_sys::Function>().ok())
    else {
        return unheld;
    };
    let (held, release) = deferred();
    let (granted, grant) = deferred();
    let callback = Closure::once_into_js(move |_lock: JsValue| -> JsValue {
        let _ = grant.call0(&JsValue::UNDEFINED);
        held.into()
    });
    let options = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&options, &JsValue::from_str("mode"), &JsValue::from_str("exclusive"));
    let Some(done) = request
        .call3(&locks, &JsValue::from_str(name), &options, &callback)
        .ok()
        .and_then(|p| p.dyn_into::<js_sys::Promise>().ok())
    else {
        return unheld;
    };
    // Whichever settles first: normally the grant; a rejected request (bad name, inactive document) settles
    // `done` first and the caller goes on without the lock rather than waiting forever.
    let guard = LockGuard { release: Some(release) };
    match JsFuture::from(js_sys::Promise::race(&js_sys::Array::of2(&granted, &done))).await {
        Ok(_) => guard,
        Err(_) => {
            drop(guard);
            unheld
        }
    }
}

/// Runs `f` while holding the exclusive Web Lock `name` (see [`acquire_lock`]).
pub async fn with_lock<T, Fut: std::future::Future<Output = T>>(name: &str, f: impl FnOnce() -> Fut) -> T {
    let guard = acquire_lock(name).await;
    let out = f().await;
    drop(guard);
    out
}

/// A `BroadcastChannel` to the other tabs of this origin. A channel never receives its own messages; other
/// channels of the same name, in this tab or others, do. Closed when dropped.
pub struct Channel {
    channel: web_sys::BroadcastChannel,
    _listener: Closure<dyn FnMut(web_sys::MessageEvent)>,
}

impl Channel {
    /// Opens channel `name`; `on_message` gets every string message posted by other channels of that name.
    pub fn open(name: &str, mut on_message: impl FnMut(String) + 'static) -> Option<Self> {
        let channel = web_sys::BroadcastChannel::new(name).ok()?;
        let listener = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
            if let Some(text) = e.data().as_string() {
                on_message(text);
            }
        });
        channel.set_onmessage(Some(listener.as_ref().unchecked_ref()));
        Some(Self { channel, _listener: listener })
    }

    /// Posts `message` to the other channels of this name; false if the channel is closed.
    pub fn post(&self, message: &str) -> bool {
        self.channel.post_message(&JsValue::from_str(message)).is_ok()
    }
}

impl Drop for Channel {
    fn drop(&mut self) {
        self.channel.set_onmessage(None);
        self.channel.close();
    }
}
