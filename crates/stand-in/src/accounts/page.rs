//! The accounts service's HTML: the consent page and the error page. Served from the stand-in's own origin, so
//! the styles are inline and nothing is loaded from elsewhere.

use std::fmt::Write as _;

use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};

use super::scopes;
use crate::SEEDED_USERS;

const STYLE: &str = "
:root { color-scheme: light dark; --accent: #1db954; --accent-text: #04200d; --muted: #6a6a6a; --line: #d9d9d9; }
* { box-sizing: border-box; }
body { margin: 0; min-height: 100vh; display: grid; place-items: center; padding: 1.5rem;
  font: 1rem/1.5 system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; background: #f4f4f4; color: #121212; }
main { width: 100%; max-width: 30rem; background: #fff; border-radius: 0.75rem; padding: 2rem;
  box-shadow: 0 0.25rem 1.5rem rgb(0 0 0 / 0.08); }
.brand { margin: 0 0 1rem; font-size: 0.8rem; font-weight: 700; letter-spacing: 0.08em; text-transform: uppercase;
  color: var(--muted); }
h1 { margin: 0 0 1.25rem; font-size: 1.4rem; line-height: 1.3; }
h2, legend { margin: 0 0 0.5rem; padding: 0; font-size: 1rem; font-weight: 700; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 0.9em; overflow-wrap: anywhere; }
fieldset { margin: 0 0 1.5rem; padding: 0; border: 0; }
.user { display: flex; gap: 0.75rem; align-items: center; padding: 0.6rem 0.75rem; margin-bottom: 0.5rem;
  border: 1px solid var(--line); border-radius: 0.5rem; cursor: pointer; }
.user:has(input:checked) { border-color: var(--accent); box-shadow: inset 0 0 0 1px var(--accent); }
.user input { width: 1.1rem; height: 1.1rem; accent-color: var(--accent); }
.user .who { display: flex; flex-direction: column; }
.user .meta, .note { color: var(--muted); font-size: 0.875rem; }
ul { margin: 0 0 1.5rem; padding-left: 1.25rem; }
li { margin-bottom: 0.25rem; }
.actions { display: flex; gap: 0.75rem; justify-content: flex-end; margin-top: 1.5rem; }
button { font: inherit; font-weight: 700; padding: 0.65rem 1.5rem; border-radius: 999px; cursor: pointer;
  border: 1px solid var(--line); background: transparent; color: inherit; }
button.primary { background: var(--accent); border-color: var(--accent); color: var(--accent-text); }
button:focus-visible, .user:has(input:focus-visible) { outline: 3px solid #2e77d0; outline-offset: 2px; }
.error { color: #b3261e; font-weight: 700; }
@media (prefers-color-scheme: dark) {
  body { background: #121212; color: #f1f1f1; }
  main { background: #1f1f1f; box-shadow: none; }
  :root { --muted: #b3b3b3; --line: #4d4d4d; }
  .error { color: #ff8a80; }
}
";

/// What the consent page shows for one pending `/authorize` request.
pub(super) struct Consent<'a> {
    pub(super) request_id: &'a str,
    pub(super) client_id: &'a str,
    pub(super) redirect_uri: &'a str,
    pub(super) scopes: &'a [&'a str],
}

pub(super) fn consent(view: &Consent<'_>) -> Response {
    let client = escape(view.client_id);
    let mut users = String::new();
    for (index, user) in SEEDED_USERS.iter().enumerate() {
        let id = escape(user.id);
        let checked = if index == 0 { " checked" } else { "" };
        let _ = write!(
            users,
            r#"<label class="user"><input type="radio" name="user" value="{id}" data-testid="consent-user-{id}"{checked}><span class="who"><span class="name">{name}</span><span class="meta">{id} &middot; {email}</span></span></label>"#,
            name = escape(user.display_name),
            email = escape(user.email),
        );
    }
    let mut granted = String::from(
        "<li>View your Spotify account data: your name, username and profile picture</li>",
    );
    for scope in view.scopes {
        let text = scopes::description(scope).unwrap_or(scope);
        let _ = write!(
            granted,
            r#"<li data-scope="{scope}">{text}</li>"#,
            scope = escape(scope),
            text = escape(text)
        );
    }
    let body = format!(
        r#"<p class="brand">Spotify stand-in</p>
<h1 id="consent-title"><code>{client}</code> wants to access your account</h1>
<form method="post" action="/authorize/decision" aria-labelledby="consent-title" data-testid="consent-form">
<input type="hidden" name="request_id" value="{request_id}">
<fieldset><legend>Continue as</legend>
{users}
</fieldset>
<h2 id="scopes-title">This app will be able to</h2>
<ul aria-labelledby="scopes-title" data-testid="consent-scopes">{granted}</ul>
<p class="note">After you answer you will be sent back to <code>{redirect}</code>.</p>
<div class="actions">
<button type="submit" name="action" value="agree" class="primary" data-testid="consent-agree">Agree</button>
<button type="submit" name="action" value="cancel" data-testid="consent-cancel">Cancel</button>
</div>
</form>"#,
        request_id = escape(view.request_id),
        redirect = escape(view.redirect_uri),
    );
    document(StatusCode::OK, &format!("Authorize {client}"), &body)
}

/// An error the user sees instead of being sent back to the app.
pub(super) fn error(status: StatusCode, message: &str) -> Response {
    let body = format!(
        r#"<p class="brand">Spotify stand-in</p>
<h1>Something went wrong</h1>
<p class="error" role="alert" data-testid="authorize-error">{}</p>"#,
        escape(message)
    );
    document(status, "Error", &body)
}

fn document(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title} - Spotify stand-in</title>\n<style>{STYLE}</style>\n</head>\n\
         <body>\n<main>\n{body}\n</main>\n</body>\n</html>\n"
    );
    (status, security_headers(), Html(html)).into_response()
}

/// The page holds a live request id: keep it out of caches, referrers and frames.
fn security_headers() -> [(HeaderName, HeaderValue); 4] {
    [
        (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        (header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'"),
        ),
    ]
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }
}
