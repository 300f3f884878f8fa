//! The sink end to end, in one test binary (one link of tokio, axum and the AWS SDK instead of one per file): the
//! endpoint over the file store, the endpoint and a job's token step on Secrets Manager as moto serves it, and the
//! `sink-lambda` binary driven through an emulated Lambda Runtime API. (`tests/fuzz.rs` stays its own binary:
//! `cargo xtask fuzz` builds it in release.)

mod common;
mod endpoint;
mod lambda;
mod moto;
