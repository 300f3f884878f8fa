//! Paged lists: the page to ask for ([`Page`]) and what a page of an answer holds ([`Paging`]).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::json::{array, uint};
use super::request::RequestError;

/// One page of a paged list: `limit` 1 to 50 items from `offset`, Spotify's bounds for
/// `GET /me/playlists` and `GET /playlists/{id}/items`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page {
    limit: u32,
    offset: u32,
}

impl Page {
    /// The largest page Spotify serves for playlists and items.
    pub const MAX_LIMIT: u32 = 50;

    /// A page of `limit` (1 to 50) items starting at `offset`.
    pub fn new(limit: u32, offset: u32) -> Result<Self, RequestError> {
        RequestError::check_range("limit", limit, 1, Self::MAX_LIMIT)?;
        Ok(Self { limit, offset })
    }

    /// The first page of 50.
    pub fn first() -> Self {
        Self {
            limit: Self::MAX_LIMIT,
            offset: 0,
        }
    }

    /// Items per page.
    pub fn limit(&self) -> u32 {
        self.limit
    }

    /// Index of the page's first item.
    pub fn offset(&self) -> u32 {
        self.offset
    }

    /// The pages after this one, of the same size, that cover a list of `total` items: what to fetch in
    /// parallel once the first page has told the total. An iterator, because `total` comes from the
    /// network and a collected list could be arbitrarily large.
    pub fn following(&self, total: u32) -> impl Iterator<Item = Page> {
        let limit = self.limit;
        let start = self.offset.saturating_add(limit);
        (start..total)
            .step_by(limit as usize)
            .map(move |offset| Page { limit, offset })
    }
}

/// One page of a paged answer. Spotify's `href`, `next` and `previous` are not kept: pages are fetched
/// by offset.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Paging<T> {
    /// The page's items, in order.
    pub items: Vec<T>,
    /// How many items the whole list has.
    pub total: u32,
    /// The page size Spotify used.
    pub limit: u32,
    /// Index of the page's first item in the whole list.
    pub offset: u32,
}

/// Reads a paging object, skipping items `item` makes nothing of. A missing `total` is taken as what the
/// page shows, so a caller never waits for pages that do not exist.
pub(super) fn paging<T>(value: &Value, item: impl Fn(&Value) -> Option<T>) -> Paging<T> {
    let raw = array(value, "items");
    let offset = uint(value, "offset").unwrap_or(0);
    let shown = u32::try_from(raw.len()).unwrap_or(u32::MAX);
    let items: Vec<T> = raw.iter().filter_map(item).collect();
    Paging {
        total: uint(value, "total").unwrap_or_else(|| offset.saturating_add(shown)),
        limit: uint(value, "limit").unwrap_or(shown),
        offset,
        items,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SearchPage;

    #[test]
    fn pages() {
        assert_eq!(Page::new(50, 100).map(|p| (p.limit(), p.offset())), Ok((50, 100)));
        assert_eq!(
            Page::new(51, 0),
            Err(RequestError::OutOfRange {
                what: "limit",
                min: 1,
                max: 50,
                got: 51
            })
        );
        assert!(Page::new(0, 0).is_err());
        let offsets: Vec<u32> = Page::first().following(120).map(|p| p.offset()).collect();
        assert_eq!(offsets, [50, 100]);
        assert_eq!(Page::first().following(50).count(), 0);
        assert_eq!(Page::first().following(0).count(), 0);
        let small = Page::new(20, 10).expect("valid");
        let offsets: Vec<u32> = small.following(71).map(|p| p.offset()).collect();
        assert_eq!(offsets, [30, 50, 70]);
        assert_eq!(
            Page::new(50, u32::MAX - 10).expect("valid").following(u32::MAX).count(),
            0
        );
        assert!(SearchPage::new(10, 1000).is_ok());
        assert!(SearchPage::new(11, 0).is_err());
        assert_eq!(
            SearchPage::new(5, 1001),
            Err(RequestError::OutOfRange {
                what: "offset",
                min: 0,
                max: 1000,
                got: 1001
            })
        );
    }
}
