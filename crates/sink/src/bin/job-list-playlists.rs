//! An example server-side job: reads one user's tokens from the store, refreshes them through the accounts service
//! when the access token has under 5 minutes left or Spotify answers `401` (writing the result back with the sink's
//! chain rule and compare-and-swap; falling back once to the previous version when the current refresh token is
//! refused), then lists the user's playlists. Proof that pushed credentials are usable.
//! `cargo run -p setlist-sink --bin job-list-playlists -- --user alice.setlist --store file:.setlist/run/tokens`
//! (with `cargo xtask run` up; `--store secretsmanager:PREFIX` reads AWS settings from the environment).

use std::process::ExitCode;
use std::time::Duration;

use serde_json::Value;
use setlist_core::AccessToken;
use setlist_sink::job::{credentials, Accounts, Obtained, WriteBack};
use setlist_sink::{Clock as _, SecretStore, StoreSpec, SystemClock};

const USAGE: &str = "\
usage: job-list-playlists [options]
  --user USER_ID              whose tokens to use (default alice.setlist, a stand-in user)
  --store file:DIR            where the sink keeps the tokens, one file per user (default file:.setlist/run/tokens)
  --store secretsmanager:PREFIX  one Secrets Manager secret per user, named PREFIX + user id (region,
                              credentials, AWS_ENDPOINT_URL from the environment)
  --accounts-base URL         accounts service (default http://127.0.0.1:8090; Spotify: https://accounts.spotify.com)
  --api-base URL              Web API root including /v1 (default http://127.0.0.1:8090/v1)
  --client-id ID              the app's client id for refreshing (default $SETLIST_CLIENT_ID, else setlist-dev)
  --help                      show this";

/// `GET /me/playlists` pages to follow at most (50 playlists each).
const MAX_PAGES: usize = 100;

#[derive(Debug, PartialEq, Eq)]
struct Args {
    user: String,
    store: StoreSpec,
    accounts_base: String,
    api_base: String,
    client_id: String,
}

fn parse_args(
    args: impl IntoIterator<Item = String>,
    env_client_id: Option<String>,
) -> Result<Option<Args>, String> {
    let mut parsed = Args {
        user: "alice.setlist".to_owned(),
        store: "file:.setlist/run/tokens".parse()?,
        accounts_base: "http://127.0.0.1:8090".to_owned(),
        api_base: "http://127.0.0.1:8090/v1".to_owned(),
        client_id: env_client_id
            .filter(|id| !id.is_empty())
            .unwrap_or_else(|| "setlist-dev".to_owned()),
    };
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => {
                (flag.to_owned(), Some(value.to_owned()))
            }
            _ => (arg, None),
        };
        let mut value = |name: &str| {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or(format!("{name} needs a value"))
        };
        match flag.as_str() {
            "--user" => parsed.user = value("--user")?,
            "--store" => parsed.store = value("--store")?.parse()?,
            "--accounts-base" => parsed.accounts_base = value("--accounts-base")?,
            "--api-base" => parsed.api_base = value("--api-base")?,
            "--client-id" => parsed.client_id = value("--client-id")?,
            "--help" | "-h" => return Ok(None),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    parsed.accounts_base = parsed.accounts_base.trim_end_matches('/').to_owned();
    parsed.api_base = parsed.api_base.trim_end_matches('/').to_owned();
    Ok(Some(parsed))
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args(
        std::env::args().skip(1),
        std::env::var("SETLIST_CLIENT_ID").ok(),
    ) {
        Ok(Some(args)) => args,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("job-list-playlists: {message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("job-list-playlists: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: &Args) -> Result<(), String> {
    let http = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(20))
        .build()
        .map_err(|error| format!("cannot start an HTTP client: {error}"))?;
    let store = args.store.open().await;
    let accounts = Accounts::new(&args.client_id, &args.accounts_base)?;
    let mut token = usable_access_token(args, &http, &accounts, store.as_ref(), false).await?;

    let me_url = format!("{}/me", args.api_base);
    let me = match get_json(&http, &me_url, &token).await {
        // Spotify refused the stored token before its time (revoked, or the clock was off): refresh once.
        Err(Get::Unauthorized(_)) => {
            token = usable_access_token(args, &http, &accounts, store.as_ref(), true).await?;
            get_json(&http, &me_url, &token).await
        }
        other => other,
    }
    .map_err(Get::into_message)?;
    let id = me.get("id").and_then(Value::as_str).unwrap_or("?");
    let name = me.get("display_name").and_then(Value::as_str).unwrap_or("");
    println!("user: {id} ({name})");

    let mut url = format!("{}/me/playlists?limit=50", args.api_base);
    let mut names = Vec::new();
    let mut total = None;
    for _ in 0..MAX_PAGES {
        let page = get_json(&http, &url, &token).await.map_err(Get::into_message)?;
        total = total.or_else(|| page.get("total").and_then(Value::as_u64));
        // Spotify may answer null entries; skip them rather than fail.
        let items = page.get("items").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
        names.extend(items.iter().filter_map(|item| item.get("name").and_then(Value::as_str)).map(str::to_owned));
        match page.get("next").and_then(Value::as_str) {
            Some(next) => url = next.to_owned(),
            None => break,
        }
    }
    println!("playlists: {}", total.unwrap_or(names.len() as u64));
    for name in names {
        println!("  {name}");
    }
    Ok(())
}

/// The stored access token, refreshed first when it has under 5 minutes left or `rejected`; says what happened.
async fn usable_access_token(
    args: &Args,
    http: &reqwest::Client,
    accounts: &Accounts,
    store: &dyn SecretStore,
    rejected: bool,
) -> Result<AccessToken, String> {
    let now = SystemClock.now();
    let got = credentials(store, http, accounts, &args.user, now, rejected).await.map_err(|error| error.to_string())?;
    let user = &args.user;
    let stored = |written: WriteBack| match written {
        WriteBack::Written { generation } => format!("stored as generation {generation}"),
        WriteBack::Unchanged { generation } => format!("the store kept generation {generation}"),
        WriteBack::KeptNewer { generation } => {
            format!("the store moved on to generation {generation} meanwhile and keeps that")
        }
    };
    match got.how {
        Obtained::Stored => println!(
            "tokens: {user}'s stored access token is good for {} more minutes",
            got.expires_at.saturating_sub(now) / 60
        ),
        Obtained::Refreshed(written) => println!("tokens: refreshed for {user}, {}", stored(written)),
        Obtained::FellBack(written) => println!(
            "tokens: {user}'s current refresh token was refused; the previous version's works: {}",
            stored(written)
        ),
    }
    Ok(got.access_token)
}

/// A Web API GET that failed.
enum Get {
    Unauthorized(String),
    Other(String),
}

impl Get {
    fn into_message(self) -> String {
        match self {
            Self::Unauthorized(message) | Self::Other(message) => message,
        }
    }
}

/// A Web API GET; non-2xx answers become sentences with Spotify's `error.message`.
async fn get_json(http: &reqwest::Client, url: &str, token: &AccessToken) -> Result<Value, Get> {
    let response = http
        .get(url)
        .bearer_auth(token.secret())
        .send()
        .await
        .map_err(|error| Get::Other(format!("cannot reach {url}: {}", error.without_url())))?;
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    let value: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    if status.is_success() {
        return Ok(value);
    }
    let message = value
        .pointer("/error/message")
        .and_then(Value::as_str)
        .unwrap_or("no message");
    Err(match status.as_u16() {
        401 => Get::Unauthorized(format!("GET {url} answered 401 ({message}): the access token was refused")),
        404 => Get::Other(format!(
            "GET {url} answered 404 ({message}): this Web API does not serve that route (a stand-in without \
             playlists?)"
        )),
        code => Get::Other(format!("GET {url} answered {code} ({message})")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_and_defaults() {
        let args = parse_args(Vec::<String>::new(), None)
            .expect("valid")
            .expect("run");
        assert_eq!(args.client_id, "setlist-dev");
        assert_eq!(args.api_base, "http://127.0.0.1:8090/v1");
        assert_eq!(args.user, "alice.setlist");
        let args = parse_args(
            ["--store=secretsmanager:s", "--api-base", "http://x/v1/"].map(str::to_owned),
            Some("from-env".to_owned()),
        )
        .expect("valid")
        .expect("run");
        assert_eq!(args.client_id, "from-env");
        assert_eq!(args.api_base, "http://x/v1");
        assert_eq!(args.store, StoreSpec::SecretsManager("s".to_owned()));
    }
}
