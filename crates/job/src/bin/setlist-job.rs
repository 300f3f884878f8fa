//! The server-side job on a workstation: `setlist-job publish` makes a playlist hold exactly a track list (fewest
//! Spotify calls, read back to verify), `setlist-job list` shows whose tokens the store holds and their playlists.
//! `cargo run -p setlist-job --bin setlist-job -- publish --user alice.setlist --playlist ZrCeNEzhBeYvSdNCpgG36s
//! --tracks chart.txt --dry-run` (with `cargo xtask run` up; `--store secretsmanager:PREFIX` reads AWS settings
//! from the environment). `--help` for everything.

use std::io::Read as _;
use std::process::ExitCode;
use std::sync::Arc;

use setlist_job::cli::{self, Command, Common, Tracks, USAGE};
use setlist_job::{list, parse_track_list, publish, Connection, Error, HttpTransport, PublishSpec, Request, Settings};

#[tokio::main]
async fn main() -> ExitCode {
    setlist_sink::init_logging();
    let command = match cli::parse(std::env::args().skip(1), std::env::var("SETLIST_CLIENT_ID").ok()) {
        Ok(command) => command,
        Err(message) => {
            eprintln!("setlist-job: {message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let outcome = match command {
        Command::Help => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Command::List(common) => run_list(common).await,
        Command::Publish(args) => run_publish(args).await,
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("setlist-job: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn connect(common: &Common) -> Result<Connection, Error> {
    let transport = HttpTransport::new()?;
    let http = transport.client().clone();
    let settings = Settings {
        user: common.user.clone(),
        store: common.store.open().await,
        client_id: common.client_id.clone(),
        accounts_base: common.accounts_base.clone(),
        api_base: common.api_base.clone(),
    };
    Connection::new(settings, Arc::new(transport), http)
}

async fn run_list(common: Common) -> Result<(), Error> {
    let mut connection = connect(&common).await?;
    let listing = list::list(&mut connection).await?;
    print!("{listing}");
    Ok(())
}

async fn run_publish(args: cli::PublishArgs) -> Result<(), Error> {
    // The list and the arguments are checked before the store or Spotify is touched.
    let text = match &args.tracks {
        Tracks::Stdin => {
            let mut text = String::new();
            std::io::stdin().read_to_string(&mut text).map_err(|error| Error::Read(format!("stdin: {error}")))?;
            text
        }
        Tracks::File(path) => std::fs::read_to_string(path).map_err(|error| Error::Read(format!("{}: {error}", path.display())))?,
    };
    let spec = PublishSpec::new(Request {
        user: args.common.user.clone(),
        playlist: args.playlist.clone(),
        tracks: parse_track_list(&text)?,
        name: args.name.clone(),
        description: args.description.clone(),
        dry_run: args.dry_run,
        allow_empty: args.allow_empty,
    })?;
    let mut connection = connect(&args.common).await?;
    let report = publish(&mut connection, spec).await?;
    if args.json {
        let json = serde_json::to_string_pretty(&report).map_err(|error| Error::Transport(error.to_string()))?;
        println!("{json}");
    } else {
        print!("{report}");
    }
    Ok(())
}
