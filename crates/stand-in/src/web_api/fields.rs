//! The `fields` query parameter
//! ([get playlist](https://developer.spotify.com/documentation/web-api/reference/get-playlist)): a comma-separated
//! list of names to keep; `a.b` keeps `a` and within it only `b`; `a(b,c)` keeps `a` and within it `b` and `c`;
//! `!name` drops a field and keeps the rest. A filter applies to each element of an array it meets, so
//! `items(added_at,item(name))` works on a page of entries.
//!
//! Exclusion covers a whole list: a `!` in front of the first name of a list (the whole value, or the inside of
//! parentheses) excludes every name in that list and keeps the rest, so the reference's own example
//! `items.track.album(!external_urls,images)` answers the album without `external_urls` and without `images`.
//! Read name by name, that example would keep only `images` (a list that names something keeps only what it
//! names), which makes its `!` pointless; the reference offers it as the way to exclude, so the list reading is
//! the one taken. A `!` further into a list that starts with a plain name (`a,!b`) drops that name only, and
//! the list keeps only what it names. Excluded names cannot carry their own selection (`!a(b)`, `!a.b`).

use serde_json::{Map, Value};

/// Deeper nesting than this is refused rather than recursed into.
const MAX_DEPTH: usize = 32;

#[derive(Debug, Clone, PartialEq, Eq)]
struct Selector {
    name: String,
    negate: bool,
    /// `None`: the whole value.
    sub: Option<Vec<Selector>>,
}

/// A parsed `fields` filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Fields(Vec<Selector>);

/// The `fields` value is not in Spotify's syntax.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Invalid;

impl Fields {
    /// `Ok(None)` for an empty (or all-blank) value, which filters nothing.
    pub(crate) fn parse(input: &str) -> Result<Option<Self>, Invalid> {
        if input.trim().is_empty() {
            return Ok(None);
        }
        let mut parser = Parser {
            chars: input.chars().collect(),
            at: 0,
        };
        let group = parser.group(0)?;
        if parser.at != parser.chars.len() {
            return Err(Invalid);
        }
        Ok(Some(Self(group)))
    }

    pub(crate) fn apply(&self, value: Value) -> Value {
        let group: Vec<&Selector> = self.0.iter().collect();
        apply(value, &group)
    }
}

impl Fields {
    /// Whether the filter keeps anything at `path` (object keys from the top; arrays met on the way are looked
    /// through, as [`Fields::apply`] does). The same rules as `apply`, so `false` means `apply` drops it.
    pub(crate) fn keeps(&self, path: &[&str]) -> bool {
        let top: Vec<&Selector> = self.0.iter().collect();
        keeps(&top, path)
    }
}

fn keeps(group: &[&Selector], path: &[&str]) -> bool {
    let Some((key, rest)) = path.split_first() else {
        return true;
    };
    if group.iter().any(|s| s.negate && s.name == *key) {
        return false;
    }
    if !group.iter().any(|s| !s.negate) {
        return true;
    }
    let matching: Vec<&Selector> = group
        .iter()
        .copied()
        .filter(|s| !s.negate && s.name == *key)
        .collect();
    if matching.is_empty() {
        return false;
    }
    if matching.iter().any(|s| s.sub.is_none()) {
        return true;
    }
    let merged: Vec<&Selector> = matching
        .iter()
        .flat_map(|s| s.sub.iter().flatten())
        .collect();
    keeps(&merged, rest)
}

/// Filters `value` when a filter was given.
pub(crate) fn filter(value: Value, fields: Option<&Fields>) -> Value {
    match fields {
        Some(fields) => fields.apply(value),
        None => value,
    }
}

struct Parser {
    chars: Vec<char>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    fn group(&mut self, depth: usize) -> Result<Vec<Selector>, Invalid> {
        if depth > MAX_DEPTH {
            return Err(Invalid);
        }
        let mut group = vec![self.selector(depth)?];
        while self.peek() == Some(',') {
            self.at += 1;
            group.push(self.selector(depth)?);
        }
        // A leading `!` makes the list an exclusion list (module docs).
        if group[0].negate {
            for selector in &mut group {
                if selector.sub.is_some() {
                    return Err(Invalid);
                }
                selector.negate = true;
            }
        }
        Ok(group)
    }

    fn selector(&mut self, depth: usize) -> Result<Selector, Invalid> {
        if depth > MAX_DEPTH {
            return Err(Invalid);
        }
        let negate = self.peek() == Some('!');
        if negate {
            self.at += 1;
        }
        let start = self.at;
        while self
            .peek()
            .is_some_and(|c| !matches!(c, ',' | '(' | ')' | '.' | '!'))
        {
            self.at += 1;
        }
        let name: String = self.chars[start..self.at].iter().collect();
        let name = name.trim().to_owned();
        if name.is_empty() {
            return Err(Invalid);
        }
        let sub = match self.peek() {
            Some('.') => {
                self.at += 1;
                Some(vec![self.selector(depth + 1)?])
            }
            Some('(') => {
                self.at += 1;
                let group = self.group(depth + 1)?;
                if self.peek() != Some(')') {
                    return Err(Invalid);
                }
                self.at += 1;
                Some(group)
            }
            _ => None,
        };
        if negate && sub.is_some() {
            return Err(Invalid);
        }
        Ok(Selector { name, negate, sub })
    }
}

fn apply(value: Value, group: &[&Selector]) -> Value {
    match value {
        Value::Array(items) => Value::Array(items.into_iter().map(|v| apply(v, group)).collect()),
        Value::Object(map) => Value::Object(apply_object(map, group)),
        other => other,
    }
}

fn apply_object(map: Map<String, Value>, group: &[&Selector]) -> Map<String, Value> {
    let keeps_only = group.iter().any(|s| !s.negate);
    let mut out = Map::new();
    for (key, value) in map {
        if group.iter().any(|s| s.negate && s.name == key) {
            continue;
        }
        if !keeps_only {
            out.insert(key, value);
            continue;
        }
        let matching: Vec<&Selector> = group
            .iter()
            .copied()
            .filter(|s| !s.negate && s.name == key)
            .collect();
        if matching.is_empty() {
            continue;
        }
        if matching.iter().any(|s| s.sub.is_none()) {
            out.insert(key, value);
        } else {
            let merged: Vec<&Selector> = matching
                .iter()
                .flat_map(|s| s.sub.iter().flatten())
                .collect();
            out.insert(key, apply(value, &merged));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(fields: &str, value: Value) -> Value {
        Fields::parse(fields).unwrap().unwrap().apply(value)
    }

    fn page() -> Value {
        json!({
            "href": "h", "total": 2, "limit": 20,
            "items": [
                { "added_at": "t1", "added_by": { "id": "alice", "type": "user" },
                  "item": { "name": "A", "uri": "u1", "artists": [{ "name": "X", "id": "x" }], "album": { "name": "L", "href": "lh", "images": [] } } },
                { "added_at": "t2", "added_by": { "id": "bruno", "type": "user" },
                  "item": { "name": "B", "uri": "u2", "artists": [{ "name": "Y", "id": "y" }, { "name": "Z", "id": "z" }], "album": { "name": "M", "href": "mh", "images": [] } } }
            ]
        })
    }

    #[test]
    fn nested_groups_filter_each_array_element() {
        let out = run("items(added_at,item(uri,name,artists(name))),total", page());
        assert_eq!(
            out,
            json!({
                "total": 2,
                "items": [
                    { "added_at": "t1", "item": { "name": "A", "uri": "u1", "artists": [{ "name": "X" }] } },
                    { "added_at": "t2", "item": { "name": "B", "uri": "u2", "artists": [{ "name": "Y" }, { "name": "Z" }] } }
                ]
            })
        );
    }

    #[test]
    fn dots_and_exclusions() {
        assert_eq!(
            run("items(added_by.id)", page()),
            json!({ "items": [{ "added_by": { "id": "alice" } }, { "added_by": { "id": "bruno" } }] })
        );
        assert_eq!(
            run("items.item.album(!images,!href)", page()),
            json!({ "items": [{ "item": { "album": { "name": "L" } } }, { "item": { "album": { "name": "M" } } }] })
        );
        assert_eq!(
            run("!items,!href", page()),
            json!({ "total": 2, "limit": 20 })
        );
        // A leading `!` excludes the whole list, as in the reference's example `album(!external_urls,images)`.
        assert_eq!(
            run("items.item(!uri,name)", page()),
            json!({ "items": [
                { "item": { "artists": [{ "name": "X", "id": "x" }], "album": { "name": "L", "href": "lh", "images": [] } } },
                { "item": { "artists": [{ "name": "Y", "id": "y" }, { "name": "Z", "id": "z" }], "album": { "name": "M", "href": "mh", "images": [] } } }
            ] })
        );
        assert_eq!(
            run("items.item.album(!href,images)", page()),
            json!({ "items": [{ "item": { "album": { "name": "L" } } }, { "item": { "album": { "name": "M" } } }] })
        );
        // A `!` after a plain name drops that name only; the list still keeps only what it names.
        assert_eq!(
            run("items.item(name,!uri)", page()),
            json!({ "items": [{ "item": { "name": "A" } }, { "item": { "name": "B" } }] })
        );
        // A leading `!` cannot exclude a nested selection.
        assert_eq!(Fields::parse("!total,items(added_at)"), Err(Invalid));
    }

    #[test]
    fn repeated_names_merge_and_whole_wins() {
        assert_eq!(
            run("items(added_at),items(item.name)", page()),
            json!({ "items": [{ "added_at": "t1", "item": { "name": "A" } }, { "added_at": "t2", "item": { "name": "B" } }] })
        );
        assert_eq!(run("total,total(x)", page()), json!({ "total": 2 }));
        assert_eq!(
            run("items(added_by),items", page())["items"],
            page()["items"]
        );
    }

    #[test]
    fn unknown_names_give_empty_objects() {
        assert_eq!(run("nothing", page()), json!({}));
    }

    #[test]
    fn syntax_errors() {
        for bad in [
            "items(", "items)", "a,,b", "a(b))", "(a)", "a.", "!a(b)", "!a.b", "a()", ",",
        ] {
            assert_eq!(Fields::parse(bad), Err(Invalid), "{bad}");
        }
        assert_eq!(Fields::parse(""), Ok(None));
        assert_eq!(Fields::parse("  "), Ok(None));
        let deep = "a(".repeat(100) + "b" + &")".repeat(100);
        assert_eq!(Fields::parse(&deep), Err(Invalid));
        let long_path = vec!["a"; 100].join(".");
        assert_eq!(Fields::parse(&long_path), Err(Invalid));
    }
}
