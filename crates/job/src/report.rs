//! The text form of a [`Report`], as `setlist-job publish` prints it.

use std::fmt;

use crate::Report;

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for line in &self.tokens {
            writeln!(f, "tokens: {line}")?;
        }
        writeln!(f, "playlist: {:?} ({}), {} items before, {} in the list", self.name, self.playlist, self.items_before, self.items_after)?;
        let details = if self.details_changed.is_empty() {
            String::new()
        } else {
            format!(", new {}", self.details_changed.join(" and "))
        };
        writeln!(f, "changes: +{} tracks, -{} tracks{details}", self.tracks_added, self.tracks_removed)?;
        writeln!(
            f,
            "plan: {} write call{} (replacing everything would take {})",
            self.planned_write_calls,
            if self.planned_write_calls == 1 { "" } else { "s" },
            self.replace_write_calls
        )?;
        for (i, line) in self.plan.iter().enumerate() {
            writeln!(f, "  {}. {line}", i + 1)?;
        }
        if self.dry_run {
            return writeln!(f, "dry run: nothing was written ({} read calls)", self.read_calls);
        }
        writeln!(
            f,
            "calls: {} writes, {} reads, {} retries, {} re-reads after a lost answer, {} repairs, {} token refreshes",
            self.write_calls, self.read_calls, self.retries, self.rereads, self.repairs, self.token_refreshes
        )?;
        match self.verified {
            Some(true) if self.planned_write_calls == 0 => {
                writeln!(f, "verified: the playlist already was the list; nothing to write")
            }
            Some(true) => writeln!(f, "verified: read back, the playlist is exactly the list"),
            Some(false) => writeln!(f, "NOT verified: the playlist read back differs from the list"),
            None => Ok(()),
        }
    }
}
