//! Running commands and the long-lived services (stand-in, Trunk) that the tasks start and always stop.

use std::ffi::OsStr;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::Result;

/// Runs `cmd` to completion with inherited stdio; an error names the command that failed.
pub(crate) fn run(cmd: &mut Command) -> Result<()> {
    let shown = describe(cmd);
    eprintln!("xtask: $ {shown}");
    let status = cmd.status().map_err(|e| format!("could not start `{shown}`: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{shown}` failed ({status})"))
    }
}

/// Runs `cmd` quietly and returns its stdout, or None if it cannot start or fails.
pub(crate) fn output(cmd: &mut Command) -> Option<String> {
    let out = cmd.stderr(Stdio::null()).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

pub(crate) fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

/// A background process in its own process group. Dropping it stops the whole group (Trunk spawns cargo and
/// wasm-bindgen; killing only Trunk would orphan them).
pub(crate) struct Service {
    name: String,
    child: Child,
}

impl Service {
    pub(crate) fn start(name: &str, cmd: &mut Command) -> Result<Self> {
        let shown = describe(cmd);
        eprintln!("xtask: starting {name}: {shown}");
        let child = cmd
            .process_group(0)
            .stdin(Stdio::null())
            .spawn()
            .map_err(|e| format!("could not start {name} (`{shown}`): {e}"))?;
        Ok(Self { name: name.to_owned(), child })
    }

    /// Fails if the process already exited (a crash at start-up should not look like a slow start).
    pub(crate) fn check_alive(&mut self) -> Result<()> {
        match self.child.try_wait() {
            Ok(Some(status)) => Err(format!("{} exited early ({status})", self.name)),
            _ => Ok(()),
        }
    }

    /// Polls `url` until it answers 200 and the body contains `needle`, the service dies, or `timeout` passes.
    pub(crate) fn wait_ready(&mut self, url: &str, needle: &str, timeout: Duration) -> Result<()> {
        let start = Instant::now();
        loop {
            self.check_alive()?;
            if let Ok((200, body)) = http_get(url) {
                if body.contains(needle) {
                    eprintln!("xtask: {} ready after {:.1}s", self.name, start.elapsed().as_secs_f64());
                    return Ok(());
                }
            }
            if start.elapsed() > timeout {
                return Err(format!("{} did not become ready at {url} within {}s", self.name, timeout.as_secs()));
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let pgid = self.child.id().to_string();
        // TERM first so Trunk and servers shut down cleanly, then KILL whatever is left.
        let _ = Command::new("kill").args(["-TERM", "--", &format!("-{pgid}")]).stderr(Stdio::null()).status();
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = Command::new("kill").args(["-KILL", "--", &format!("-{pgid}")]).stderr(Stdio::null()).status();
        let _ = self.child.wait();
        eprintln!("xtask: stopped {}", self.name);
    }
}

/// A loopback port that was free a moment ago.
pub(crate) fn free_port() -> Result<u16> {
    let l = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free port: {e}"))?;
    l.local_addr().map(|a| a.port()).map_err(|e| e.to_string())
}

/// Whether something already listens on 127.0.0.1:`port`.
pub(crate) fn port_in_use(port: u16) -> bool {
    TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(200)).is_ok()
}

/// A minimal HTTP/1.1 GET for readiness checks on loopback; written by hand so xtask needs no HTTP client crate.
pub(crate) fn http_get(url: &str) -> Result<(u16, String)> {
    let rest = url.strip_prefix("http://").ok_or("only http:// URLs")?;
    let (authority, path) = rest.split_once('/').map_or((rest, "/".to_owned()), |(a, p)| (a, format!("/{p}")));
    let addr = authority.to_socket_addrs_first()?;
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(5))).map_err(|e| e.to_string())?;
    write!(s, "GET {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n").map_err(|e| e.to_string())?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&buf);
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or("malformed HTTP response")?;
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    Ok((status, body))
}

trait FirstAddr {
    fn to_socket_addrs_first(&self) -> Result<std::net::SocketAddr>;
}

impl FirstAddr for &str {
    fn to_socket_addrs_first(&self) -> Result<std::net::SocketAddr> {
        use std::net::ToSocketAddrs;
        self.to_socket_addrs()
            .map_err(|e| e.to_string())?
            .next()
            .ok_or_else(|| format!("cannot resolve {self}"))
    }
}

/// `which`, without a crate.
pub(crate) fn on_path(bin: impl AsRef<OsStr>) -> bool {
    let bin = bin.as_ref();
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| is_executable(&d.join(bin))))
        .unwrap_or(false)
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    p.metadata().map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0).unwrap_or(false)
}
