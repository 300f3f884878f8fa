//! The command line of `setlist-job`, parsed without touching anything (unit tested here).

use std::path::PathBuf;

use setlist_sink::StoreSpec;

/// `setlist-job --help`.
pub const USAGE: &str = "\
usage: setlist-job publish --user USER --playlist PLAYLIST --tracks FILE|- [options]
       setlist-job list --user USER [options]

publish: make PLAYLIST (an id, spotify:playlist: URI or open.spotify.com link, owned by USER) hold exactly the
tracks of FILE, in order, with as few Spotify calls as possible, then read it back to verify. FILE (- for stdin)
is a JSON array of strings, or text with one spotify:track:/spotify:episode: URI or open.spotify.com link per
line (blank lines and # comments ignored); at most 10,000 tracks.
  --name NAME                 also rename the playlist
  --description TEXT          also set its description (\"\" clears it)
  --dry-run                   read and print the plan; write nothing
  --allow-empty               let an empty list empty the playlist
  --json                      print the report as JSON

list: who USER's stored tokens belong to, and their playlists with ids.

options (both):
  --user USER_ID              whose stored tokens to use (a Spotify user id, e.g. alice.setlist)
  --store file:DIR            where the sink keeps tokens, one file per user (default file:.setlist/run/tokens)
  --store secretsmanager:PREFIX  one Secrets Manager secret per user, named PREFIX + user id (region,
                              credentials, AWS_ENDPOINT_URL from the environment)
  --accounts-base URL         accounts service (default http://127.0.0.1:8090; Spotify: https://accounts.spotify.com)
  --api-base URL              Web API root including /v1 (default http://127.0.0.1:8090/v1; Spotify:
                              https://api.spotify.com/v1)
  --client-id ID              the app's client id for refreshing (default $SETLIST_CLIENT_ID, else setlist-dev)
  --help                      show this

RUST_LOG sets the log level on stderr (default info); tokens never appear in the output.";

/// Where the job finds tokens and Spotify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Common {
    pub user: String,
    pub store: StoreSpec,
    pub accounts_base: String,
    pub api_base: String,
    pub client_id: String,
}

/// Where the track list comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tracks {
    File(PathBuf),
    Stdin,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishArgs {
    pub common: Common,
    pub playlist: String,
    pub tracks: Tracks,
    pub name: Option<String>,
    pub description: Option<String>,
    pub dry_run: bool,
    pub allow_empty: bool,
    pub json: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Publish(PublishArgs),
    List(Common),
    Help,
}

/// Parses the arguments after the program name. `env_client_id` is `$SETLIST_CLIENT_ID`.
pub fn parse(args: impl IntoIterator<Item = String>, env_client_id: Option<String>) -> Result<Command, String> {
    let mut args = args.into_iter();
    let command = match args.next().as_deref() {
        Some("publish") => "publish",
        Some("list") => "list",
        Some("--help" | "-h" | "help") | None => return Ok(Command::Help),
        Some(other) => return Err(format!("unknown command {other:?}: publish or list")),
    };
    let mut user = None;
    let mut common = Common {
        user: String::new(),
        store: "file:.setlist/run/tokens".parse()?,
        accounts_base: "http://127.0.0.1:8090".to_owned(),
        api_base: "http://127.0.0.1:8090/v1".to_owned(),
        client_id: env_client_id.filter(|id| !id.is_empty()).unwrap_or_else(|| "setlist-dev".to_owned()),
    };
    let (mut playlist, mut tracks, mut name, mut description) = (None, None, None, None);
    let (mut dry_run, mut allow_empty, mut json) = (false, false, false);
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => (flag.to_owned(), Some(value.to_owned())),
            _ => (arg, None),
        };
        let mut value = |name: &str| inline.clone().or_else(|| args.next()).ok_or(format!("{name} needs a value"));
        let publish_only = |flag: &str| {
            if command == "publish" {
                Ok(())
            } else {
                Err(format!("{flag} is for publish"))
            }
        };
        match flag.as_str() {
            "--user" => user = Some(value("--user")?),
            "--store" => common.store = value("--store")?.parse()?,
            "--accounts-base" => common.accounts_base = value("--accounts-base")?,
            "--api-base" => common.api_base = value("--api-base")?,
            "--client-id" => common.client_id = value("--client-id")?,
            "--playlist" => {
                publish_only("--playlist")?;
                playlist = Some(value("--playlist")?);
            }
            "--tracks" => {
                publish_only("--tracks")?;
                tracks = Some(match value("--tracks")?.as_str() {
                    "-" => Tracks::Stdin,
                    path => Tracks::File(PathBuf::from(path)),
                });
            }
            "--name" => {
                publish_only("--name")?;
                name = Some(value("--name")?);
            }
            "--description" => {
                publish_only("--description")?;
                description = Some(value("--description")?);
            }
            "--dry-run" => {
                publish_only("--dry-run")?;
                dry_run = true;
            }
            "--allow-empty" => {
                publish_only("--allow-empty")?;
                allow_empty = true;
            }
            "--json" => {
                publish_only("--json")?;
                json = true;
            }
            "--help" | "-h" => return Ok(Command::Help),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    common.user = user.ok_or("--user is required")?;
    common.accounts_base = common.accounts_base.trim_end_matches('/').to_owned();
    common.api_base = common.api_base.trim_end_matches('/').to_owned();
    if command == "list" {
        return Ok(Command::List(common));
    }
    Ok(Command::Publish(PublishArgs {
        common,
        playlist: playlist.ok_or("--playlist is required")?,
        tracks: tracks.ok_or("--tracks is required (a file, or - for stdin)")?,
        name,
        description,
        dry_run,
        allow_empty,
        json,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Vec<String> {
        line.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn publish_flags_and_defaults() {
        let Command::Publish(publish) =
            parse(args("publish --user alice.setlist --playlist ZrCeNEzhBeYvSdNCpgG36s --tracks - --dry-run"), None)
                .expect("valid")
        else {
            panic!("publish")
        };
        assert_eq!(publish.tracks, Tracks::Stdin);
        assert!(publish.dry_run && !publish.allow_empty && !publish.json);
        assert_eq!(publish.common.client_id, "setlist-dev");
        assert_eq!(publish.common.api_base, "http://127.0.0.1:8090/v1");
        assert_eq!(publish.common.store, StoreSpec::File(".setlist/run/tokens".into()));
        let Command::Publish(publish) = parse(
            args("publish --user=u --playlist p --tracks list.txt --store=secretsmanager:s/ --api-base http://x/v1/ --name N --json"),
            Some("from-env".to_owned()),
        )
        .expect("valid") else {
            panic!("publish")
        };
        assert_eq!(publish.tracks, Tracks::File("list.txt".into()));
        assert_eq!(publish.common.client_id, "from-env");
        assert_eq!(publish.common.api_base, "http://x/v1");
        assert_eq!(publish.common.store, StoreSpec::SecretsManager("s/".to_owned()));
        assert_eq!(publish.name.as_deref(), Some("N"));
        assert!(publish.json);
    }

    #[test]
    fn mistakes_are_named() {
        for (line, expected) in [
            ("publish --playlist p --tracks -", "--user is required"),
            ("publish --user u --tracks -", "--playlist is required"),
            ("publish --user u --playlist p", "--tracks is required"),
            ("list --user u --tracks -", "--tracks is for publish"),
            ("publish --user u --frobnicate", "unknown argument"),
            ("publish --user", "--user needs a value"),
            ("unpublish", "unknown command"),
            ("list --user u --store s3:x", "store must be"),
        ] {
            let error = parse(args(line), None).expect_err(line);
            assert!(error.contains(expected), "{line}: {error}");
        }
        assert_eq!(parse(args("list --user u"), None).map(|c| matches!(c, Command::List(_))), Ok(true));
        assert_eq!(parse(Vec::new(), None), Ok(Command::Help));
    }
}
