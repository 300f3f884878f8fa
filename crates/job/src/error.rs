//! The job's one error type. Messages are sentences for an operator reading a terminal or a Lambda log: they say
//! what was wrong and what to do, and never carry a token (no variant holds one).

use setlist_core::{IdError, PlanError};

/// Why a job did not do what it was asked. Every variant raised before the first write says so in its message;
/// [`Error::wrote`] tells whether the playlist may have changed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The `--playlist` argument (or the event's `playlist`) is not a playlist id, URI or link.
    #[error("{input:?} is not a Spotify playlist id, URI or open.spotify.com link: {source}")]
    PlaylistReference { input: String, source: IdError },
    /// The user id cannot name a token record.
    #[error("{0}")]
    User(String),
    /// Lines or entries of the track list that are not track or episode references. Nothing was sent.
    #[error("the track list has {} entr{} that {} not a Spotify track or episode; nothing was changed:\n{}",
        .problems.len(), if .problems.len() == 1 { "y" } else { "ies" },
        if .problems.len() == 1 { "is" } else { "are" }, list(.problems))]
    TrackList { problems: Vec<String> },
    /// More tracks than a playlist may hold. Nothing was sent.
    #[error("the track list has {count} tracks; a Spotify playlist holds at most {max}; nothing was changed")]
    TooManyTracks { count: usize, max: usize },
    /// An empty list would empty the playlist; that needs saying explicitly.
    #[error("the track list is empty; publishing it would empty the playlist (pass --allow-empty, or \
             \"allow_empty\": true in an event, if that is what you want); nothing was changed")]
    EmptyList,
    /// A blank new name.
    #[error("a playlist name must not be blank; nothing was changed")]
    BlankName,
    /// The playlist does not exist (or Spotify will not say it does). Nothing was written.
    #[error("Spotify has no playlist {playlist} (404); check the id; nothing was changed")]
    UnknownPlaylist { playlist: String },
    /// The user may not change the playlist. Nothing was written.
    #[error("{user} does not own the playlist {name:?} ({playlist}); it belongs to {owner}, and only its owner \
             can publish to it; nothing was changed")]
    NotOwner { user: String, playlist: String, name: String, owner: String },
    /// The playlist holds what the Web API cannot publish over (local files). Nothing was written.
    #[error("cannot publish to this playlist: {0}; nothing was changed")]
    Plan(#[from] PlanError),
    /// No working access token.
    #[error(transparent)]
    Credentials(#[from] setlist_sink::job::JobError),
    /// Spotify refused the access token it had just been given after a refresh.
    #[error("Spotify refused the access token twice (401), the second time right after a refresh; sign in to \
             Setlist again{}", wrote_suffix(*.wrote))]
    TokenRefused { wrote: bool },
    /// Spotify asked for a wait longer than the retry policy waits.
    #[error("Spotify is rate limiting this app and asked to wait {resume_in_secs} s; run the job again after \
             that{}", wrote_suffix(*.wrote))]
    RateLimited { resume_in_secs: u64, wrote: bool },
    /// Spotify kept failing (5xx, no answer) beyond the retry policy.
    #[error("{reason} (while {during}){}", wrote_suffix(*.wrote))]
    GaveUp { reason: String, during: String, wrote: bool },
    /// A final error answer from Spotify.
    #[error("Spotify answered {status} ({message}) while {during}{}", wrote_suffix(*.wrote))]
    Spotify { status: u16, message: String, during: String, wrote: bool },
    /// The playlist kept changing under the job (someone else is editing it).
    #[error("the playlist kept changing on Spotify while it was being read; try again when nobody is editing it{}",
        wrote_suffix(*.wrote))]
    KeepsChanging { wrote: bool },
    /// A write's answer was lost (or the read-back differed) more often than the job re-reads.
    #[error("Spotify's answers to the writes kept getting lost; the playlist was re-read {rereads} times and may \
             not match the list yet; run the job again")]
    TooManyRereads { rereads: usize },
    /// The read-back does not match the list (after repairs).
    #[error("the playlist does not match the list after publishing and {repairs} repair(s): {difference}")]
    NotVerified { repairs: usize, difference: String },
    /// A request could not be sent at all (the transport, not Spotify).
    #[error("{0}")]
    Transport(String),
    /// A bad command line or Lambda event.
    #[error("{0}")]
    Usage(String),
    /// The track list could not be read (file, stdin or S3).
    #[error("cannot read the track list: {0}")]
    Read(String),
}

impl Error {
    /// Whether the playlist may have been changed before the error: false for every check made before the first
    /// write.
    pub fn wrote(&self) -> bool {
        match self {
            Self::TokenRefused { wrote }
            | Self::RateLimited { wrote, .. }
            | Self::GaveUp { wrote, .. }
            | Self::Spotify { wrote, .. }
            | Self::KeepsChanging { wrote } => *wrote,
            Self::TooManyRereads { .. } | Self::NotVerified { .. } => true,
            _ => false,
        }
    }
}

fn wrote_suffix(wrote: bool) -> &'static str {
    if wrote {
        "; some changes were already written: run the job again to finish"
    } else {
        "; nothing was changed"
    }
}

/// At most the first ten problems, one per line.
fn list(problems: &[String]) -> String {
    let mut shown: Vec<String> = problems.iter().take(10).map(|p| format!("  {p}")).collect();
    if problems.len() > 10 {
        shown.push(format!("  ... and {} more", problems.len() - 10));
    }
    shown.join("\n")
}
