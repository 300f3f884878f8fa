//! Bearer authentication for every `/v1` route
//! ([Spotify: authorization](https://developer.spotify.com/documentation/web-api/concepts/authorization)).

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;

use super::ApiError;
use crate::users::{self, SeedUser};
use crate::StandIn;

pub(super) const NO_TOKEN: &str = "No token provided";
const INVALID_TOKEN: &str = "Invalid access token";
const EXPIRED_TOKEN: &str = "The access token expired";

/// The caller of a `/v1` route, proven by a live access token. Taking it as a handler argument is what makes a
/// route authenticated.
#[derive(Debug, Clone)]
pub(crate) struct Bearer {
    pub(crate) user: &'static SeedUser,
    scope: String,
}

impl Bearer {
    pub(crate) fn has_scope(&self, scope: &str) -> bool {
        self.scope
            .split_whitespace()
            .any(|granted| granted == scope)
    }

    /// `403 Insufficient client scope` unless the token was granted `scope`.
    pub(crate) fn require_scope(&self, scope: &str) -> Result<(), ApiError> {
        if self.has_scope(scope) {
            Ok(())
        } else {
            Err(ApiError::forbidden("Insufficient client scope"))
        }
    }
}

impl FromRequestParts<StandIn> for Bearer {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, stand_in: &StandIn) -> Result<Self, ApiError> {
        let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
            return Err(ApiError::unauthorized(NO_TOKEN));
        };
        let token = value
            .to_str()
            .ok()
            .and_then(|value| value.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim())
            .filter(|token| !token.is_empty())
            .ok_or_else(|| ApiError::bad_request("Only valid bearer authentication supported"))?;

        let inner = stand_in.lock();
        let access = inner
            .access_tokens
            .get(token)
            .ok_or_else(|| ApiError::unauthorized(INVALID_TOKEN))?;
        if inner.clock.now() >= access.expires_at {
            return Err(ApiError::unauthorized(EXPIRED_TOKEN));
        }
        let user = users::find(access.grant.user_id)
            .ok_or_else(|| ApiError::unauthorized(INVALID_TOKEN))?;
        Ok(Self {
            user,
            scope: access.grant.scope.clone(),
        })
    }
}
