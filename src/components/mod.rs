pub(crate) mod error;
pub(crate) mod header;
