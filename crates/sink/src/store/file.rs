//! The file store: a directory with one JSON file per user, `DIR/USER.json`, and the version before it in
//! `DIR/USER.previous.json`. A version id is the SHA-256 of the file's bytes, which for records this crate writes
//! equals [`StoredRecord::version_token`]. A write takes an exclusive lock on `DIR/USER.json.lock` (so the sink
//! and a job on the same machine exclude each other), re-checks the version, keeps the current file as the
//! previous one, writes `USER.json.tmp`, fsyncs it, renames it over `USER.json` and fsyncs the directory: readers
//! see the old or the new file, never a torn one, and an acknowledged write survives a crash.

use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use setlist_core::sha256_hex;

use super::{check_user_id, SecretStore, StoreFuture};
use crate::record::{parse_stored, Snapshot};
use crate::{Error, StoredRecord};

/// A [`SecretStore`] in a local directory (for `cargo xtask run`, tests and jobs run by hand).
#[derive(Debug)]
pub struct FileStore {
    dir: Arc<PathBuf>,
    /// Serializes this process's writers before they queue on the file lock, so that they wait here rather
    /// than each holding a blocking thread.
    writers: tokio::sync::Mutex<()>,
}

impl FileStore {
    /// A store in `dir`; the directory and the files are created by the first write.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: Arc::new(dir.into()), writers: tokio::sync::Mutex::new(()) }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file holding `user`'s current record.
    pub fn path(&self, user: &str) -> Result<PathBuf, Error> {
        check_user_id(user).map_err(Error::Store)?;
        Ok(self.dir.join(format!("{user}.json")))
    }
}

impl SecretStore for FileStore {
    fn read<'a>(&'a self, user: &'a str) -> StoreFuture<'a, Snapshot> {
        Box::pin(async move {
            let path = self.path(user)?;
            blocking(move || read(&path)).await
        })
    }

    fn read_previous<'a>(&'a self, user: &'a str) -> StoreFuture<'a, Option<StoredRecord>> {
        Box::pin(async move {
            let path = previous_path(&self.path(user)?);
            blocking(move || read(&path).map(|snapshot| snapshot.record)).await
        })
    }

    fn compare_and_swap<'a>(
        &'a self,
        user: &'a str,
        expected: Option<&'a str>,
        record: &'a StoredRecord,
    ) -> StoreFuture<'a, ()> {
        let expected = expected.map(str::to_owned);
        let record = record.clone();
        Box::pin(async move {
            let path = self.path(user)?;
            let _writer = self.writers.lock().await;
            blocking(move || compare_and_swap(&path, expected.as_deref(), &record)).await
        })
    }
}

async fn blocking<T: Send + 'static>(work: impl FnOnce() -> Result<T, Error> + Send + 'static) -> Result<T, Error> {
    tokio::task::spawn_blocking(work).await.map_err(|error| Error::Store(format!("file store task failed: {error}")))?
}

fn io_error(what: &str, path: &Path, error: &io::Error) -> Error {
    Error::Store(format!("{what} {}: {error}", path.display()))
}

fn read(path: &Path) -> Result<Snapshot, Error> {
    let bytes = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(Snapshot::default()),
        Err(error) => return Err(io_error("reading", path, &error)),
    };
    let text = String::from_utf8(bytes).map_err(|_| Error::Store(format!("{} is not UTF-8", path.display())))?;
    Ok(Snapshot { version: Some(sha256_hex(text.as_bytes())), record: parse_stored(&text)? })
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = OsString::from(path.as_os_str());
    name.push(suffix);
    PathBuf::from(name)
}

/// `DIR/USER.previous.json` beside `DIR/USER.json`.
fn previous_path(path: &Path) -> PathBuf {
    path.with_extension("previous.json")
}

fn compare_and_swap(path: &Path, expected: Option<&str>, record: &StoredRecord) -> Result<(), Error> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&dir).map_err(|error| io_error("creating", &dir, &error))?;

    let lock_path = with_suffix(path, ".lock");
    let lock = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|error| io_error("opening", &lock_path, &error))?;
    // Released when `lock` is dropped at the end of this function.
    lock.lock().map_err(|error| io_error("locking", &lock_path, &error))?;

    let current = read(path)?.version;
    let value = record.to_json();
    if current.as_deref() == Some(sha256_hex(value.as_bytes()).as_str()) {
        return Ok(());
    }
    if current.as_deref() != expected {
        return Err(Error::StoreConflict);
    }
    // The current version becomes the previous one, as AWSPREVIOUS moves in Secrets Manager.
    if current.is_some() {
        let bytes = fs::read(path).map_err(|error| io_error("reading", path, &error))?;
        write_durably(&previous_path(path), &bytes)?;
    }
    write_durably(path, value.as_bytes())?;
    // The renames are durable only once the directory entries are.
    File::open(&dir).and_then(|dir| dir.sync_all()).map_err(|error| io_error("syncing", &dir, &error))?;
    Ok(())
}

/// Writes `bytes` to `path.tmp`, fsyncs it and renames it over `path`.
fn write_durably(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let tmp = with_suffix(path, ".tmp");
    let mut file = create_private(&tmp).map_err(|error| io_error("creating", &tmp, &error))?;
    file.write_all(bytes).and_then(|()| file.sync_all()).map_err(|error| io_error("writing", &tmp, &error))?;
    drop(file);
    fs::rename(&tmp, path).map_err(|error| io_error("replacing", path, &error))
}

/// The file holds live tokens: readable by its owner only.
fn create_private(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.create(true).truncate(true).write(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    options.open(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use setlist_core::{AccessToken, RefreshToken, TokenPush};

    const ALICE: &str = "alice.setlist";

    fn record(generation: u64) -> StoredRecord {
        let push = TokenPush {
            access_token: AccessToken::new(format!("at-{generation}")),
            expires_at: 2_000,
            refresh_token: RefreshToken::new("rt".into()),
            scope: String::new(),
            authorized_at: 1_000,
            prev_refresh_sha256: None,
        };
        let mut record = StoredRecord::first(&push, ALICE, 1_000);
        record.generation = generation;
        record
    }

    #[tokio::test]
    async fn compare_and_swap_is_versioned_per_user_and_keeps_the_previous_version() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = FileStore::new(dir.path().join("run/tokens"));
        let empty = store.read(ALICE).await.expect("read");
        assert!(empty.version.is_none() && empty.record.is_none());
        assert!(store.read_previous(ALICE).await.expect("read").is_none());

        store.compare_and_swap(ALICE, None, &record(1)).await.expect("first write");
        let first = store.read(ALICE).await.expect("read");
        assert_eq!(first.version.as_deref(), Some(record(1).version_token().as_str()));
        // Another user's record is another file.
        assert!(store.read("bruno.setlist").await.expect("read").record.is_none());
        store.compare_and_swap("bruno.setlist", None, &record(7)).await.expect("bruno's first write");

        // A writer that read the empty store has lost.
        assert!(matches!(store.compare_and_swap(ALICE, None, &record(2)).await, Err(Error::StoreConflict)));
        // Writing what is already current is a no-op success, whatever was expected.
        store.compare_and_swap(ALICE, None, &record(1)).await.expect("idempotent");

        store.compare_and_swap(ALICE, first.version.as_deref(), &record(2)).await.expect("second write");
        let second = store.read(ALICE).await.expect("read");
        assert_eq!(second.record.map(|r| r.generation), Some(2));
        assert_eq!(store.read_previous(ALICE).await.expect("read").map(|r| r.generation), Some(1));
        assert!(matches!(
            store.compare_and_swap(ALICE, first.version.as_deref(), &record(3)).await,
            Err(Error::StoreConflict)
        ));
        assert!(!dir.path().join("run/tokens/alice.setlist.json.tmp").exists());
        assert_eq!(store.read("bruno.setlist").await.expect("read").record.map(|r| r.generation), Some(7));
    }

    #[tokio::test]
    async fn ids_that_cannot_name_a_file_are_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = FileStore::new(dir.path());
        assert!(matches!(store.read("../escape").await, Err(Error::Store(_))));
        assert!(matches!(store.compare_and_swap("a/b", None, &record(1)).await, Err(Error::Store(_))));
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn the_files_are_private() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().expect("tempdir");
        let store = FileStore::new(dir.path());
        store.compare_and_swap(ALICE, None, &record(1)).await.expect("write");
        let version = store.read(ALICE).await.expect("read").version;
        store.compare_and_swap(ALICE, version.as_deref(), &record(2)).await.expect("write");
        for name in ["alice.setlist.json", "alice.setlist.previous.json"] {
            let mode = fs::metadata(dir.path().join(name)).expect("metadata").permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{name}");
        }
    }

    #[tokio::test]
    async fn a_placeholder_file_is_empty_but_versioned() {
        let dir = tempfile::tempdir().expect("tempdir");
        fs::write(dir.path().join("alice.setlist.json"), "{}").expect("write");
        let store = FileStore::new(dir.path());
        let snapshot = store.read(ALICE).await.expect("read");
        assert!(snapshot.record.is_none());
        assert!(matches!(store.compare_and_swap(ALICE, None, &record(1)).await, Err(Error::StoreConflict)));
        store.compare_and_swap(ALICE, snapshot.version.as_deref(), &record(1)).await.expect("write over the placeholder");
    }
}
