//! Signing in and staying signed in: PKCE, the authorize URL and callback, the token requests and answers, the
//! secret newtypes, the token set and its refresh timing, and the cross-tab lifecycle.

pub mod lifecycle;
pub mod oauth;
pub mod pkce;
pub mod secret;
pub mod token;
