//! Reading Web API answers.
//!
//! Bodies are read into `serde_json::Value` and picked apart by hand: a typed deserializer would reject a whole
//! page for one odd field, and Spotify's answers vary with `fields` filters, item types and age.
//!
//! serde_json rather than the browser's `JSON.parse` (issue 15, measured with `cargo xtask bench --quick -- --grep
//! "large playlist"`): items pages through `js_sys::JSON::parse` + `serde_wasm_bindgen::from_value` into the same
//! `Value` made the first visit 8.8 KiB brotli heavier (321.9 -> 330.7 KiB; serde_json stays for storage and the
//! other answers) and loaded 10,000 items no faster: cold 3929 ms, preflights cached 2154 ms, against 3917 and
//! 2194 ms (another run 4357 and 2587 ms) with serde_json; the load is bound by the network.

use serde_json::Value;

use super::error::parse_api_error;
use crate::auth::oauth::describe_json_error;
use crate::{ApiError, Image};

pub(super) fn object<'a>(value: &'a Value, key: &str) -> Option<&'a Value> {
    value.get(key).filter(|v| v.is_object())
}

pub(super) fn string(value: &Value, key: &str) -> Option<String> {
    value.get(key)?.as_str().map(str::to_owned)
}

pub(super) fn uint(value: &Value, key: &str) -> Option<u32> {
    value.get(key)?.as_u64().and_then(|n| u32::try_from(n).ok())
}

pub(super) fn boolean(value: &Value, key: &str) -> Option<bool> {
    value.get(key)?.as_bool()
}

pub(super) fn array<'a>(value: &'a Value, key: &str) -> &'a [Value] {
    value
        .get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

pub(super) fn images(value: &Value) -> Vec<Image> {
    array(value, "images")
        .iter()
        .filter_map(|image| {
            Some(Image {
                url: string(image, "url").filter(|url| !url.is_empty())?,
                height: uint(image, "height"),
                width: uint(image, "width"),
            })
        })
        .collect()
}

/// Spotify lists images largest first; the last is the cheapest thumbnail.
pub(super) fn smallest_image(value: &Value) -> Option<Image> {
    images(value).pop()
}

pub(super) fn joined_names(value: &Value, key: &str) -> String {
    array(value, key)
        .iter()
        .filter_map(|artist| string(artist, "name"))
        .filter(|name| !name.is_empty())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Checks the status and reads a JSON object; `what` names the answer in error messages.
pub(super) fn read_body(status: u16, body: &str, what: &str) -> Result<Value, ApiError> {
    if !(200..300).contains(&status) {
        return Err(parse_api_error(status, body));
    }
    let value: Value = serde_json::from_str(body).map_err(|e| ApiError {
        status,
        message: format!("unreadable {what} from Spotify: {}", describe_json_error(&e)),
    })?;
    if !value.is_object() {
        return Err(ApiError {
            status,
            message: format!("unreadable {what} from Spotify: the body is not a JSON object"),
        });
    }
    Ok(value)
}
