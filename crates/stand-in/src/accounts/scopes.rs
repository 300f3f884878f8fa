//! Spotify's scopes ([list of scopes](https://developer.spotify.com/documentation/web-api/concepts/scopes)).

/// Each scope with the sentence the consent page shows for it.
const SCOPES: &[(&str, &str)] = &[
    (
        "ugc-image-upload",
        "Upload images to personalise your profile or playlist cover",
    ),
    (
        "user-read-playback-state",
        "Read your currently playing content and Spotify Connect devices information",
    ),
    (
        "user-modify-playback-state",
        "Control Spotify on your devices",
    ),
    (
        "user-read-currently-playing",
        "Read your currently playing content",
    ),
    (
        "app-remote-control",
        "Communicate with the Spotify app on your device",
    ),
    (
        "streaming",
        "Play content and control playback on your other devices",
    ),
    ("playlist-read-private", "Access your private playlists"),
    (
        "playlist-read-collaborative",
        "Access your collaborative playlists",
    ),
    ("playlist-modify-private", "Manage your private playlists"),
    ("playlist-modify-public", "Manage your public playlists"),
    ("user-follow-modify", "Manage who you are following"),
    (
        "user-follow-read",
        "Access your followers and who you are following",
    ),
    (
        "user-read-playback-position",
        "Read your position in content you have played",
    ),
    ("user-top-read", "Read your top artists and content"),
    (
        "user-read-recently-played",
        "Access your recently played items",
    ),
    ("user-library-modify", "Manage your saved content"),
    ("user-library-read", "Access your saved content"),
    ("user-read-email", "Get your real email address"),
    ("user-read-private", "Access your subscription details"),
    (
        "user-personalized",
        "Get personalised recommendations based on your activity",
    ),
];

/// What the consent page says for `scope`, or `None` when Spotify has no such scope.
pub(super) fn description(scope: &str) -> Option<&'static str> {
    SCOPES
        .iter()
        .find(|(name, _)| *name == scope)
        .map(|(_, text)| *text)
}

/// Splits a space-separated `scope` parameter into distinct scopes in the order given. `Err` carries the first
/// scope Spotify does not know.
pub(super) fn parse(scope: &str) -> Result<Vec<&str>, &str> {
    let mut scopes: Vec<&str> = Vec::new();
    for name in scope.split_whitespace() {
        if description(name).is_none() {
            return Err(name);
        }
        if !scopes.contains(&name) {
            scopes.push(name);
        }
    }
    Ok(scopes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_known_scopes_without_duplicates() {
        assert_eq!(
            parse(" playlist-read-private  user-read-email playlist-read-private"),
            Ok(vec!["playlist-read-private", "user-read-email"])
        );
        assert_eq!(parse(""), Ok(vec![]));
    }

    #[test]
    fn rejects_unknown_scopes() {
        assert_eq!(parse("user-read-email playlist-read"), Err("playlist-read"));
        assert_eq!(parse("USER-READ-EMAIL"), Err("USER-READ-EMAIL"));
    }

    #[test]
    fn knows_all_twenty_spotify_scopes() {
        assert_eq!(SCOPES.len(), 20);
    }
}
