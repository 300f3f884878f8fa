//! `setlist-job list`: who the stored credentials belong to and their playlists, with ids to publish to. What
//! the sink's old `job-list-playlists` example did, through the job's connection.

use std::fmt;

use setlist_core::{my_playlists_request, parse_my_playlists, Page, PlaylistSummary};
use setlist_core::{me_request, parse_me};

use crate::run::Connection;
use crate::Error;

/// Playlist pages followed at most (50 each): Spotify's offset limit is 100,000.
const MAX_PAGES: u32 = 2_000;

/// A user and their playlists.
#[derive(Debug, Clone)]
pub struct Listing {
    pub user: String,
    pub display_name: Option<String>,
    pub playlists: Vec<PlaylistSummary>,
    pub tokens: Vec<String>,
}

/// Reads `GET /me` and every page of `GET /me/playlists`.
pub async fn list(connection: &mut Connection) -> Result<Listing, Error> {
    let spotify = |during: &str, error: setlist_core::ApiError| Error::Spotify {
        status: error.status,
        message: error.message,
        during: during.to_owned(),
        wrote: false,
    };
    let (status, body) = connection.get("reading who the tokens belong to", me_request(connection.config())).await?;
    let me = parse_me(status, &body).map_err(|error| spotify("reading who the tokens belong to", error))?;
    let mut playlists = Vec::new();
    let mut page = Page::first();
    for _ in 0..MAX_PAGES {
        let during = format!("listing playlists from {}", page.offset());
        let (status, body) = connection.get(&during, my_playlists_request(connection.config(), page)).await?;
        let paging = parse_my_playlists(status, &body).map_err(|error| spotify(&during, error))?;
        let shown = paging.items.len();
        playlists.extend(paging.items);
        match Page::new(Page::MAX_LIMIT, page.offset() + Page::MAX_LIMIT) {
            Ok(next) if next.offset() < paging.total && shown > 0 => page = next,
            _ => break,
        }
    }
    Ok(Listing { user: me.id, display_name: me.display_name, playlists, tokens: connection.notes().to_vec() })
}

impl fmt::Display for Listing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for line in &self.tokens {
            writeln!(f, "tokens: {line}")?;
        }
        match &self.display_name {
            Some(name) => writeln!(f, "user: {} ({name})", self.user)?,
            None => writeln!(f, "user: {}", self.user)?,
        }
        writeln!(f, "playlists: {}", self.playlists.len())?;
        for playlist in &self.playlists {
            let items = playlist.item_count.map_or_else(|| "?".to_owned(), |n| n.to_string());
            let owner = match playlist.owner.id.as_ref().map(|id| id.as_str()) {
                Some(owner) if owner == self.user => String::new(),
                Some(owner) => format!("  (owned by {owner}: cannot publish to it)"),
                None => "  (owner unknown)".to_owned(),
            };
            writeln!(f, "  {}  {items:>6} items  {}{owner}", playlist.id.as_str(), playlist.name)?;
        }
        Ok(())
    }
}
