//! The file store: one JSON file holding the current record. Its version id is the SHA-256 of the file's bytes,
//! which for records this crate writes equals [`StoredRecord::version_token`]. A write takes an exclusive lock on
//! `PATH.lock` (so the sink and a job on the same machine exclude each other), re-checks the version, writes
//! `PATH.tmp`, fsyncs it, renames it over `PATH` and fsyncs the directory: readers see the old or the new file,
//! never a torn one, and an acknowledged write survives a crash.

use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{SecretStore, StoreFuture};
use crate::record::{parse_stored, Snapshot};
use crate::secret::sha256_hex;
use crate::{Error, StoredRecord};

/// A [`SecretStore`] in one local file (for `cargo xtask run` and tests).
#[derive(Debug)]
pub struct FileStore {
    path: Arc<PathBuf>,
    /// Serializes this process's writers before they queue on the file lock, so that they wait here rather
    /// than each holding a blocking thread.
    writers: tokio::sync::Mutex<()>,
}

impl FileStore {
    /// A store at `path`; the file and its directory are created by the first write.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: Arc::new(path.into()),
            writers: tokio::sync::Mutex::new(()),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl SecretStore for FileStore {
    fn read(&self) -> StoreFuture<'_, Snapshot> {
        let path = Arc::clone(&self.path);
        Box::pin(async move { blocking(move || read(&path)).await })
    }

    fn compare_and_swap<'a>(
        &'a self,
        expected: Option<&'a str>,
        record: &'a StoredRecord,
    ) -> StoreFuture<'a, ()> {
        let path = Arc::clone(&self.path);
        let expected = expected.map(str::to_owned);
        let record = record.clone();
        Box::pin(async move {
            let _writer = self.writers.lock().await;
            blocking(move || compare_and_swap(&path, expected.as_deref(), &record)).await
        })
    }
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, Error> + Send + 'static,
) -> Result<T, Error> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|error| Error::Store(format!("file store task failed: {error}")))?
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
    let text = String::from_utf8(bytes)
        .map_err(|_| Error::Store(format!("{} is not UTF-8", path.display())))?;
    Ok(Snapshot {
        version: Some(sha256_hex(text.as_bytes())),
        record: parse_stored(&text)?,
    })
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = OsString::from(path.as_os_str());
    name.push(suffix);
    PathBuf::from(name)
}

fn compare_and_swap(
    path: &Path,
    expected: Option<&str>,
    record: &StoredRecord,
) -> Result<(), Error> {
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
    lock.lock()
        .map_err(|error| io_error("locking", &lock_path, &error))?;

    let current = read(path)?.version;
    let value = record.to_json();
    if current.as_deref() == Some(sha256_hex(value.as_bytes()).as_str()) {
        return Ok(());
    }
    if current.as_deref() != expected {
        return Err(Error::StoreConflict);
    }

    let tmp = with_suffix(path, ".tmp");
    let mut file = create_private(&tmp).map_err(|error| io_error("creating", &tmp, &error))?;
    file.write_all(value.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|error| io_error("writing", &tmp, &error))?;
    drop(file);
    fs::rename(&tmp, path).map_err(|error| io_error("replacing", path, &error))?;
    // The rename is durable only once the directory entry is.
    File::open(&dir)
        .and_then(|dir| dir.sync_all())
        .map_err(|error| io_error("syncing", &dir, &error))?;
    Ok(())
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
    use crate::secret::SecretString;

    fn record(generation: u64) -> StoredRecord {
        StoredRecord {
            user_id: "alice.setlist".to_owned(),
            access_token: SecretString::new(format!("at-{generation}")),
            expires_at: 2_000,
            refresh_token: SecretString::new("rt"),
            scope: String::new(),
            authorized_at: 1_000,
            rt_sha256: sha256_hex(b"rt"),
            generation,
        }
    }

    #[tokio::test]
    async fn compare_and_swap_is_versioned() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = FileStore::new(dir.path().join("run/secret.json"));
        let empty = store.read().await.expect("read");
        assert!(empty.version.is_none() && empty.record.is_none());

        store
            .compare_and_swap(None, &record(1))
            .await
            .expect("first write");
        let first = store.read().await.expect("read");
        assert_eq!(
            first.version.as_deref(),
            Some(record(1).version_token().as_str())
        );

        // A writer that read the empty store has lost.
        assert!(matches!(
            store.compare_and_swap(None, &record(2)).await,
            Err(Error::StoreConflict)
        ));
        // Writing what is already current is a no-op success, whatever was expected.
        store
            .compare_and_swap(None, &record(1))
            .await
            .expect("idempotent");

        store
            .compare_and_swap(first.version.as_deref(), &record(2))
            .await
            .expect("second write");
        let second = store.read().await.expect("read");
        assert_eq!(second.record.map(|r| r.generation), Some(2));
        assert!(matches!(
            store
                .compare_and_swap(first.version.as_deref(), &record(3))
                .await,
            Err(Error::StoreConflict)
        ));
        assert!(!dir.path().join("run/secret.json.tmp").exists());
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn the_file_is_private() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().expect("tempdir");
        let store = FileStore::new(dir.path().join("secret.json"));
        store
            .compare_and_swap(None, &record(1))
            .await
            .expect("write");
        let mode = fs::metadata(store.path())
            .expect("metadata")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[tokio::test]
    async fn a_placeholder_file_is_empty_but_versioned() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("secret.json");
        fs::write(&path, "{}").expect("write");
        let store = FileStore::new(&path);
        let snapshot = store.read().await.expect("read");
        assert!(snapshot.record.is_none());
        assert!(matches!(
            store.compare_and_swap(None, &record(1)).await,
            Err(Error::StoreConflict)
        ));
        store
            .compare_and_swap(snapshot.version.as_deref(), &record(1))
            .await
            .expect("write over the placeholder");
    }
}
