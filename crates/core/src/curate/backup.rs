//! Export a playlist as CSV or JSON, and read such a file back as the entries to restore.
//!
//! CSV is RFC 4180 (comma separated, `"` quoting with `""` inside, CRLF between records), written and read here
//! by hand: the `csv` crate is built around `io::Read`/`io::Write` streams and serde, which this in-memory,
//! at most 10,000-row use does not need, and every KB counts in the browser bundle. A cell that a spreadsheet
//! would run as a formula (starting with `=`, `+`, `-`, `@`, tab or CR) is written with a leading `'`, which
//! reading removes again.
//!
//! Reading accepts Setlist's own exports, and other tools' files that name their columns: the URI column may
//! be called `uri`, `track uri` (Exportify) or `spotify uri`; values may be URIs or open.spotify.com links.
//! JSON may be Setlist's export, an array of URIs, or an array of objects with a `uri`.

use serde_json::{json, Value};

use crate::edit::editor::Row;
use crate::ids::TrackUri;
use crate::spotify::items::PlaylistEntry;

/// Spotify's cap on a playlist's items: a file with more cannot be restored.
pub const MAX_RESTORE_ITEMS: usize = 10_000;
/// A file larger than this is refused before it is read (10,000 rows of every column fit in far less).
pub const MAX_BACKUP_BYTES: usize = 16 * 1024 * 1024;

/// The columns of an export, in order.
const COLUMNS: [&str; 9] =
    ["position", "title", "artists", "album", "duration_ms", "isrc", "uri", "added_at", "added_by"];

fn cells(position: usize, e: &PlaylistEntry) -> [String; 9] {
    [
        (position + 1).to_string(),
        e.name.clone(),
        e.artists.clone(),
        e.album.clone(),
        e.duration_ms.map(|ms| ms.to_string()).unwrap_or_default(),
        e.isrc.clone().unwrap_or_default(),
        e.uri.as_ref().map(|u| u.as_str().to_owned()).unwrap_or_default(),
        e.added_at.clone().unwrap_or_default(),
        e.added_by.clone().unwrap_or_default(),
    ]
}

/// Whether a spreadsheet would read this cell as a formula.
fn formula_like(cell: &str) -> bool {
    cell.starts_with(['=', '+', '-', '@', '\t', '\r'])
}

/// Whether the cell is written with a guarding `'`: formula-like, or already starting with `'` before
/// something that is (so that reading, which removes one `'`, gives the cell back exactly).
fn needs_guard(cell: &str) -> bool {
    formula_like(cell) || cell.strip_prefix('\'').is_some_and(needs_guard)
}

fn csv_cell(out: &mut String, cell: &str) {
    let guarded;
    let cell = if needs_guard(cell) {
        guarded = format!("'{cell}");
        guarded.as_str()
    } else {
        cell
    };
    if cell.contains([',', '"', '\r', '\n']) || cell.starts_with(' ') || cell.ends_with(' ') {
        out.push('"');
        out.push_str(&cell.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(cell);
    }
}

/// The rows as CSV: a header line, then one line per row (local files and unavailable entries included, with
/// what is known of them).
pub fn export_csv(rows: &[Row]) -> String {
    let mut out = String::with_capacity(rows.len() * 160 + 80);
    out.push_str(&COLUMNS.join(","));
    out.push_str("\r\n");
    for (i, row) in rows.iter().enumerate() {
        for (c, cell) in cells(i, &row.entry).iter().enumerate() {
            if c > 0 {
                out.push(',');
            }
            csv_cell(&mut out, cell);
        }
        out.push_str("\r\n");
    }
    out
}

/// The rows as JSON: `{"setlist_export": 1, "playlist": {...}, "items": [{position, title, ...}]}`.
pub fn export_json(rows: &[Row], playlist_id: &str, name: &str, description: &str) -> String {
    let items: Vec<Value> = rows
        .iter()
        .enumerate()
        .map(|(i, row)| {
            let e = &row.entry;
            json!({
                "position": i + 1,
                "title": e.name,
                "artists": e.artists,
                "album": e.album,
                "duration_ms": e.duration_ms,
                "isrc": e.isrc,
                "uri": e.uri.as_ref().map(TrackUri::as_str),
                "added_at": e.added_at,
                "added_by": e.added_by,
            })
        })
        .collect();
    let doc = json!({
        "setlist_export": 1,
        "playlist": { "id": playlist_id, "name": name, "description": description },
        "items": items,
    });
    serde_json::to_string_pretty(&doc).unwrap_or_default()
}

/// An item of a file that could not be restored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    /// Where: `line 12` (CSV) or `item 12` (JSON).
    pub at: String,
    /// Why, in a sentence fragment.
    pub why: String,
}

/// What a file restores.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Backup {
    /// The entries, in the file's order, with what the file says about them.
    pub entries: Vec<PlaylistEntry>,
    /// What could not be used, in order.
    pub skipped: Vec<Skipped>,
    /// The playlist's name, when the file carries one.
    pub name: Option<String>,
}

/// Why a file cannot be restored at all. Never quotes more than a column name from the file.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BackupError {
    #[error("the file is empty")]
    Empty,
    #[error("the file is larger than 16 MB; an export of 10,000 items is far smaller")]
    TooLarge,
    #[error("the file is not valid JSON: {0}")]
    Json(String),
    #[error("the JSON holds no list of items (expected Setlist's export, or an array of URIs or of objects with a \"uri\")")]
    NoItems,
    #[error("the CSV has no column of track URIs (name one \"uri\", \"track uri\" or \"spotify uri\"); its columns are: {0}")]
    NoUriColumn(String),
    #[error("the CSV has a quoted cell that never ends (from line {0})")]
    UnclosedQuote(usize),
    #[error("the file lists {0} items; a Spotify playlist holds at most 10,000")]
    TooMany(usize),
    #[error("none of the file's {0} items is a Spotify track or episode that can be added")]
    NothingUsable(usize),
}

/// Reads an export (CSV or JSON, detected from the first character) into the entries to restore.
pub fn parse_backup(text: &str) -> Result<Backup, BackupError> {
    if text.len() > MAX_BACKUP_BYTES {
        return Err(BackupError::TooLarge);
    }
    let text = text.trim_start_matches('\u{feff}');
    let backup = match text.trim_start().chars().next() {
        None => return Err(BackupError::Empty),
        Some('{' | '[') => from_json(text)?,
        Some(_) => from_csv(text)?,
    };
    let total = backup.entries.len() + backup.skipped.len();
    if backup.entries.is_empty() {
        return Err(BackupError::NothingUsable(total));
    }
    if backup.entries.len() > MAX_RESTORE_ITEMS {
        return Err(BackupError::TooMany(backup.entries.len()));
    }
    Ok(backup)
}

/// One item's fields as read from a file; `uri` as written.
#[derive(Default)]
struct Fields {
    uri: String,
    title: String,
    artists: String,
    album: String,
    duration_ms: Option<u32>,
    isrc: Option<String>,
    added_at: Option<String>,
    added_by: Option<String>,
}

/// The entry for `fields`, or why it cannot be added.
fn entry(fields: Fields) -> Result<PlaylistEntry, String> {
    let written = fields.uri.trim();
    if written.is_empty() {
        return Err("no URI".to_owned());
    }
    let uri = TrackUri::parse(written).map_err(|e| e.to_string())?;
    if uri.is_local() {
        return Err("a local file, which Spotify does not let apps add".to_owned());
    }
    let nonempty = |s: Option<String>| s.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    Ok(PlaylistEntry {
        name: fields.title,
        artists: fields.artists,
        album: fields.album,
        duration_ms: fields.duration_ms,
        isrc: nonempty(fields.isrc),
        added_at: nonempty(fields.added_at),
        added_by: nonempty(fields.added_by),
        ..PlaylistEntry::from_uri(uri)
    })
}

fn push(backup: &mut Backup, at: String, fields: Fields) {
    match entry(fields) {
        Ok(e) => backup.entries.push(e),
        Err(why) => backup.skipped.push(Skipped { at, why }),
    }
}

fn from_json(text: &str) -> Result<Backup, BackupError> {
    let doc: Value = serde_json::from_str(text).map_err(|e| BackupError::Json(e.to_string()))?;
    let name = doc.pointer("/playlist/name").and_then(Value::as_str).map(str::to_owned);
    let items = match &doc {
        Value::Array(items) => items,
        Value::Object(map) => map.get("items").and_then(Value::as_array).ok_or(BackupError::NoItems)?,
        _ => return Err(BackupError::NoItems),
    };
    let mut backup = Backup { entries: Vec::new(), skipped: Vec::new(), name };
    for (i, item) in items.iter().enumerate() {
        let text = |key: &str| item.get(key).and_then(Value::as_str).map(str::to_owned);
        let fields = match item {
            Value::String(uri) => Fields { uri: uri.clone(), ..Fields::default() },
            Value::Object(_) => Fields {
                uri: text("uri").unwrap_or_default(),
                title: text("title").or_else(|| text("name")).unwrap_or_default(),
                artists: text("artists").unwrap_or_default(),
                album: text("album").unwrap_or_default(),
                duration_ms: item.get("duration_ms").and_then(Value::as_u64).and_then(|n| u32::try_from(n).ok()),
                isrc: text("isrc"),
                added_at: text("added_at"),
                added_by: text("added_by"),
            },
            _ => Fields::default(),
        };
        push(&mut backup, format!("item {}", i + 1), fields);
    }
    Ok(backup)
}

/// RFC 4180 records with the line each starts on. Accepts LF as well as CRLF, and a last line without one.
fn csv_records(text: &str) -> Result<Vec<(usize, Vec<String>)>, BackupError> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut cell = String::new();
    let (mut line, mut record_line) = (1, 1);
    let mut chars = text.chars().peekable();
    let mut quoted_from = None;
    let mut any = false;
    while let Some(c) = chars.next() {
        if quoted_from.is_some() {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    cell.push('"');
                }
                '"' => quoted_from = None,
                _ => {
                    if c == '\n' {
                        line += 1;
                    }
                    cell.push(c);
                }
            }
            continue;
        }
        any = true;
        match c {
            '"' if cell.is_empty() => quoted_from = Some(line),
            ',' => record.push(std::mem::take(&mut cell)),
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' | '\r' => {
                record.push(std::mem::take(&mut cell));
                records.push((record_line, std::mem::take(&mut record)));
                line += 1;
                record_line = line;
                any = false;
            }
            _ => cell.push(c),
        }
    }
    if let Some(start) = quoted_from {
        return Err(BackupError::UnclosedQuote(start));
    }
    if any || !cell.is_empty() || !record.is_empty() {
        record.push(cell);
        records.push((record_line, record));
    }
    // Blank lines are not records.
    records.retain(|(_, r)| !(r.len() == 1 && r[0].trim().is_empty()));
    Ok(records)
}

/// A cell as written by a spreadsheet-safe export: the guarding `'` before a formula-like cell removed.
fn unguarded(cell: &str) -> String {
    match cell.strip_prefix('\'') {
        Some(rest) if needs_guard(rest) => rest.to_owned(),
        _ => cell.to_owned(),
    }
}

fn from_csv(text: &str) -> Result<Backup, BackupError> {
    let records = csv_records(text)?;
    let Some(((_, header), rows)) = records.split_first() else { return Err(BackupError::Empty) };
    let names: Vec<String> = header.iter().map(|h| h.trim().to_lowercase()).collect();
    let column = |aliases: &[&str]| names.iter().position(|n| aliases.contains(&n.as_str()));
    let Some(uri_at) = column(&["uri", "track uri", "spotify uri", "track_uri", "spotify_uri"]) else {
        // Column names only (cut short), never cell values.
        let listed: Vec<String> = names.iter().take(12).map(|n| n.chars().take(40).collect()).collect();
        return Err(BackupError::NoUriColumn(listed.join(", ")));
    };
    let title_at = column(&["title", "name", "track name", "track_name"]);
    let artists_at = column(&["artists", "artist", "artist name(s)", "artist_names"]);
    let album_at = column(&["album", "album name", "album_name"]);
    let duration_at = column(&["duration_ms", "duration (ms)", "track duration (ms)"]);
    let isrc_at = column(&["isrc"]);
    let added_at_at = column(&["added_at", "added at"]);
    let added_by_at = column(&["added_by", "added by"]);
    let mut backup = Backup { entries: Vec::new(), skipped: Vec::new(), name: None };
    for (line, record) in rows {
        let cell = |at: Option<usize>| at.and_then(|i| record.get(i)).map(|c| unguarded(c));
        let fields = Fields {
            uri: cell(Some(uri_at)).unwrap_or_default(),
            title: cell(title_at).unwrap_or_default(),
            artists: cell(artists_at).unwrap_or_default(),
            album: cell(album_at).unwrap_or_default(),
            duration_ms: cell(duration_at).and_then(|d| d.trim().parse().ok()),
            isrc: cell(isrc_at),
            added_at: cell(added_at_at),
            added_by: cell(added_by_at),
        };
        push(&mut backup, format!("line {line}"), fields);
    }
    Ok(backup)
}
