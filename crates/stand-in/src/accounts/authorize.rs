//! `GET /authorize` and the consent form's `POST /authorize/decision`.
//!
//! As on Spotify, a request that cannot be trusted to redirect (unknown client, redirect URI not registered
//! exactly) gets an error page and is never redirected; every other problem is sent back to the app as
//! `error=...` on the redirect URI ([RFC 6749 section 4.1.2.1](https://www.rfc-editor.org/rfc/rfc6749#section-4.1.2.1)).

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use url::form_urlencoded;

use super::{page, scopes, Params};
use crate::state::{
    random_token, AuthorizationCode, Grant, PendingAuthorization, PENDING_LIFETIME_SECS,
};
use crate::{users, StandIn};

const STALE_REQUEST: &str = "This sign-in request has expired or was already answered. Go back to the app and sign in again.";

pub(super) async fn authorize(
    State(stand_in): State<StandIn>,
    RawQuery(query): RawQuery,
) -> Response {
    let params = Params::parse(query.as_deref().unwrap_or_default().as_bytes());
    let mut inner = stand_in.lock();

    let client_id = inner.client_id.clone();
    if params.get("client_id") != Some(client_id.as_str()) {
        return page::error(StatusCode::BAD_REQUEST, "INVALID_CLIENT: Invalid client");
    }
    let Some(redirect_uri) = params
        .get("redirect_uri")
        .filter(|uri| inner.redirect_uris.iter().any(|known| known == uri))
    else {
        return page::error(
            StatusCode::BAD_REQUEST,
            "INVALID_CLIENT: Invalid redirect URI",
        );
    };
    let state = params.non_empty("state");

    if params.get("response_type") != Some("code") {
        return redirect(
            redirect_uri,
            &[("error", "unsupported_response_type")],
            state,
        );
    }
    let code_challenge = match (
        params.get("code_challenge_method"),
        params.get("code_challenge"),
    ) {
        (Some("S256"), Some(challenge)) if is_s256_challenge(challenge) => challenge,
        _ => return redirect(redirect_uri, &[("error", "invalid_request")], state),
    };
    let Ok(scopes) = scopes::parse(params.get("scope").unwrap_or_default()) else {
        return redirect(redirect_uri, &[("error", "invalid_scope")], state);
    };

    let request_id = random_token();
    let created_at = inner.clock.now();
    inner.pending.insert(
        request_id.clone(),
        PendingAuthorization {
            client_id: client_id.clone(),
            redirect_uri: redirect_uri.to_owned(),
            code_challenge: code_challenge.to_owned(),
            scope: scopes.join(" "),
            state: state.map(str::to_owned),
            created_at,
        },
    );
    page::consent(&page::Consent {
        request_id: &request_id,
        client_id: &client_id,
        redirect_uri,
        scopes: &scopes,
    })
}

pub(super) async fn decide(State(stand_in): State<StandIn>, body: Bytes) -> Response {
    let form = Params::parse(&body);
    let mut inner = stand_in.lock();
    let now = inner.clock.now();

    let Some(request_id) = form.get("request_id") else {
        return page::error(StatusCode::BAD_REQUEST, STALE_REQUEST);
    };
    // Taken out now so that an answer is used once; put back only when the form itself was incomplete.
    let Some(pending) = inner.pending.remove(request_id) else {
        return page::error(StatusCode::BAD_REQUEST, STALE_REQUEST);
    };
    if now >= pending.created_at.saturating_add(PENDING_LIFETIME_SECS) {
        return page::error(StatusCode::BAD_REQUEST, STALE_REQUEST);
    }
    let state = pending.state.as_deref();

    match form.get("action") {
        Some("agree") => {
            let Some(user) = form.get("user").and_then(users::find) else {
                inner.pending.insert(request_id.to_owned(), pending);
                return page::error(
                    StatusCode::BAD_REQUEST,
                    "Choose an account to continue, then select Agree.",
                );
            };
            let code = random_token();
            let response = redirect(&pending.redirect_uri, &[("code", &code)], state);
            inner.codes.insert(
                code,
                AuthorizationCode {
                    redirect_uri: pending.redirect_uri.clone(),
                    code_challenge: pending.code_challenge.clone(),
                    issued_at: now,
                    grant: Grant {
                        user_id: user.id,
                        client_id: pending.client_id.clone(),
                        scope: pending.scope.clone(),
                        authorized_at: now,
                    },
                },
            );
            response
        }
        Some("cancel") => redirect(&pending.redirect_uri, &[("error", "access_denied")], state),
        _ => {
            inner.pending.insert(request_id.to_owned(), pending);
            page::error(StatusCode::BAD_REQUEST, "Select Agree or Cancel.")
        }
    }
}

/// An S256 challenge is base64url(SHA-256(verifier)) without padding: exactly 43 characters.
fn is_s256_challenge(challenge: &str) -> bool {
    challenge.len() == 43
        && challenge
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
}

/// `302` to a registered `uri` with `pairs` (and `state`, when the app sent one) added to its query.
fn redirect(uri: &str, pairs: &[(&str, &str)], state: Option<&str>) -> Response {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (name, value) in pairs {
        query.append_pair(name, value);
    }
    if let Some(state) = state {
        query.append_pair("state", state);
    }
    let separator = if uri.contains('?') { '&' } else { '?' };
    match HeaderValue::try_from(format!("{uri}{separator}{}", query.finish())) {
        Ok(location) => (StatusCode::FOUND, [(header::LOCATION, location)]).into_response(),
        // Only a registered URI gets here, so this means the stand-in was started with a broken one.
        Err(_) => page::error(
            StatusCode::BAD_REQUEST,
            "INVALID_CLIENT: Invalid redirect URI",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s256_challenges_are_43_base64url_characters() {
        assert!(is_s256_challenge(
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        ));
        assert!(!is_s256_challenge(
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-c"
        ));
        assert!(!is_s256_challenge(
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw+cM"
        ));
        assert!(!is_s256_challenge(
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM="
        ));
    }

    #[test]
    fn redirect_appends_to_an_existing_query_and_encodes_state() {
        let response = redirect(
            "http://127.0.0.1:8080/cb?x=1",
            &[("error", "access_denied")],
            Some("a b&c"),
        );
        assert_eq!(response.status(), StatusCode::FOUND);
        let location = response
            .headers()
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok());
        assert_eq!(
            location,
            Some("http://127.0.0.1:8080/cb?x=1&error=access_denied&state=a+b%26c")
        );
    }
}
