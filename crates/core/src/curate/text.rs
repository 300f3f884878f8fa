//! Titles and artist lists reduced to what identifies a recording, for "likely the same" duplicates.
//!
//! A remaster, a deluxe edition or a "feat." credit in the title is the same recording on another release, so
//! those parts are dropped. A live, acoustic, remixed, demo or instrumental version is a different recording,
//! so those parts stay in the key: "Song - Live" never matches "Song".

/// Words that mark a different performance or mix: a bracket or " - " suffix holding one stays in the key.
const DIFFERENT_RECORDING: &[&str] = &[
    "live", "acoustic", "remix", "remixed", "mix", "edit", "instrumental", "demo", "karaoke", "unplugged",
    "session", "sessions", "rehearsal", "reprise", "orchestral", "cover", "version", "take", "sped up", "slowed",
    "mono", "stereo", "radio",
];

/// Words that mark the same recording on another release or with another credit: a bracket or " - " suffix
/// holding one (and none of [`DIFFERENT_RECORDING`]; "album version" and "single version" are harmless) is
/// dropped. Any word starting with "remaster" counts too.
const SAME_RECORDING: &[&str] = &[
    "feat", "ft", "featuring", "with", "deluxe", "edition", "expanded", "anniversary", "bonus", "explicit", "clean",
    "album version", "single version",
];

/// Whether a bracketed part or " - " suffix of a title names only a re-release or a credit. Words are matched
/// whole ("edition" is not "edit").
fn ignorable(part: &str) -> bool {
    let words = format!(" {} ", squeeze(part));
    let has = |text: &str, word: &str| text.contains(&format!(" {word} "));
    let same = words.contains(" remaster") || SAME_RECORDING.iter().any(|w| has(&words, w));
    let rest = words.replace(" album version ", " ").replace(" single version ", " ");
    same && !DIFFERENT_RECORDING.iter().any(|w| has(&rest, w))
}

/// Letters and digits of `text` in lower case, runs of anything else as one space, trimmed.
fn squeeze(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut gap = false;
    for c in text.chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            if gap && !out.is_empty() {
                out.push(' ');
            }
            gap = false;
            out.push(c);
        } else {
            gap = true;
        }
    }
    out
}

/// The title as a matching key: lower case, re-release and credit parts dropped, punctuation ignored.
/// `"Hey Jude - Remastered 2015"`, `"Hey Jude (2015 Remaster)"` and `"hey jude"` all give `"hey jude"`;
/// `"Hey Jude - Live"` gives `"hey jude live"`.
pub fn normalized_title(title: &str) -> String {
    let lower = title.to_lowercase();
    // Bracketed parts: drop the ignorable ones, keep the rest as words.
    let mut kept = String::with_capacity(lower.len());
    let mut rest = lower.as_str();
    while let Some(open) = rest.find(['(', '[']) {
        let close_char = if rest[open..].starts_with('(') { ')' } else { ']' };
        kept.push_str(&rest[..open]);
        match rest[open + 1..].find(close_char) {
            Some(len) => {
                let inner = &rest[open + 1..open + 1 + len];
                if !ignorable(inner) {
                    kept.push(' ');
                    kept.push_str(inner);
                }
                rest = &rest[open + 1 + len + 1..];
            }
            None => {
                // An unclosed bracket: keep the text as it is.
                kept.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    kept.push_str(rest);
    // " - " suffixes, as Spotify writes re-releases: "Song - Remastered 2011", "Song - 2011 Remaster".
    let mut parts: Vec<&str> = kept.split(" - ").collect();
    while parts.len() > 1 && parts.last().is_some_and(|p| ignorable(p)) {
        parts.pop();
    }
    squeeze(&parts.join(" "))
}

/// The artists (joined with `", "` as [`crate::PlaylistEntry::artists`] holds them) as a matching key: each
/// name squeezed, sorted, so the order of credits does not matter.
pub fn normalized_artists(artists: &str) -> String {
    let mut names: Vec<String> = artists.split(", ").map(squeeze).filter(|n| !n.is_empty()).collect();
    crate::sort_with(&mut names, &Ord::cmp);
    names.dedup();
    names.join("|")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn re_releases_and_credits_are_the_same_title() {
        for title in [
            "Hey Jude",
            "Hey Jude - Remastered 2015",
            "Hey Jude - 2015 Remaster",
            "Hey Jude (Remastered)",
            "Hey Jude [2009 Digital Remaster]",
            "HEY JUDE!",
            "Hey Jude (feat. Someone)",
            "Hey Jude - Deluxe Edition",
            "Hey Jude - Single Version",
            "Hey Jude - 50th Anniversary Edition",
            "Hey Jude (with Friend)",
        ] {
            assert_eq!(normalized_title(title), "hey jude", "{title}");
        }
    }

    #[test]
    fn other_performances_are_other_titles() {
        assert_eq!(normalized_title("Hey Jude - Live"), "hey jude live");
        assert_eq!(normalized_title("Hey Jude (Live at the BBC)"), "hey jude live at the bbc");
        assert_eq!(normalized_title("Hey Jude - Remastered 2015 / Live"), "hey jude remastered 2015 live");
        assert_eq!(normalized_title("Hey Jude (Acoustic)"), "hey jude acoustic");
        assert_eq!(normalized_title("Hey Jude - Radio Edit"), "hey jude radio edit");
        assert_eq!(normalized_title("Hey Jude (Remix) [Remastered]"), "hey jude remix");
        assert_eq!(normalized_title("Hey Jude - Mono Version"), "hey jude mono version");
    }

    #[test]
    fn odd_titles_do_not_lose_their_words() {
        assert_eq!(normalized_title("(Untitled)"), "untitled");
        assert_eq!(normalized_title("Song (unclosed"), "song unclosed");
        assert_eq!(normalized_title("A - B - C"), "a b c");
        assert_eq!(normalized_title(""), "");
        assert_eq!(normalized_title("Ça va"), "ça va");
    }

    #[test]
    fn artists_ignore_order_case_and_punctuation() {
        assert_eq!(normalized_artists("Simon & Garfunkel"), normalized_artists("simon garfunkel"));
        assert_eq!(normalized_artists("A, B"), normalized_artists("B, A"));
        assert_ne!(normalized_artists("A, B"), normalized_artists("A"));
    }
}
