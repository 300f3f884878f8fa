pub(crate) mod error;
pub(crate) mod header;
pub(crate) mod lazy;
pub(crate) mod tools;
