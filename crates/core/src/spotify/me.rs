//! Spotify Web API request builders and response models.

use http::Method;
use serde::{Deserialize, Deserializer, Serialize};

use crate::spotify::error::parse_api_error;
use crate::auth::oauth::describe_json_error;
use crate::spotify::request::ApiRequest;
use crate::sync::retry::Safety;
use crate::{ApiError, AppConfig};

/// `GET {api_base}/me`: the current user's profile.
///
/// See <https://developer.spotify.com/documentation/web-api/reference/get-current-users-profile>.
pub fn me_request(cfg: &AppConfig) -> ApiRequest {
    ApiRequest::new(cfg, Method::GET, "/me", Safety::Idempotent)
}

/// The current user's profile, tolerant of what Spotify leaves out: only `id` is required, unknown fields
/// are ignored, `images` may be absent or `null`.
///
/// See <https://developer.spotify.com/documentation/web-api/reference/get-current-users-profile>.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
pub struct Me {
    /// The Spotify user id (what the token push's allow-list holds).
    pub id: String,
    /// The name shown on the profile; absent or `null` for some accounts.
    #[serde(default)]
    pub display_name: Option<String>,
    /// Profile pictures, largest first; empty when the user has none.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub images: Vec<Image>,
}

/// An image Spotify hosts. Sizes are `null` for user-uploaded images of unknown size.
///
/// See <https://developer.spotify.com/documentation/web-api/reference/get-current-users-profile>.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
pub struct Image {
    /// The image's address.
    pub url: String,
    /// Height in pixels, if known.
    #[serde(default)]
    pub height: Option<u32>,
    /// Width in pixels, if known.
    #[serde(default)]
    pub width: Option<u32>,
}

fn null_as_empty<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(deserializer)?.unwrap_or_default())
}

/// Reads the answer to [`me_request`]. Non-2xx answers become the Web API error they carry
/// ([`parse_api_error`]); a 2xx body that is not a profile is an [`ApiError`] with the response's status and
/// a message naming the JSON problem by position.
pub fn parse_me(status: u16, body: &str) -> Result<Me, ApiError> {
    if !(200..300).contains(&status) {
        return Err(parse_api_error(status, body));
    }
    let unreadable = |detail: String| ApiError {
        status,
        message: format!("unreadable profile from Spotify: {detail}"),
    };
    let me: Me = serde_json::from_str(body).map_err(|e| unreadable(describe_json_error(&e)))?;
    if me.id.is_empty() {
        return Err(unreadable("`id` is empty".into()));
    }
    Ok(me)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AccessToken;
    use http::header::AUTHORIZATION;
    use proptest::prelude::*;

    fn config() -> AppConfig {
        AppConfig::from_json(
            r#"{
                "client_id": "c",
                "redirect_uri": "http://127.0.0.1:8080/callback",
                "accounts_base": "https://accounts.example",
                "api_base": "http://127.0.0.1:9000/v1/",
                "push_url": "/api/tokens",
                "scopes": []
            }"#,
        )
        .expect("valid config")
    }

    #[test]
    fn me_request_is_exact() {
        let request = me_request(&config()).authorize(&AccessToken::new("BQD-acc3ss".into()));
        assert_eq!(request.method(), Method::GET);
        assert_eq!(request.uri(), "http://127.0.0.1:9000/v1/me");
        assert_eq!(request.headers().len(), 1);
        assert_eq!(request.headers()[AUTHORIZATION], "Bearer BQD-acc3ss");
        assert_eq!(request.body(), "");
        let debug = format!("{request:?}");
        assert!(!debug.contains("acc3ss"), "{debug}");
    }

    #[test]
    fn parses_spotify_profile() {
        let body = r#"{
            "country": "SE",
            "display_name": "Ada",
            "email": "ada@example.com",
            "explicit_content": {"filter_enabled": false, "filter_locked": false},
            "external_urls": {"spotify": "https://open.spotify.com/user/ada"},
            "followers": {"href": null, "total": 3},
            "href": "https://api.spotify.com/v1/users/ada",
            "id": "ada",
            "images": [
                {"url": "https://i.scdn.co/image/a", "height": 300, "width": 300},
                {"url": "https://i.scdn.co/image/b", "height": null, "width": null}
            ],
            "product": "premium",
            "type": "user",
            "uri": "spotify:user:ada",
            "account_id": "1234"
        }"#;
        assert_eq!(
            parse_me(200, body),
            Ok(Me {
                id: "ada".into(),
                display_name: Some("Ada".into()),
                images: vec![
                    Image {
                        url: "https://i.scdn.co/image/a".into(),
                        height: Some(300),
                        width: Some(300)
                    },
                    Image {
                        url: "https://i.scdn.co/image/b".into(),
                        height: None,
                        width: None
                    },
                ],
            })
        );
    }

    #[test]
    fn tolerates_missing_fields() {
        let minimal = Me {
            id: "u".into(),
            display_name: None,
            images: vec![],
        };
        assert_eq!(parse_me(200, r#"{"id":"u"}"#), Ok(minimal.clone()));
        assert_eq!(
            parse_me(200, r#"{"id":"u","display_name":null,"images":null}"#),
            Ok(minimal.clone())
        );
        assert_eq!(
            parse_me(200, r#"{"id":"u","images":[{"url":"x"}]}"#).map(|m| m.images.len()),
            Ok(1)
        );
    }

    #[test]
    fn errors() {
        assert_eq!(
            parse_me(
                401,
                r#"{"error":{"status":401,"message":"The access token expired"}}"#
            ),
            Err(ApiError {
                status: 401,
                message: "The access token expired".into()
            })
        );
        let missing = parse_me(200, r#"{"display_name":"x"}"#).expect_err("error");
        assert_eq!(missing.status, 200);
        assert!(
            missing
                .message
                .starts_with("unreadable profile from Spotify: unexpected JSON shape"),
            "{}",
            missing.message
        );
        let empty = parse_me(200, r#"{"id":""}"#).expect_err("error");
        assert!(empty.message.contains("`id` is empty"));
        let garbage = parse_me(200, "<html>").expect_err("error");
        assert_eq!(
            garbage.message,
            "unreadable profile from Spotify: invalid JSON at line 1 column 1"
        );
    }

    proptest! {
        #[test]
        fn parse_me_never_panics(status in any::<u16>(), body in any::<String>()) {
            let _ = parse_me(status, &body);
        }
    }
}
