//! The token sink as a local server, for `cargo xtask run` and tests:
//! `cargo run -p setlist-sink --bin sink-local -- --port 8091 --store file:.setlist/run/tokens`.
//! Prints `sink listening on http://127.0.0.1:PORT` once it accepts connections; logs go to stderr (`RUST_LOG`).

use std::io::Write as _;
use std::process::ExitCode;
use std::sync::Arc;

use setlist_sink::{app, check_user_id, init_logging, Config, Policy, SinkState, StoreSpec, SystemClock};

const USAGE: &str = "\
usage: sink-local [options]
  --port N                  TCP port on 127.0.0.1 (default 8091; 0 picks a free one)
  --api-base URL            Web API root including /v1 (default http://127.0.0.1:8090/v1, the stand-in)
  --allow USER_ID           a Spotify user id allowed to push; repeatable
                            (default alice.setlist, bruno.setlist, chen.setlist: the stand-in's seeded users)
  --store file:DIR          keep tokens in a local directory, one file per user
                            (default file:.setlist/run/tokens)
  --store secretsmanager:PREFIX  one Secrets Manager secret per user, named PREFIX + user id (region,
                            credentials and AWS_ENDPOINT_URL from the environment)
  --sign-ins-per-hour N     sign-in writes allowed per user per hour (default 6)
  --help                    show this";

#[derive(Debug, PartialEq, Eq)]
struct Args {
    port: u16,
    config: Config,
    store: StoreSpec,
}

fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Option<Args>, String> {
    let mut port = 8091;
    let mut api_base = "http://127.0.0.1:8090/v1".to_owned();
    let mut allow = Vec::new();
    let mut store: StoreSpec = "file:.setlist/run/tokens".parse()?;
    let mut policy = Policy::default();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        // Both `--flag value` and `--flag=value`.
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
            "--port" => {
                port = value("--port")?
                    .parse()
                    .map_err(|_| "--port takes a number from 0 to 65535")?
            }
            "--api-base" => api_base = value("--api-base")?,
            "--allow" => allow.push(value("--allow")?),
            "--store" => store = value("--store")?.parse()?,
            "--sign-ins-per-hour" => {
                policy.sign_ins_per_hour = value("--sign-ins-per-hour")?
                    .parse()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or("--sign-ins-per-hour takes a number from 1")?
            }
            "--help" | "-h" => return Ok(None),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if allow.is_empty() {
        allow = ["alice.setlist", "bruno.setlist", "chen.setlist"]
            .map(str::to_owned)
            .to_vec();
    }
    for user in &allow {
        check_user_id(user)?;
    }
    Ok(Some(Args { port, config: Config { api_base, allow, policy }, store }))
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(Some(args)) => args,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("sink-local: {message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    init_logging();
    let store = args.store.open().await;
    let state = SinkState::new(args.config, store, Arc::new(SystemClock));
    let listener = match tokio::net::TcpListener::bind(("127.0.0.1", args.port)).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!(
                "sink-local: cannot listen on 127.0.0.1:{}: {error}",
                args.port
            );
            return ExitCode::FAILURE;
        }
    };
    let port = listener.local_addr().map_or(args.port, |addr| addr.port());
    println!("sink listening on http://127.0.0.1:{port}");
    // Whoever waits for the line above reads it through a pipe.
    let _ = std::io::stdout().flush();
    let served = axum::serve(listener, app(state))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await;
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("sink-local: {error}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Option<Args>, String> {
        parse_args(args.iter().map(|arg| (*arg).to_owned()))
    }

    #[test]
    fn defaults_match_the_one_command_run() {
        let args = parse(&[]).expect("valid").expect("run");
        assert_eq!(args.port, 8091);
        assert_eq!(args.config.api_base, "http://127.0.0.1:8090/v1");
        assert_eq!(args.config.allow.len(), 3);
        assert_eq!(args.store, StoreSpec::File(".setlist/run/tokens".into()));
        assert_eq!(args.config.policy, Policy::default());
    }

    #[test]
    fn flags_override() {
        let args = parse(&[
            "--port=0",
            "--allow",
            "alice.setlist",
            "--store",
            "secretsmanager:setlist/tokens/",
            "--sign-ins-per-hour=50",
            "--api-base",
            "https://api.spotify.com/v1",
        ])
        .expect("valid")
        .expect("run");
        assert_eq!(args.port, 0);
        assert_eq!(args.config.allow, vec!["alice.setlist".to_owned()]);
        assert_eq!(
            args.store,
            StoreSpec::SecretsManager("setlist/tokens/".to_owned())
        );
        assert_eq!(args.config.policy.sign_ins_per_hour, 50);
        assert!(parse(&["--store", "s3:x"]).is_err());
        assert!(parse(&["--allow", "../x"]).is_err());
        assert!(parse(&["--sign-ins-per-hour", "0"]).is_err());
        assert!(parse(&["--bogus"]).is_err());
        assert_eq!(parse(&["--help"]), Ok(None));
    }
}
