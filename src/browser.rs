//! Browser glue: the only module that touches `web-sys`, `gloo-net` and storage. Views and session logic call these
//! functions; they never build URLs or parse JSON themselves.

use gloo_net::http::RequestBuilder;
use wasm_bindgen::JsValue;

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
    let (parts, body) = req.into_parts();
    let host = parts.uri.authority().map(|a| a.to_string()).unwrap_or_default();
    let net_err = || NetworkError { host: host.clone() };
    let mut builder = RequestBuilder::new(&parts.uri.to_string()).method(parts.method.clone());
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
