//! The stand-in's clock: real unix time plus an offset that the control API sets, so tests can jump past code,
//! access-token and refresh-token expiry without waiting.

use std::time::{SystemTime, UNIX_EPOCH};

#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Clock {
    offset_secs: i64,
}

impl Clock {
    /// Unix seconds as the stand-in sees them.
    pub(crate) fn now(&self) -> i64 {
        real_now().saturating_add(self.offset_secs)
    }

    /// Unix milliseconds as the stand-in sees them (the rate limiter's and the request log's precision).
    pub(crate) fn now_ms(&self) -> i64 {
        real_now_ms().saturating_add(self.offset_secs.saturating_mul(1000))
    }

    pub(crate) fn offset_secs(&self) -> i64 {
        self.offset_secs
    }

    pub(crate) fn set_offset(&mut self, offset_secs: i64) {
        self.offset_secs = offset_secs;
    }

    pub(crate) fn advance(&mut self, secs: i64) {
        self.offset_secs = self.offset_secs.saturating_add(secs);
    }
}

fn real_now_ms() -> i64 {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(since) => i64::try_from(since.as_millis()).unwrap_or(i64::MAX),
        Err(_) => 0,
    }
}

fn real_now() -> i64 {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(since) => i64::try_from(since.as_secs()).unwrap_or(i64::MAX),
        // A system clock before 1970 is not worth failing over; call it the epoch.
        Err(_) => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offset_shifts_now() {
        let mut clock = Clock::default();
        let before = clock.now();
        clock.set_offset(3600);
        let after = clock.now();
        assert!(
            (3600..3602).contains(&(after - before)),
            "{before} -> {after}"
        );
        clock.advance(-3600);
        assert_eq!(clock.offset_secs(), 0);
    }

    #[test]
    fn extreme_offsets_saturate() {
        let mut clock = Clock::default();
        clock.set_offset(i64::MAX);
        assert_eq!(clock.now(), i64::MAX);
        clock.advance(1);
        assert_eq!(clock.offset_secs(), i64::MAX);
    }
}
