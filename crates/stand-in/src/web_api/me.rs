//! `GET /v1/me` ([get current user's profile](https://developer.spotify.com/documentation/web-api/reference/get-current-users-profile)).

use axum::Json;
use serde_json::{json, Value};

use super::{ApiBase, Bearer};

/// The PrivateUserObject of the token's user. As on Spotify, `email` needs `user-read-email` and `country`,
/// `product` and `explicit_content` need `user-read-private`; without them those fields are absent.
pub(super) async fn me(auth: Bearer, ApiBase(base): ApiBase) -> Json<Value> {
    let user = auth.user;
    let mut body = json!({
        "id": user.id,
        "account_id": user.account_id,
        "display_name": user.display_name,
        "type": "user",
        "uri": format!("spotify:user:{}", user.id),
        "href": format!("{base}/users/{}", user.id),
        "external_urls": { "spotify": format!("https://open.spotify.com/user/{}", user.id) },
        "followers": { "href": null, "total": user.followers },
        "images": [],
    });
    if auth.has_scope("user-read-email") {
        body["email"] = json!(user.email);
    }
    if auth.has_scope("user-read-private") {
        body["country"] = json!(user.country);
        body["product"] = json!(user.product);
        body["explicit_content"] = json!({ "filter_enabled": false, "filter_locked": false });
    }
    Json(body)
}
