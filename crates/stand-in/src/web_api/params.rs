//! Query strings and JSON bodies, read by hand so that every malformed request gets Spotify's error shape (axum's
//! own extractors would answer plain-text 400s, 415s and 422s).

use std::collections::HashMap;

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use serde_json::{Map, Value};

use super::fields::Fields;
use super::ApiError;
use crate::catalog;

/// The query string as name to value (the last of repeated names wins). Never rejects.
#[derive(Debug, Default)]
pub(crate) struct Params(HashMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        Ok(Self(
            url::form_urlencoded::parse(query.as_bytes())
                .into_owned()
                .collect(),
        ))
    }
}

impl Params {
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// `limit`: `default` when absent, else an integer in `1..=max`, else `400 Invalid limit`.
    pub(crate) fn limit(&self, default: usize, max: usize) -> Result<usize, ApiError> {
        match self.get("limit") {
            None => Ok(default),
            Some(raw) => raw
                .trim()
                .parse::<usize>()
                .ok()
                .filter(|limit| (1..=max).contains(limit))
                .ok_or_else(|| ApiError::bad_request("Invalid limit")),
        }
    }

    /// `offset`: 0 when absent, else an integer in `0..=max`, else `400 Invalid offset`.
    pub(crate) fn offset(&self, max: usize) -> Result<usize, ApiError> {
        match self.get("offset") {
            None => Ok(0),
            Some(raw) => raw
                .trim()
                .parse::<usize>()
                .ok()
                .filter(|offset| *offset <= max)
                .ok_or_else(|| ApiError::bad_request("Invalid offset")),
        }
    }

    /// The `fields` filter, `None` when absent or empty.
    pub(crate) fn fields(&self) -> Result<Option<Fields>, ApiError> {
        match self.get("fields") {
            None => Ok(None),
            Some(raw) => Fields::parse(raw).map_err(|_| ApiError::bad_request("Invalid fields")),
        }
    }

    /// The parameters that `next`/`previous` links carry over: `&name=value` pairs.
    pub(crate) fn carried(&self, names: &[&str]) -> String {
        let mut out = String::new();
        for name in names {
            if let Some(value) = self.get(name) {
                out.push('&');
                out.push_str(name);
                out.push('=');
                out.extend(url::form_urlencoded::byte_serialize(value.as_bytes()));
            }
        }
        out
    }
}

/// A `{playlist_id}` path segment: 22 base62 characters, else `400 Invalid base62 id`.
#[derive(Debug)]
pub(crate) struct PlaylistId(pub(crate) String);

impl<S: Send + Sync> FromRequestParts<S> for PlaylistId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path(id) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::bad_request("Invalid base62 id"))?;
        if catalog::is_base62_id(&id) {
            Ok(Self(id))
        } else {
            Err(ApiError::bad_request("Invalid base62 id"))
        }
    }
}

/// A JSON object body. An empty body reads as `{}`; anything else that is not an object is a 400.
pub(crate) fn object(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(ApiError::bad_request("Error parsing JSON.")),
    }
}

/// An optional field of a body: absent is `None`; present with the wrong type is a 400, and so is `null`. The
/// reference types these fields as plain strings, booleans and integers (not `nullable`), and Spotify does not
/// document `null` as "leave unchanged", so a `null` is refused rather than read as absent: a client that sends
/// `"description": null` to clear a description learns it did not, instead of seeing a 200 that kept it.
pub(crate) fn opt_bool(body: &Map<String, Value>, name: &str) -> Result<Option<bool>, ApiError> {
    match body.get(name) {
        None => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(ApiError::bad_request(format!(
            "Invalid {name}: expected a boolean"
        ))),
    }
}

pub(crate) fn opt_string(
    body: &Map<String, Value>,
    name: &str,
) -> Result<Option<String>, ApiError> {
    match body.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(ApiError::bad_request(format!(
            "Invalid {name}: expected a string"
        ))),
    }
}

/// An optional non-negative integer field; negative, fractional, `null` or non-numbers are a 400 with `message`.
pub(crate) fn opt_index(
    body: &Map<String, Value>,
    name: &str,
    message: &'static str,
) -> Result<Option<usize>, ApiError> {
    match body.get(name) {
        None => Ok(None),
        Some(value) => value
            .as_u64()
            .and_then(|n| usize::try_from(n).ok())
            .map(Some)
            .ok_or_else(|| ApiError::bad_request(message)),
    }
}

/// A query parameter that must be a non-negative integer when present.
pub(crate) fn query_index(
    params: &Params,
    name: &str,
    message: &'static str,
) -> Result<Option<usize>, ApiError> {
    match params.get(name) {
        None => Ok(None),
        Some(raw) => raw
            .trim()
            .parse::<usize>()
            .map(Some)
            .map_err(|_| ApiError::bad_request(message)),
    }
}

/// A list of URIs: from the `uris` query parameter (comma separated) when present, which wins as on Spotify,
/// else from the body's `uris` array. `None` when neither has it. The body's `uris` must be an array of strings
/// even when the query's win: a request whose body breaks the reference's schema is refused, not half-read.
pub(crate) fn uris(
    params: &Params,
    body: &Map<String, Value>,
) -> Result<Option<Vec<String>>, ApiError> {
    let from_body = match body.get("uris") {
        None => None,
        Some(Value::Array(items)) => Some(
            items
                .iter()
                .map(|item| {
                    item.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| ApiError::bad_request("Invalid uris: expected strings"))
                })
                .collect::<Result<Vec<_>, _>>()?,
        ),
        Some(_) => return Err(ApiError::bad_request("Invalid uris: expected an array")),
    };
    if let Some(raw) = params.get("uris") {
        return Ok(Some(
            raw.split(',')
                .map(str::trim)
                .filter(|uri| !uri.is_empty())
                .map(str::to_owned)
                .collect(),
        ));
    }
    Ok(from_body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn params(query: &str) -> Params {
        Params(
            url::form_urlencoded::parse(query.as_bytes())
                .into_owned()
                .collect(),
        )
    }

    #[test]
    fn limits_and_offsets() {
        assert_eq!(params("").limit(20, 50).unwrap(), 20);
        assert_eq!(params("limit=50").limit(20, 50).unwrap(), 50);
        for bad in [
            "limit=0",
            "limit=51",
            "limit=-1",
            "limit=abc",
            "limit=",
            "limit=1.5",
        ] {
            assert!(params(bad).limit(20, 50).is_err(), "{bad}");
        }
        assert_eq!(params("offset=7").offset(100).unwrap(), 7);
        for bad in ["offset=-1", "offset=101", "offset=x"] {
            assert!(params(bad).offset(100).is_err(), "{bad}");
        }
    }

    #[test]
    fn uris_from_query_win() {
        let body = json!({"uris": ["spotify:track:b"]});
        let body = body.as_object().unwrap();
        let from_query = uris(&params("uris=spotify:track:a,%20spotify:track:c"), body).unwrap();
        assert_eq!(
            from_query,
            Some(vec![
                "spotify:track:a".to_owned(),
                "spotify:track:c".to_owned()
            ])
        );
        assert_eq!(
            uris(&params(""), body).unwrap(),
            Some(vec!["spotify:track:b".to_owned()])
        );
        // The query wins, but the body must still be well formed.
        let bad = json!({"uris": false});
        assert!(uris(&params("uris=spotify:track:a"), bad.as_object().unwrap()).is_err());
        assert!(uris(&params(""), json!({"uris": "x"}).as_object().unwrap()).is_err());
        assert!(uris(&params(""), json!({"uris": [1]}).as_object().unwrap()).is_err());
        assert_eq!(uris(&params(""), &Map::new()).unwrap(), None);
    }

    #[test]
    fn null_fields_are_refused_not_ignored() {
        let body = json!({"name": null, "public": null, "position": null, "uris": null});
        let body = body.as_object().unwrap();
        assert!(opt_string(body, "name").is_err());
        assert!(opt_bool(body, "public").is_err());
        assert!(opt_index(body, "position", "Index out of bounds").is_err());
        assert!(uris(&params(""), body).is_err());
        // Absent is still fine.
        assert_eq!(opt_string(body, "description").unwrap(), None);
        assert_eq!(opt_bool(body, "collaborative").unwrap(), None);
    }

    #[test]
    fn bodies_must_be_objects() {
        assert!(object(b"").unwrap().is_empty());
        assert!(object(b"  \n").unwrap().is_empty());
        assert!(object(b"[]").is_err());
        assert!(object(b"{").is_err());
        assert!(object(b"null").is_err());
        assert_eq!(object(br#"{"a":1}"#).unwrap()["a"], 1);
    }

    #[test]
    fn carried_parameters_are_encoded() {
        let p = params("fields=items(name)&market=GB");
        assert_eq!(
            p.carried(&["additional_types", "fields", "market"]),
            "&fields=items%28name%29&market=GB"
        );
    }
}
