//! The Spotify Web API as values: requests (method, URL, body, [`crate::Safety`]) built without the token, the
//! answers read leniently, and the errors Spotify sends. One file per resource.

pub mod error;
pub mod me;
pub mod playlist;
pub mod request;
