//! `POST /api/token`: the code exchange and the refresh
//! ([Spotify: code with PKCE](https://developer.spotify.com/documentation/web-api/tutorials/code-pkce-flow),
//! [refreshing tokens](https://developer.spotify.com/documentation/web-api/tutorials/refreshing-tokens)).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use sha2::{Digest, Sha256};

use super::{no_store, AccountsError, Params};
use crate::state::{refresh_expired, Inner, CODE_LIFETIME_SECS};
use crate::StandIn;

pub(super) async fn token(
    State(stand_in): State<StandIn>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match answer(&stand_in, &headers, &body) {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

fn answer(stand_in: &StandIn, headers: &HeaderMap, body: &[u8]) -> Result<Response, AccountsError> {
    if !is_form(headers) {
        return Err(AccountsError::invalid_request(
            "Content-Type must be application/x-www-form-urlencoded",
        ));
    }
    let params = Params::parse(body);
    let mut inner = stand_in.lock();
    let response = match params.non_empty("grant_type") {
        Some("authorization_code") => exchange_code(&mut inner, &params)?,
        Some("refresh_token") => refresh(&mut inner, &params)?,
        Some(_) => {
            return Err(AccountsError::unsupported_grant_type(
                "grant_type must be authorization_code or refresh_token",
            ))
        }
        None => {
            return Err(AccountsError::unsupported_grant_type(
                "grant_type parameter is missing",
            ))
        }
    };
    Ok((no_store(), Json(response)).into_response())
}

fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|essence| {
            essence
                .trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

fn required<'a>(params: &'a Params, name: &str) -> Result<&'a str, AccountsError> {
    params
        .non_empty(name)
        .ok_or_else(|| AccountsError::invalid_request(format!("{name} parameter is missing")))
}

/// The client must be the registered one; a public PKCE client proves nothing more than its id.
fn registered_client<'a>(inner: &Inner, params: &'a Params) -> Result<&'a str, AccountsError> {
    let client_id = required(params, "client_id")?;
    if client_id != inner.client_id {
        return Err(AccountsError::invalid_client("Invalid client"));
    }
    Ok(client_id)
}

fn exchange_code(
    inner: &mut Inner,
    params: &Params,
) -> Result<crate::TokenResponse, AccountsError> {
    let code = required(params, "code")?;
    let redirect_uri = required(params, "redirect_uri")?;
    let verifier = required(params, "code_verifier")?;
    let client_id = registered_client(inner, params)?;

    // Presenting a code spends it, whatever happens next: a failed attempt cannot be retried with other guesses.
    let issued = inner
        .codes
        .remove(code)
        .ok_or_else(|| AccountsError::invalid_grant("Invalid authorization code"))?;
    if inner.clock.now() >= issued.issued_at.saturating_add(CODE_LIFETIME_SECS) {
        return Err(AccountsError::invalid_grant("Authorization code expired"));
    }
    if issued.grant.client_id != client_id {
        return Err(AccountsError::invalid_client("Invalid client"));
    }
    if issued.redirect_uri != redirect_uri {
        return Err(AccountsError::invalid_grant("Invalid redirect URI"));
    }
    if URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) != issued.code_challenge {
        return Err(AccountsError::invalid_grant("code_verifier was incorrect"));
    }
    Ok(inner.token_response(issued.grant, true))
}

fn refresh(inner: &mut Inner, params: &Params) -> Result<crate::TokenResponse, AccountsError> {
    let refresh_token = required(params, "refresh_token")?;
    let client_id = registered_client(inner, params)?;

    let grant = inner
        .refresh_tokens
        .get(refresh_token)
        .cloned()
        .ok_or_else(|| AccountsError::invalid_grant("Invalid refresh token"))?;
    if grant.client_id != client_id {
        return Err(AccountsError::invalid_client("Invalid client"));
    }
    if refresh_expired(&grant, inner.clock.now()) {
        return Err(AccountsError::invalid_grant("Refresh token expired"));
    }
    let rotate = inner.config.rotate_refresh_tokens;
    if rotate {
        inner.refresh_tokens.remove(refresh_token);
    }
    // A rotated token carries the original authorization time: rotation does not extend the six months.
    Ok(inner.token_response(grant, rotate))
}
