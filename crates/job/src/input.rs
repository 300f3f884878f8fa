//! What a publish is asked to do, checked before anything is sent: the track list (a JSON array, or text with one
//! track URI or open.spotify.com link per line), the playlist, and the optional new name and description.

use serde_json::Value;
use setlist_core::{ItemKind, PlaylistId, TrackUri};

use crate::Error;

/// Spotify's cap on a playlist's items.
/// See <https://developer.spotify.com/documentation/web-api/reference/add-items-to-playlist>.
pub const MAX_PLAYLIST_ITEMS: usize = 10_000;

/// Reads a track list. Text that starts with `[` is a JSON array of strings; anything else has one reference per
/// line, where blank lines, lines starting with `#` and the rest of a line after a whitespace-preceded ` #` are
/// ignored. A reference is a `spotify:track:`/`spotify:episode:` URI, an open.spotify.com track or episode link,
/// or a bare track id. Every entry that is not one is reported (with its line or index), not skipped: a publish
/// of a partly-read list would silently drop tracks from the playlist.
pub fn parse_track_list(text: &str) -> Result<Vec<TrackUri>, Error> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim_start().starts_with('[') {
        return parse_json_list(text);
    }
    let mut uris = Vec::new();
    let mut problems = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let reference = strip_comment(line).trim();
        if reference.is_empty() {
            continue;
        }
        match track(reference) {
            Ok(uri) => uris.push(uri),
            Err(why) => problems.push(format!("line {}: {}: {why}", index + 1, excerpt(reference))),
        }
    }
    if problems.is_empty() {
        Ok(uris)
    } else {
        Err(Error::TrackList { problems })
    }
}

/// A JSON array of reference strings.
pub fn parse_json_list(text: &str) -> Result<Vec<TrackUri>, Error> {
    let value: Value = serde_json::from_str(text).map_err(|error| Error::TrackList {
        problems: vec![format!("not a JSON array of strings: {error}")],
    })?;
    let Value::Array(entries) = value else {
        return Err(Error::TrackList { problems: vec!["not a JSON array of strings".to_owned()] });
    };
    let strings: Vec<Option<String>> =
        entries.into_iter().map(|entry| entry.as_str().map(str::to_owned)).collect();
    references(strings)
}

/// Parses references given one per entry (a JSON array, a Lambda event's `tracks`); `None` is an entry that is
/// not a string.
pub fn references(entries: Vec<Option<String>>) -> Result<Vec<TrackUri>, Error> {
    let mut uris = Vec::with_capacity(entries.len());
    let mut problems = Vec::new();
    for (index, entry) in entries.iter().enumerate() {
        match entry.as_deref().map(str::trim) {
            Some(reference) => match track(reference) {
                Ok(uri) => uris.push(uri),
                Err(why) => problems.push(format!("entry {index}: {}: {why}", excerpt(reference))),
            },
            None => problems.push(format!("entry {index}: not a string")),
        }
    }
    if problems.is_empty() {
        Ok(uris)
    } else {
        Err(Error::TrackList { problems })
    }
}

/// A line without its comment: `#` at the start, or after whitespace (a link's own `#t=10` fragment stays).
fn strip_comment(line: &str) -> &str {
    let bytes = line.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'#' && (i == 0 || bytes[i - 1].is_ascii_whitespace()) {
            return &line[..i];
        }
    }
    line
}

fn track(reference: &str) -> Result<TrackUri, String> {
    let uri = TrackUri::parse(reference).map_err(|error| error.to_string())?;
    if uri.kind() == ItemKind::Local {
        return Err("local files cannot be added to a playlist through the Web API".to_owned());
    }
    Ok(uri)
}

/// The reference as the operator wrote it, shortened: it came from their own file, and is no secret.
fn excerpt(reference: &str) -> String {
    let short: String = reference.chars().take(80).collect();
    if short.len() < reference.len() {
        format!("{short:?}...")
    } else {
        format!("{short:?}")
    }
}

/// One publish, checked: the list fits a playlist, the playlist reference parses, a new name is not blank.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublishSpec {
    /// The Spotify user whose stored credentials are used and who must own the playlist.
    pub user: String,
    pub playlist: PlaylistId,
    /// The playlist's whole new content, in order.
    pub tracks: Vec<TrackUri>,
    /// A new name, when it should change.
    pub name: Option<String>,
    /// A new description, when it should change (empty clears it).
    pub description: Option<String>,
    /// Read and plan only.
    pub dry_run: bool,
}

/// What a caller asks for, before the checks of [`PublishSpec::new`].
#[derive(Clone, Debug, Default)]
pub struct Request {
    pub user: String,
    pub playlist: String,
    pub tracks: Vec<TrackUri>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub dry_run: bool,
    /// An empty list empties the playlist only when this is set.
    pub allow_empty: bool,
}

impl PublishSpec {
    /// Checks `request`: every refusal here happens before any request to Spotify.
    pub fn new(request: Request) -> Result<Self, Error> {
        setlist_sink::check_user_id(&request.user).map_err(Error::User)?;
        let playlist = PlaylistId::parse(&request.playlist)
            .map_err(|source| Error::PlaylistReference { input: excerpt_plain(&request.playlist), source })?;
        if request.tracks.len() > MAX_PLAYLIST_ITEMS {
            return Err(Error::TooManyTracks { count: request.tracks.len(), max: MAX_PLAYLIST_ITEMS });
        }
        if request.tracks.is_empty() && !request.allow_empty {
            return Err(Error::EmptyList);
        }
        if let Some(local) = request.tracks.iter().find(|uri| uri.is_local()) {
            return Err(Error::TrackList {
                problems: vec![format!("{}: local files cannot be added through the Web API", local.as_str())],
            });
        }
        if request.name.as_deref().is_some_and(|name| name.trim().is_empty()) {
            return Err(Error::BlankName);
        }
        Ok(Self {
            user: request.user,
            playlist,
            tracks: request.tracks,
            name: request.name,
            description: request.description,
            dry_run: request.dry_run,
        })
    }
}

fn excerpt_plain(text: &str) -> String {
    text.chars().take(80).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "4iV5W9uYEdYUVa79Axb7Rh";
    const B: &str = "1301WleyT98MSxVHPZCA6M";

    #[test]
    fn text_lists_take_uris_links_and_comments() {
        let text = format!(
            "\u{feff}# this week's chart\n\nspotify:track:{A}\n  https://open.spotify.com/intl-de/track/{B}?si=x  \n\
             https://open.spotify.com/track/{A}#t=10 # the opener again\nspotify:episode:{B}\n   # indented comment\n"
        );
        let uris = parse_track_list(&text).expect("valid list");
        let got: Vec<&str> = uris.iter().map(TrackUri::as_str).collect();
        assert_eq!(
            got,
            [
                format!("spotify:track:{A}"),
                format!("spotify:track:{B}"),
                format!("spotify:track:{A}"),
                format!("spotify:episode:{B}"),
            ]
        );
    }

    #[test]
    fn json_lists_are_arrays_of_strings() {
        let uris = parse_track_list(&format!(r#" ["spotify:track:{A}", "https://open.spotify.com/track/{B}"]"#))
            .expect("valid");
        assert_eq!(uris.len(), 2);
        for bad in ["[1, 2]", "[\"spotify:track:x\"", "[{\"uri\": \"x\"}]"] {
            let error = parse_track_list(bad).expect_err(bad);
            assert!(matches!(error, Error::TrackList { .. }), "{bad}: {error}");
        }
    }

    #[test]
    fn every_bad_entry_is_reported_with_its_line() {
        let text = format!(
            "spotify:track:{A}\nspotify:album:{B}\nhttps://example.com/track/{A}\nspotify:local:a:b:c:1\nspotify:track:short\n"
        );
        let error = parse_track_list(&text).expect_err("bad lines");
        let Error::TrackList { problems } = &error else { panic!("{error}") };
        assert_eq!(problems.len(), 4, "{problems:?}");
        assert!(problems[0].starts_with("line 2:") && problems[0].contains("album"), "{problems:?}");
        assert!(problems[1].starts_with("line 3:"), "{problems:?}");
        assert!(problems[2].starts_with("line 4:") && problems[2].contains("local"), "{problems:?}");
        assert!(problems[3].starts_with("line 5:"), "{problems:?}");
        let message = error.to_string();
        assert!(message.contains("4 entries that are not") && message.contains("nothing was changed"), "{message}");
    }

    fn request(tracks: usize) -> Request {
        let uri = TrackUri::parse(A).expect("uri");
        Request {
            user: "alice.setlist".into(),
            playlist: "https://open.spotify.com/playlist/ZrCeNEzhBeYvSdNCpgG36s?si=1".into(),
            tracks: vec![uri; tracks],
            ..Request::default()
        }
    }

    #[test]
    fn specs_refuse_what_a_playlist_cannot_be() {
        let spec = PublishSpec::new(request(MAX_PLAYLIST_ITEMS)).expect("10,000 fit");
        assert_eq!(spec.playlist.as_str(), "ZrCeNEzhBeYvSdNCpgG36s");
        let error = PublishSpec::new(request(MAX_PLAYLIST_ITEMS + 1)).expect_err("too many");
        assert!(matches!(error, Error::TooManyTracks { count: 10_001, max: 10_000 }), "{error}");
        assert!(matches!(PublishSpec::new(request(0)), Err(Error::EmptyList)));
        assert!(PublishSpec::new(Request { allow_empty: true, ..request(0) }).is_ok());
        let error = PublishSpec::new(Request { playlist: "spotify:album:ZrCeNEzhBeYvSdNCpgG36s".into(), ..request(1) })
            .expect_err("album");
        assert!(matches!(error, Error::PlaylistReference { .. }), "{error}");
        assert!(matches!(PublishSpec::new(Request { name: Some(" ".into()), ..request(1) }), Err(Error::BlankName)));
        assert!(matches!(PublishSpec::new(Request { user: "../x".into(), ..request(1) }), Err(Error::User(_))));
        for error in [Error::EmptyList, Error::BlankName] {
            assert!(!error.wrote());
        }
    }
}
