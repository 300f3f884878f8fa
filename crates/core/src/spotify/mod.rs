//! The Spotify Web API as values: requests (method, URL, body, [`crate::Safety`]) built without the token, the
//! answers read leniently, and the errors Spotify sends. One file per resource.

pub mod error;
pub mod items;
mod json;
pub mod me;
pub mod paging;
pub mod playlists;
pub mod request;
pub mod search;

#[cfg(test)]
mod tests;
