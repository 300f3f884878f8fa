//! Setlist's server-side job: publish a track list to a Spotify playlist with one user's stored credentials,
//! locally (`setlist-job publish`) or on AWS Lambda (`setlist-job-lambda`, on an EventBridge Scheduler schedule).
//!
//! - [`input`] checks what is asked before anything is sent: the track list (a JSON array, or one URI or
//!   open.spotify.com link per line), at most [`MAX_PLAYLIST_ITEMS`], the playlist reference.
//! - [`mod@publish`] decides, as a sans-IO state machine: read (owner checked first), plan with core's planner, write
//!   with core's retry policy (never a blind replay of a write), read back and repair.
//! - [`run`] carries it out: HTTP through a [`run::Transport`], tokens through the sink's
//!   [`setlist_sink::job::credentials`] (refresh near expiry or after a `401`, written back with the sink's chain
//!   rule and compare-and-swap).
//! - [`cli`] and [`event`] read the command line and the Lambda event.

pub mod cli;
mod error;
pub mod event;
pub mod input;
pub mod list;
pub mod publish;
mod report;
pub mod run;

pub use error::Error;
pub use input::{parse_track_list, PublishSpec, Request, MAX_PLAYLIST_ITEMS};
pub use publish::{Action, Answer, Call, CallId, Publish, Report};
pub use run::{publish, Connection, HttpTransport, Settings, Transport};
