//! Typed Spotify identifiers: [`PlaylistId`], [`TrackUri`], [`SnapshotId`], [`UserId`], and
//! [`parse_uri_list`] for pasted text.
//!
//! Ids are accepted in every form a user meets them: a bare id, a `spotify:` URI, or an
//! `https://open.spotify.com/...` link (with or without an `intl-xx/` prefix and tracking query such as
//! `?si=...`). Every parser returns the one error type [`IdError`] and never panics.
//!
//! See <https://developer.spotify.com/documentation/web-api/concepts/spotify-uris-ids>.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a text is not the identifier that was asked for. Messages are sentences for the user and never
/// quote more than a short excerpt of the input.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// The text was empty or only whitespace.
    #[error("nothing to read: the text is empty")]
    Empty,
    /// Neither an id, a `spotify:` URI nor an open.spotify.com link.
    #[error("not a Spotify id, `spotify:` URI or open.spotify.com link")]
    Unrecognized,
    /// The part that should be a Spotify id is not 22 letters and digits.
    #[error("not a valid Spotify id: an id is 22 letters and digits")]
    InvalidId,
    /// A valid reference to something else, e.g. an album link pasted where a track was expected.
    #[error("expected a Spotify {expected}, got a {found}")]
    WrongKind {
        /// What the caller asked for, e.g. `track or episode`.
        expected: &'static str,
        /// What the text refers to, e.g. `album` (at most 20 characters of it).
        found: String,
    },
    /// A `spotify:local:` URI that is empty, too long or contains control characters.
    #[error("not a valid local-file URI")]
    InvalidLocal,
    /// A user id that is empty, too long or contains characters Spotify user ids do not have.
    #[error("not a valid Spotify user id")]
    InvalidUserId,
    /// A snapshot id that is empty, too long or not printable ASCII.
    #[error("not a valid playlist snapshot id")]
    InvalidSnapshot,
}

/// Spotify ids are base-62 and exactly this long.
const ID_LEN: usize = 22;
/// Longest accepted input of any kind; real links are far shorter, and this bounds the work per token.
const MAX_INPUT_LEN: usize = 2048;
/// Local-file URIs embed artist, album and title; Spotify caps each, so this is generous.
const MAX_LOCAL_LEN: usize = 1024;
const MAX_USER_ID_LEN: usize = 128;
const MAX_SNAPSHOT_LEN: usize = 512;

fn is_base62_id(s: &str) -> bool {
    s.len() == ID_LEN && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// A reference split into its kind (`None` for a bare id) and the rest, before any kind-specific check.
struct Reference<'a> {
    kind: Option<&'a str>,
    rest: &'a str,
}

/// Splits `spotify:KIND:REST` URIs and `https://open.spotify.com/(intl-xx/)(embed/)KIND/ID` links.
/// Anything else is returned as a bare reference for the caller to validate.
fn split_reference(input: &str) -> Result<Reference<'_>, IdError> {
    let s = input.trim();
    if s.is_empty() {
        return Err(IdError::Empty);
    }
    if s.len() > MAX_INPUT_LEN {
        return Err(IdError::Unrecognized);
    }
    if let Some(rest) = strip_prefix_ignore_case(s, "spotify:") {
        let (kind, rest) = rest.split_once(':').ok_or(IdError::Unrecognized)?;
        // Legacy playlist URIs name the owner: spotify:user:USER:playlist:ID.
        if kind == "user" {
            if let Some((_, id)) = rest.split_once(":playlist:") {
                return Ok(Reference {
                    kind: Some("playlist"),
                    rest: id,
                });
            }
        }
        return Ok(Reference {
            kind: Some(kind),
            rest,
        });
    }
    if let Some(path) = link_path(s) {
        let path = path
            .split(['?', '#'])
            .next()
            .unwrap_or_default()
            .trim_end_matches('/');
        let mut segments = path.split('/').filter(|seg| !seg.is_empty()).peekable();
        // Localized links look like /intl-de/track/ID or /intl-pt_BR/track/ID.
        if segments
            .peek()
            .is_some_and(|seg| strip_prefix_ignore_case(seg, "intl-").is_some())
        {
            segments.next();
        }
        if segments.peek() == Some(&"embed") {
            segments.next();
        }
        let kind = segments.next().ok_or(IdError::Unrecognized)?;
        // Legacy playlist links name the owner: /user/USER/playlist/ID.
        if kind == "user" {
            let user = segments.next().ok_or(IdError::Unrecognized)?;
            return match (segments.next(), segments.next(), segments.next()) {
                (None, _, _) => Ok(Reference {
                    kind: Some("user"),
                    rest: user,
                }),
                (Some("playlist"), Some(id), None) => Ok(Reference {
                    kind: Some("playlist"),
                    rest: id,
                }),
                _ => Err(IdError::Unrecognized),
            };
        }
        let id = segments.next().ok_or(IdError::Unrecognized)?;
        if segments.next().is_some() {
            return Err(IdError::Unrecognized);
        }
        return Ok(Reference {
            kind: Some(kind),
            rest: id,
        });
    }
    Ok(Reference {
        kind: None,
        rest: s,
    })
}

/// The path of an open.spotify.com link (scheme optional, host case-insensitive), or `None`.
fn link_path(s: &str) -> Option<&str> {
    let without_scheme = strip_prefix_ignore_case(s, "https://")
        .or_else(|| strip_prefix_ignore_case(s, "http://"))
        .unwrap_or(s);
    let (host, path) = match without_scheme.find(['/', '?', '#']) {
        Some(i) => without_scheme.split_at(i),
        None => (without_scheme, ""),
    };
    let host = host.strip_suffix(":443").unwrap_or(host);
    (host.eq_ignore_ascii_case("open.spotify.com") || host.eq_ignore_ascii_case("play.spotify.com"))
        .then_some(path)
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    // `get` rather than slicing: the prefix length may fall inside a multi-byte character.
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

/// A short, safe excerpt of a kind name for [`IdError::WrongKind`].
fn kind_excerpt(kind: &str) -> String {
    kind.chars().take(20).collect()
}

/// A Spotify playlist id (22 base-62 characters).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PlaylistId(String);

impl PlaylistId {
    /// Reads a bare id, `spotify:playlist:ID` (also the legacy `spotify:user:U:playlist:ID`) or an
    /// `https://open.spotify.com/(intl-xx/)playlist/ID?si=...` link.
    pub fn parse(input: &str) -> Result<Self, IdError> {
        let reference = split_reference(input)?;
        match reference.kind {
            None | Some("playlist") => {}
            Some(other) => {
                return Err(IdError::WrongKind {
                    expected: "playlist",
                    found: kind_excerpt(other),
                })
            }
        }
        if !is_base62_id(reference.rest) {
            return Err(if reference.kind.is_none() {
                IdError::Unrecognized
            } else {
                IdError::InvalidId
            });
        }
        Ok(Self(reference.rest.to_owned()))
    }

    /// The bare id, as used in `/playlists/{id}` paths.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `spotify:playlist:ID`.
    pub fn uri(&self) -> String {
        format!("spotify:playlist:{}", self.0)
    }

    /// `https://open.spotify.com/playlist/ID`, to open the playlist in Spotify.
    pub fn link(&self) -> String {
        format!("https://open.spotify.com/playlist/{}", self.0)
    }
}

/// What a [`TrackUri`] refers to. The playlist item endpoints accept track and episode URIs; local files
/// only ever come from Spotify and can be reordered but not added or removed through the Web API.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ItemKind {
    /// `spotify:track:ID`.
    Track,
    /// `spotify:episode:ID` (a podcast episode).
    Episode,
    /// `spotify:local:ARTIST:ALBUM:TITLE:SECONDS`, a file from the owner's computer.
    Local,
}

/// The URI of something a playlist can hold: a track, an episode or a local file.
///
/// One type for all three because a playlist's item list mixes them and Spotify's item endpoints take
/// them in the same `uris` arrays; [`TrackUri::kind`] tells them apart. Track and episode URIs are
/// canonical (`spotify:track:` + 22 base-62 characters); local-file URIs are kept verbatim, as Spotify
/// compares them as strings.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TrackUri(String);

const TRACK_PREFIX: &str = "spotify:track:";
const EPISODE_PREFIX: &str = "spotify:episode:";
const LOCAL_PREFIX: &str = "spotify:local:";

impl TrackUri {
    /// Reads a track, episode or local-file reference: a bare id (taken as a track), a `spotify:track:`,
    /// `spotify:episode:` or `spotify:local:` URI, or an `https://open.spotify.com/(intl-xx/)track/ID`
    /// (or `episode/ID`) link with any query.
    pub fn parse(input: &str) -> Result<Self, IdError> {
        let reference = split_reference(input)?;
        let kind = match reference.kind {
            None => {
                return if is_base62_id(reference.rest) {
                    Ok(Self::track(reference.rest))
                } else {
                    Err(IdError::Unrecognized)
                };
            }
            Some(kind) => kind,
        };
        match kind {
            "track" | "episode" => {
                if !is_base62_id(reference.rest) {
                    return Err(IdError::InvalidId);
                }
                Ok(if kind == "track" {
                    Self::track(reference.rest)
                } else {
                    Self(format!("{EPISODE_PREFIX}{}", reference.rest))
                })
            }
            // Local files have no link form; only the URI reaches here with this kind.
            "local" if strip_prefix_ignore_case(input.trim(), "spotify:").is_some() => {
                let rest = reference.rest;
                if rest.is_empty()
                    || rest.len() > MAX_LOCAL_LEN
                    || rest.chars().any(char::is_control)
                {
                    return Err(IdError::InvalidLocal);
                }
                Ok(Self(format!("{LOCAL_PREFIX}{rest}")))
            }
            other => Err(IdError::WrongKind {
                expected: "track or episode",
                found: kind_excerpt(other),
            }),
        }
    }

    fn track(id: &str) -> Self {
        Self(format!("{TRACK_PREFIX}{id}"))
    }

    /// The URI as Spotify's `uris` arrays take it.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Track, episode or local file.
    pub fn kind(&self) -> ItemKind {
        if self.0.starts_with(TRACK_PREFIX) {
            ItemKind::Track
        } else if self.0.starts_with(EPISODE_PREFIX) {
            ItemKind::Episode
        } else {
            ItemKind::Local
        }
    }

    /// Whether this is a local file, which the Web API can reorder but not add or remove.
    pub fn is_local(&self) -> bool {
        self.kind() == ItemKind::Local
    }

    /// The 22-character id of a track or episode; `None` for a local file.
    pub fn id(&self) -> Option<&str> {
        self.0
            .strip_prefix(TRACK_PREFIX)
            .or_else(|| self.0.strip_prefix(EPISODE_PREFIX))
    }

    /// `https://open.spotify.com/track/ID` (or `episode/ID`); `None` for a local file.
    pub fn link(&self) -> Option<String> {
        let kind = match self.kind() {
            ItemKind::Track => "track",
            ItemKind::Episode => "episode",
            ItemKind::Local => return None,
        };
        Some(format!("https://open.spotify.com/{kind}/{}", self.id()?))
    }
}

/// A playlist version, as returned by every playlist write and by `GET /playlists/{id}`. Opaque:
/// compared for equality only.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SnapshotId(String);

impl SnapshotId {
    /// Accepts 1 to 512 printable ASCII characters without spaces (Spotify's are base64-like).
    pub fn parse(input: &str) -> Result<Self, IdError> {
        if input.is_empty()
            || input.len() > MAX_SNAPSHOT_LEN
            || !input.bytes().all(|b| b.is_ascii_graphic())
        {
            return Err(IdError::InvalidSnapshot);
        }
        Ok(Self(input.to_owned()))
    }

    /// The snapshot id as Spotify sent it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A Spotify user id. Unlike other ids these are not base-62: old accounts have chosen user names
/// (`smedjan`), newer ones random lowercase strings, some numbers.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct UserId(String);

impl UserId {
    /// Reads a bare user id, `spotify:user:ID` or `https://open.spotify.com/user/ID`. A bare id may not
    /// contain whitespace, control characters or any of `: / ? #`, and is at most 128 bytes.
    pub fn parse(input: &str) -> Result<Self, IdError> {
        let reference = split_reference(input)?;
        match reference.kind {
            None | Some("user") => {}
            Some(other) => {
                return Err(IdError::WrongKind {
                    expected: "user",
                    found: kind_excerpt(other),
                })
            }
        }
        let id = reference.rest;
        if id.is_empty()
            || id.len() > MAX_USER_ID_LEN
            || id
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || matches!(c, ':' | '/' | '?' | '#'))
        {
            return Err(IdError::InvalidUserId);
        }
        Ok(Self(id.to_owned()))
    }

    /// The id as Spotify sends it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

macro_rules! string_conversions {
    ($($ty:ident),*) => {$(
        impl TryFrom<String> for $ty {
            type Error = IdError;

            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(&value)
            }
        }

        impl From<$ty> for String {
            fn from(value: $ty) -> Self {
                value.0
            }
        }

        impl std::str::FromStr for $ty {
            type Err = IdError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        // Ids are not secret; a Debug that shows the plain value keeps test failures readable.
        impl fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($ty), self.0)
            }
        }
    )*};
}

string_conversions!(PlaylistId, TrackUri, SnapshotId, UserId);

/// Reads pasted text: track or episode links, URIs or bare ids separated by whitespace, commas or
/// semicolons, in order, duplicates kept. Returns what was understood and, in order, every token that was
/// not (including local-file URIs, which Spotify does not let apps add). Surrounding quotes and angle
/// brackets are ignored, as they come with text copied from chats and mail.
pub fn parse_uri_list(text: &str) -> (Vec<TrackUri>, Vec<String>) {
    let mut uris = Vec::new();
    let mut rejected = Vec::new();
    let tokens = text
        .split(|c: char| c.is_whitespace() || c == ',' || c == ';')
        .map(|token| token.trim_matches(|c| matches!(c, '"' | '\'' | '<' | '>')))
        .filter(|token| !token.is_empty());
    for token in tokens {
        match TrackUri::parse(token) {
            Ok(uri) if !uri.is_local() => uris.push(uri),
            _ => rejected.push(token.to_owned()),
        }
    }
    (uris, rejected)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const ID: &str = "4iV5W9uYEdYUVa79Axb7Rh";
    const PL: &str = "37i9dQZF1DXcBWIGoYBM5M";

    fn track(id: &str) -> TrackUri {
        TrackUri::parse(id).expect("valid")
    }

    #[test]
    fn track_forms() {
        let want = format!("spotify:track:{ID}");
        for input in [
            ID.to_owned(),
            format!("  {ID}\n"),
            format!("spotify:track:{ID}"),
            format!("https://open.spotify.com/track/{ID}"),
            format!("https://open.spotify.com/track/{ID}?si=abc123&utm_source=copy-link"),
            format!("https://open.spotify.com/intl-de/track/{ID}?si=x"),
            format!("https://open.spotify.com/intl-pt_BR/track/{ID}"),
            format!("http://open.spotify.com/track/{ID}/"),
            format!("open.spotify.com/track/{ID}#t=10"),
            format!("HTTPS://OPEN.SPOTIFY.COM/track/{ID}"),
            format!("https://open.spotify.com/embed/track/{ID}"),
        ] {
            let uri = TrackUri::parse(&input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(uri.as_str(), want, "{input}");
            assert_eq!(uri.kind(), ItemKind::Track);
            assert_eq!(uri.id(), Some(ID));
        }
        assert_eq!(
            track(ID).link().as_deref(),
            Some("https://open.spotify.com/track/4iV5W9uYEdYUVa79Axb7Rh")
        );
    }

    #[test]
    fn episode_and_local() {
        let episode = TrackUri::parse("https://open.spotify.com/episode/512ojhOuo1ktJprKbVcKyQ?si=1")
            .expect("valid");
        assert_eq!(episode.as_str(), "spotify:episode:512ojhOuo1ktJprKbVcKyQ");
        assert_eq!(episode.kind(), ItemKind::Episode);
        assert!(!episode.is_local());

        let local = TrackUri::parse("spotify:local:Led+Zeppelin::Stairway+to+Heaven:482")
            .expect("valid");
        assert_eq!(local.kind(), ItemKind::Local);
        assert_eq!(local.id(), None);
        assert_eq!(local.link(), None);
        assert_eq!(
            TrackUri::parse("spotify:local:"),
            Err(IdError::InvalidLocal)
        );
        assert_eq!(
            TrackUri::parse("spotify:local:a\u{7}b"),
            Err(IdError::InvalidLocal)
        );
        // Only the URI form of local files exists.
        assert!(TrackUri::parse("https://open.spotify.com/local/abc").is_err());
    }

    #[test]
    fn track_errors() {
        let cases: &[(&str, IdError)] = &[
            ("", IdError::Empty),
            ("   ", IdError::Empty),
            ("hello", IdError::Unrecognized),
            ("4iV5W9uYEdYUVa79Axb7R", IdError::Unrecognized),
            ("spotify:track:4iV5W9uYEdYUVa79Axb7R!", IdError::InvalidId),
            ("spotify:track", IdError::Unrecognized),
            (
                "spotify:album:4aawyAB9vmqN3uQ7FjRGTy",
                IdError::WrongKind {
                    expected: "track or episode",
                    found: "album".into(),
                },
            ),
            (
                "https://open.spotify.com/playlist/37i9dQZF1DXcBWIGoYBM5M",
                IdError::WrongKind {
                    expected: "track or episode",
                    found: "playlist".into(),
                },
            ),
            ("https://open.spotify.com/", IdError::Unrecognized),
            ("https://open.spotify.com/track/", IdError::Unrecognized),
            (
                "https://open.spotify.com/track/4iV5W9uYEdYUVa79Axb7Rh/extra",
                IdError::Unrecognized,
            ),
            ("https://example.com/track/4iV5W9uYEdYUVa79Axb7Rh", IdError::Unrecognized),
            ("https://spotify.link/abc", IdError::Unrecognized),
        ];
        for (input, want) in cases {
            assert_eq!(TrackUri::parse(input).as_ref(), Err(want), "{input}");
        }
        assert_eq!(
            IdError::WrongKind {
                expected: "track or episode",
                found: "album".into()
            }
            .to_string(),
            "expected a Spotify track or episode, got a album"
        );
    }

    #[test]
    fn playlist_forms() {
        for input in [
            PL.to_owned(),
            format!("spotify:playlist:{PL}"),
            format!("spotify:user:spotify:playlist:{PL}"),
            format!("https://open.spotify.com/playlist/{PL}?si=abc"),
            format!("https://open.spotify.com/intl-fr/playlist/{PL}"),
            format!("https://open.spotify.com/user/spotify/playlist/{PL}"),
        ] {
            let id = PlaylistId::parse(&input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(id.as_str(), PL);
        }
        let id = PlaylistId::parse(PL).expect("valid");
        assert_eq!(id.uri(), format!("spotify:playlist:{PL}"));
        assert_eq!(id.link(), format!("https://open.spotify.com/playlist/{PL}"));
        assert_eq!(
            PlaylistId::parse(&format!("spotify:track:{ID}")),
            Err(IdError::WrongKind {
                expected: "playlist",
                found: "track".into()
            })
        );
        assert_eq!(
            PlaylistId::parse("spotify:playlist:short"),
            Err(IdError::InvalidId)
        );
    }

    #[test]
    fn user_and_snapshot() {
        for input in [
            "smedjan",
            "spotify:user:smedjan",
            "https://open.spotify.com/user/smedjan?si=1",
        ] {
            assert_eq!(
                UserId::parse(input).map(|u| u.to_string()),
                Ok("smedjan".into()),
                "{input}"
            );
        }
        assert_eq!(UserId::parse("a b"), Err(IdError::InvalidUserId));
        assert_eq!(
            UserId::parse(&"u".repeat(129)),
            Err(IdError::InvalidUserId)
        );
        assert!(UserId::parse("31l77y2al5ljpxwq6kmr6ajn7bxy").is_ok());

        let snapshot = SnapshotId::parse("AAAAB8C+jXvVHRq/L0bbs8aDPsZRw1bV").expect("valid");
        assert_eq!(snapshot.as_str(), "AAAAB8C+jXvVHRq/L0bbs8aDPsZRw1bV");
        assert_eq!(SnapshotId::parse(""), Err(IdError::InvalidSnapshot));
        assert_eq!(SnapshotId::parse("a b"), Err(IdError::InvalidSnapshot));
    }

    #[test]
    fn serde_round_trip_and_validation() {
        let uri = track(ID);
        let json = serde_json::to_string(&uri).expect("serializes");
        assert_eq!(json, format!("\"spotify:track:{ID}\""));
        assert_eq!(serde_json::from_str::<TrackUri>(&json).ok(), Some(uri));
        assert!(serde_json::from_str::<TrackUri>("\"spotify:album:x\"").is_err());
        assert!(serde_json::from_str::<PlaylistId>("\"nope\"").is_err());
        assert_eq!(
            format!("{:?}", PlaylistId::parse(PL).expect("valid")),
            format!("PlaylistId(\"{PL}\")")
        );
    }

    #[test]
    fn uri_list() {
        let text = format!(
            "https://open.spotify.com/track/{ID}?si=1\n\
             spotify:episode:512ojhOuo1ktJprKbVcKyQ, {ID};\"spotify:track:{ID}\"\n\
             <https://open.spotify.com/intl-es/track/1301WleyT98MSxVHPZCA6M>\n\
             nonsense spotify:album:4aawyAB9vmqN3uQ7FjRGTy spotify:local:a:b:c:1\n\n"
        );
        let (uris, rejected) = parse_uri_list(&text);
        let uris: Vec<&str> = uris.iter().map(TrackUri::as_str).collect();
        assert_eq!(
            uris,
            [
                "spotify:track:4iV5W9uYEdYUVa79Axb7Rh",
                "spotify:episode:512ojhOuo1ktJprKbVcKyQ",
                "spotify:track:4iV5W9uYEdYUVa79Axb7Rh",
                "spotify:track:4iV5W9uYEdYUVa79Axb7Rh",
                "spotify:track:1301WleyT98MSxVHPZCA6M",
            ]
        );
        assert_eq!(
            rejected,
            [
                "nonsense",
                "spotify:album:4aawyAB9vmqN3uQ7FjRGTy",
                "spotify:local:a:b:c:1"
            ]
        );
        assert_eq!(parse_uri_list(""), (vec![], vec![]));
        assert_eq!(parse_uri_list(" ,, ;\n"), (vec![], vec![]));
    }

    proptest! {
        #[test]
        fn parsers_never_panic(input in any::<String>()) {
            let _ = TrackUri::parse(&input);
            let _ = PlaylistId::parse(&input);
            let _ = UserId::parse(&input);
            let _ = SnapshotId::parse(&input);
            let (uris, rejected) = parse_uri_list(&input);
            prop_assert!(uris.len() + rejected.len() <= input.len());
        }

        #[test]
        fn link_like_inputs_never_panic(
            prefix in prop::sample::select(vec![
                "", "spotify:", "spotify:track:", "spotify:user:", "spotify:local:",
                "https://open.spotify.com/", "open.spotify.com/intl-", "https://open.spotify.com/user/",
                "HTTPS://open.spotify.com:443/embed/",
            ]),
            rest in "[a-zA-Z0-9:/?#é_-]{0,40}",
        ) {
            let input = format!("{prefix}{rest}");
            let _ = TrackUri::parse(&input);
            let _ = PlaylistId::parse(&input);
            let _ = UserId::parse(&input);
        }

        #[test]
        fn parsed_uris_round_trip(id in "[a-zA-Z0-9]{22}", episode in any::<bool>()) {
            let kind = if episode { "episode" } else { "track" };
            let uri = TrackUri::parse(&format!("https://open.spotify.com/{kind}/{id}?si=q"))
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(TrackUri::parse(uri.as_str()), Ok(uri.clone()));
            prop_assert_eq!(uri.id(), Some(id.as_str()));
        }
    }
}
