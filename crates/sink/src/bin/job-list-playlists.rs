//! An example server-side job: reads the tokens the sink stored, refreshes them through the accounts service when
//! the access token has under 5 minutes left (writing the result back with the sink's compare-and-swap rule), then
//! lists the user's playlists. Proof that pushed credentials are usable.
//! `cargo run -p setlist-sink --bin job-list-playlists -- --store file:.setlist/run/secret.json`
//! (with `cargo xtask run` up; `--store secretsmanager:ID` reads AWS settings from the environment).

use std::process::ExitCode;
use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;
use setlist_sink::{
    store_push, Clock as _, SecretStore, SecretString, StoreSpec, Stored, StoredRecord,
    SystemClock, TokenPush,
};

const USAGE: &str = "\
usage: job-list-playlists [options]
  --store file:PATH           where the sink keeps the tokens (default file:.setlist/run/secret.json)
  --store secretsmanager:ID   a Secrets Manager secret (region, credentials, AWS_ENDPOINT_URL from the environment)
  --accounts-base URL         accounts service (default http://127.0.0.1:8090; Spotify: https://accounts.spotify.com)
  --api-base URL              Web API root including /v1 (default http://127.0.0.1:8090/v1)
  --client-id ID              the app's client id for refreshing (default $SETLIST_CLIENT_ID, else setlist-dev)
  --help                      show this";

/// Refresh when the stored access token has less than this left.
const REFRESH_WHEN_SECS_LEFT: i64 = 5 * 60;
/// `GET /me/playlists` pages to follow at most (50 playlists each).
const MAX_PAGES: usize = 100;

#[derive(Debug, PartialEq, Eq)]
struct Args {
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
        store: "file:.setlist/run/secret.json".parse()?,
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
    let access_token = usable_access_token(args, &http, store.as_ref()).await?;

    let me = get_json(&http, &format!("{}/me", args.api_base), &access_token).await?;
    let id = me.get("id").and_then(Value::as_str).unwrap_or("?");
    let name = me.get("display_name").and_then(Value::as_str).unwrap_or("");
    println!("user: {id} ({name})");

    let mut url = format!("{}/me/playlists?limit=50", args.api_base);
    let mut names = Vec::new();
    let mut total = None;
    for _ in 0..MAX_PAGES {
        let page = get_json(&http, &url, &access_token).await?;
        total = total.or_else(|| page.get("total").and_then(Value::as_u64));
        // Spotify may answer null entries; skip them rather than fail.
        let items = page
            .get("items")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        names.extend(
            items
                .iter()
                .filter_map(|item| item.get("name").and_then(Value::as_str))
                .map(str::to_owned),
        );
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

/// The stored access token, refreshed first when it has under 5 minutes left.
async fn usable_access_token(
    args: &Args,
    http: &reqwest::Client,
    store: &dyn SecretStore,
) -> Result<SecretString, String> {
    let snapshot = store.read().await.map_err(|error| error.to_string())?;
    let Some(record) = snapshot.record else {
        return Err(
            "no tokens stored yet: sign in to Setlist so that the app pushes them".to_owned(),
        );
    };
    let now = SystemClock.now();
    let left = record.access_token_secs_left(now);
    if left >= REFRESH_WHEN_SECS_LEFT {
        println!(
            "tokens: generation {} for {}, access token good for {} more minutes",
            record.generation,
            record.user_id,
            left / 60
        );
        return Ok(record.access_token);
    }
    let push = refresh(args, http, &record, now).await?;
    let access_token = push.access_token.clone();
    match store_push(store, &push, &record.user_id, now).await {
        Ok(Stored::Written { generation, .. }) => {
            println!("tokens: refreshed for {}, stored as generation {generation}", record.user_id)
        }
        Ok(Stored::Unchanged { generation }) => {
            println!("tokens: refreshed for {}, store kept generation {generation}", record.user_id)
        }
        // Someone else wrote first (the app after its own refresh, or a sign-in). Our token still works for this
        // run; the store keeps theirs.
        Err(setlist_sink::Error::Conflict { generation }) => println!(
            "tokens: refreshed for {}, but the store moved on to generation {generation}; kept theirs",
            record.user_id
        ),
        Err(error) => return Err(format!("refreshed, but could not store the new tokens: {error}")),
    }
    Ok(access_token)
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: SecretString,
    expires_in: i64,
    #[serde(default)]
    scope: Option<String>,
    /// Absent unless the refresh token was rotated: keep the old one.
    #[serde(default)]
    refresh_token: Option<SecretString>,
}

/// `POST {accounts}/api/token` with `grant_type=refresh_token`
/// ([refreshing tokens](https://developer.spotify.com/documentation/web-api/tutorials/refreshing-tokens)), shaped
/// as the push the app would have sent: a successor of the stored refresh token.
async fn refresh(
    args: &Args,
    http: &reqwest::Client,
    record: &StoredRecord,
    now: i64,
) -> Result<TokenPush, String> {
    let url = format!("{}/api/token", args.accounts_base);
    let response = http
        .post(&url)
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", record.refresh_token.secret()),
            ("client_id", args.client_id.as_str()),
        ])
        .send()
        .await
        .map_err(|error| format!("cannot reach {url}: {}", error.without_url()))?;
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    if !status.is_success() {
        let answer: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
        let code = answer
            .get("error")
            .and_then(Value::as_str)
            .unwrap_or("unknown");
        let description = answer
            .get("error_description")
            .and_then(Value::as_str)
            .unwrap_or("");
        return Err(if code == "invalid_grant" {
            format!("the stored refresh token was refused ({code}: {description}): sign in to Setlist again")
        } else {
            format!(
                "refreshing at {url} failed: HTTP {} {code}: {description}",
                status.as_u16()
            )
        });
    }
    let answer: TokenAnswer = serde_json::from_str(&body).map_err(|error| {
        format!(
            "unreadable token answer from {url} (line {}, column {})",
            error.line(),
            error.column()
        )
    })?;
    let push = TokenPush {
        access_token: answer.access_token,
        expires_at: now.saturating_add(answer.expires_in),
        refresh_token: answer
            .refresh_token
            .unwrap_or_else(|| record.refresh_token.clone()),
        scope: answer.scope.unwrap_or_else(|| record.scope.clone()),
        authorized_at: record.authorized_at,
        prev_refresh_sha256: Some(record.rt_sha256.clone()),
    };
    push.validate(now)
        .map_err(|error| format!("unusable token answer from {url}: {error}"))?;
    Ok(push)
}

/// A Web API GET; non-2xx answers become sentences with Spotify's `error.message`.
async fn get_json(
    http: &reqwest::Client,
    url: &str,
    token: &SecretString,
) -> Result<Value, String> {
    let response = http
        .get(url)
        .bearer_auth(token.secret())
        .send()
        .await
        .map_err(|error| format!("cannot reach {url}: {}", error.without_url()))?;
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
        404 => format!(
            "GET {url} answered 404 ({message}): this Web API does not serve that route (a stand-in without \
             playlists?)"
        ),
        401 => format!("GET {url} answered 401 ({message}): the access token was refused"),
        code => format!("GET {url} answered {code} ({message})"),
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
