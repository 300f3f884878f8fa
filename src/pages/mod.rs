pub(crate) mod callback;
pub(crate) mod home;
pub(crate) mod not_found;
pub(crate) mod playlist;
pub(crate) mod playlists;
