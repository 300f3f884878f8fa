//! The Spotify stand-in as a local server, for `cargo xtask run` and tests:
//! `cargo run -p setlist-stand-in -- --port 8090 --control`. Prints `stand-in listening on http://HOST:PORT` once
//! it accepts connections; logs go to stderr (`RUST_LOG` filters them).

use std::io::Write as _;
use std::process::ExitCode;

use setlist_stand_in::{app, Options, StandIn};

// Each page of 50 entries is built as a few thousand small JSON values and freed again; glibc's malloc made that
// most of the stand-in's time per page (perf: malloc/free/consolidate ~45%). mimalloc keeps it cheap.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const USAGE: &str = "\
usage: setlist-stand-in [options]
  --port N                TCP port (default 8090; 0 picks a free one)
  --host HOST             address to bind (default 127.0.0.1)
  --client-id ID          the registered client id (default setlist-dev)
  --redirect-uri URI      a registered redirect URI; repeatable (default http://127.0.0.1:8080/callback)
  --control               mount the /__control/ API
  --token-lifetime SECS   access-token lifetime (default 3600)
  --rotate                rotate refresh tokens on every refresh
  --latency-ms MS         wait this long before answering each Web API request (default 0)
  --help                  show this";

#[derive(Debug, PartialEq, Eq)]
struct Args {
    host: String,
    port: u16,
    options: Options,
}

#[derive(Debug, PartialEq, Eq)]
enum Parsed {
    Run(Args),
    Help,
}

fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Parsed, String> {
    let mut host = "127.0.0.1".to_owned();
    let mut port = 8090;
    let mut options = Options::default();
    let mut redirect_uris = Vec::new();
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
            "--host" => host = value("--host")?,
            "--client-id" => options.client_id = value("--client-id")?,
            "--redirect-uri" => redirect_uris.push(value("--redirect-uri")?),
            "--token-lifetime" => {
                options.access_token_lifetime_secs = value("--token-lifetime")?
                    .parse()
                    .map_err(|_| "--token-lifetime takes whole seconds")?;
            }
            "--latency-ms" => {
                options.latency_ms = value("--latency-ms")?
                    .parse()
                    .map_err(|_| "--latency-ms takes whole milliseconds")?;
            }
            "--control" if inline.is_none() => options.control = true,
            "--rotate" if inline.is_none() => options.rotate_refresh_tokens = true,
            "--help" | "-h" => return Ok(Parsed::Help),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if !redirect_uris.is_empty() {
        options.redirect_uris = redirect_uris;
    }
    Ok(Parsed::Run(Args {
        host,
        port,
        options,
    }))
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("setlist_stand_in=info")),
        )
        .init();

    let args = match parse_args(std::env::args().skip(1)) {
        Ok(Parsed::Run(args)) => args,
        Ok(Parsed::Help) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("setlist-stand-in: {message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };

    let listener = match tokio::net::TcpListener::bind((args.host.as_str(), args.port)).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!(
                "setlist-stand-in: cannot listen on {}:{}: {error}",
                args.host, args.port
            );
            return ExitCode::FAILURE;
        }
    };
    // With --port 0 the real port is only known now; whoever started us reads it from this line.
    let port = listener
        .local_addr()
        .map(|addr| addr.port())
        .unwrap_or(args.port);
    let host = if args.host.contains(':') && !args.host.starts_with('[') {
        format!("[{}]", args.host)
    } else {
        args.host.clone()
    };
    println!("stand-in listening on http://{host}:{port}");
    let _ = std::io::stdout().flush();

    let router = app(StandIn::new(args.options));
    if let Err(error) = axum::serve(listener, router)
        .with_graceful_shutdown(shutdown())
        .await
    {
        eprintln!("setlist-stand-in: {error}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

/// Ctrl-C, or SIGTERM from whoever started us.
async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Parsed, String> {
        parse_args(args.iter().map(|arg| (*arg).to_owned()))
    }

    #[test]
    fn defaults() {
        let Ok(Parsed::Run(args)) = parse(&[]) else {
            panic!("defaults should parse")
        };
        assert_eq!(args.host, "127.0.0.1");
        assert_eq!(args.port, 8090);
        assert_eq!(args.options, Options::default());
    }

    #[test]
    fn every_flag() {
        let parsed = parse(&[
            "--port",
            "0",
            "--host=0.0.0.0",
            "--client-id",
            "abc",
            "--redirect-uri",
            "http://127.0.0.1:1/a",
            "--redirect-uri=http://127.0.0.1:2/b",
            "--control",
            "--token-lifetime",
            "60",
            "--rotate",
            "--latency-ms=25",
        ]);
        let Ok(Parsed::Run(args)) = parsed else {
            panic!("{parsed:?}")
        };
        assert_eq!(args.port, 0);
        assert_eq!(args.host, "0.0.0.0");
        assert_eq!(
            args.options,
            Options {
                client_id: "abc".to_owned(),
                redirect_uris: vec![
                    "http://127.0.0.1:1/a".to_owned(),
                    "http://127.0.0.1:2/b".to_owned()
                ],
                control: true,
                access_token_lifetime_secs: 60,
                rotate_refresh_tokens: true,
                latency_ms: 25,
            }
        );
    }

    #[test]
    fn rejects_bad_input() {
        assert!(parse(&["--port"]).is_err());
        assert!(parse(&["--port", "70000"]).is_err());
        assert!(parse(&["--token-lifetime", "-1"]).is_err());
        assert!(parse(&["--latency-ms", "soon"]).is_err());
        assert!(parse(&["--verbose"]).is_err());
        assert!(parse(&["--control=yes"]).is_err());
        assert_eq!(parse(&["--help"]), Ok(Parsed::Help));
    }
}
