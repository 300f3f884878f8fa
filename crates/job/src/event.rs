//! The Lambda's event: what an EventBridge Scheduler schedule (or `aws lambda invoke`) sends as its input.
//!
//! ```json
//! {"user": "alice.setlist", "playlist": "https://open.spotify.com/playlist/ZrCeNEzhBeYvSdNCpgG36s",
//!  "tracks_s3": {"bucket": "my-site-charts", "key": "weekly/latest.txt"},
//!  "name": "This Week's Chart", "description": "Updated every Monday", "dry_run": false}
//! ```
//!
//! Exactly one of `tracks` (an array of URIs or links) and `tracks_s3` (an object holding a JSON array, or text
//! with one URI or link per line, as `setlist-job publish --tracks` reads). Unknown fields are refused, so a typo
//! (`"dryrun": true`) never publishes by accident.

use serde::Deserialize;
use serde_json::Value;

use crate::input::{parse_track_list, references, Request};
use crate::Error;

/// Largest track-list object read from S3: 10,000 links with comments fit in well under 2 MiB.
pub const MAX_LIST_BYTES: i64 = 4 * 1024 * 1024;

/// Where a list is stored.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct S3Object {
    pub bucket: String,
    pub key: String,
}

/// One invocation's input.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublishEvent {
    pub user: String,
    pub playlist: String,
    #[serde(default)]
    pub tracks: Option<Vec<Value>>,
    #[serde(default)]
    pub tracks_s3: Option<S3Object>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub dry_run: bool,
    #[serde(default)]
    pub allow_empty: bool,
}

/// Where an event's tracks are.
#[derive(Debug, Clone, PartialEq)]
pub enum TrackSource {
    Inline(Vec<Value>),
    S3(S3Object),
}

impl PublishEvent {
    /// Reads an event; the error names what is wrong, never echoing a value.
    pub fn parse(value: Value) -> Result<(Self, TrackSource), Error> {
        let event: Self = serde_json::from_value(value).map_err(|error| {
            Error::Usage(format!(
                "the event is not a publish request ({error}); expected {{\"user\", \"playlist\", \"tracks\" or \
                 \"tracks_s3\": {{\"bucket\", \"key\"}}, \"name\"?, \"description\"?, \"dry_run\"?, \"allow_empty\"?}}"
            ))
        })?;
        let source = match (&event.tracks, &event.tracks_s3) {
            (Some(tracks), None) => TrackSource::Inline(tracks.clone()),
            (None, Some(object)) => TrackSource::S3(object.clone()),
            _ => return Err(Error::Usage("the event needs exactly one of \"tracks\" and \"tracks_s3\"".to_owned())),
        };
        Ok((event, source))
    }

    /// The publish request, with the tracks read from `source` (inline) or from the S3 object's `text`.
    pub fn request(self, tracks: Tracks) -> Result<Request, Error> {
        let tracks = match tracks {
            Tracks::Inline(values) => references(values.into_iter().map(|v| v.as_str().map(str::to_owned)).collect())?,
            Tracks::Text(text) => parse_track_list(&text)?,
        };
        Ok(Request {
            user: self.user,
            playlist: self.playlist,
            tracks,
            name: self.name,
            description: self.description,
            dry_run: self.dry_run,
            allow_empty: self.allow_empty,
        })
    }
}

/// The tracks of an event, once read.
#[derive(Debug, Clone, PartialEq)]
pub enum Tracks {
    Inline(Vec<Value>),
    Text(String),
}

/// Reads a track-list object (at most [`MAX_LIST_BYTES`], UTF-8).
pub async fn read_s3(client: &aws_sdk_s3::Client, object: &S3Object) -> Result<String, Error> {
    let name = format!("s3://{}/{}", object.bucket, object.key);
    let output = client
        .get_object()
        .bucket(&object.bucket)
        .key(&object.key)
        .send()
        .await
        .map_err(|error| Error::Read(format!("{name}: {}", aws_sdk_s3::error::DisplayErrorContext(&error))))?;
    if output.content_length().is_some_and(|length| length > MAX_LIST_BYTES) {
        return Err(Error::Read(format!("{name} is larger than {MAX_LIST_BYTES} bytes; is it a track list?")));
    }
    let bytes = output
        .body
        .collect()
        .await
        .map_err(|error| Error::Read(format!("{name}: the body could not be read: {error}")))?
        .into_bytes();
    String::from_utf8(bytes.to_vec()).map_err(|_| Error::Read(format!("{name} is not UTF-8 text")))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn events_take_one_source_and_nothing_unknown() {
        let (event, source) = PublishEvent::parse(json!({
            "user": "alice.setlist", "playlist": "ZrCeNEzhBeYvSdNCpgG36s",
            "tracks_s3": {"bucket": "b", "key": "weekly/latest.txt"}, "dry_run": true,
        }))
        .expect("valid");
        assert_eq!(source, TrackSource::S3(S3Object { bucket: "b".into(), key: "weekly/latest.txt".into() }));
        assert!(event.dry_run);
        let request = event.request(Tracks::Text("# chart\nspotify:track:4iV5W9uYEdYUVa79Axb7Rh\n".into())).expect("ok");
        assert_eq!(request.tracks.len(), 1);

        let (event, source) = PublishEvent::parse(json!({
            "user": "alice.setlist", "playlist": "ZrCeNEzhBeYvSdNCpgG36s", "tracks": ["4iV5W9uYEdYUVa79Axb7Rh"],
            "name": "Chart",
        }))
        .expect("valid");
        let TrackSource::Inline(values) = source else { panic!("inline") };
        let request = event.request(Tracks::Inline(values)).expect("ok");
        assert_eq!(request.name.as_deref(), Some("Chart"));

        for bad in [
            json!({"user": "u", "playlist": "p"}),
            json!({"user": "u", "playlist": "p", "tracks": [], "tracks_s3": {"bucket": "b", "key": "k"}}),
            json!({"user": "u", "playlist": "p", "tracks": [], "dryrun": true}),
            json!({"user": "u", "tracks": []}),
            json!("publish"),
        ] {
            let error = PublishEvent::parse(bad.clone()).expect_err("refused");
            assert!(matches!(error, Error::Usage(_)), "{bad}: {error}");
        }
        let (event, source) =
            PublishEvent::parse(json!({"user": "u", "playlist": "p", "tracks": [1, "spotify:album:x"]})).expect("shape");
        let TrackSource::Inline(values) = source else { panic!("inline") };
        let error = event.request(Tracks::Inline(values)).expect_err("bad entries");
        assert!(error.to_string().contains("entry 0: not a string"), "{error}");
    }
}
