//! The library's own frames that a service pushes over a managed socket
//! (docs/live.md is the contract): a JSON object with a `"$mp"` member, its
//! value the version of the frame format. Version 1 knows one type:
//!
//! ```json
//! {"$mp":1,"type":"invalidate","paths":["/api/order/list"],"tags":["orders"]}
//! ```
//!
//! `paths` are path prefixes and `tags` cache tags, as `client.invalidate`
//! takes them; either may be left out, not both. The socket engine hands
//! them to the request engine as one string (`Pushed::Invalidate`'s `names`:
//! a crossing of the boundary each way, not one per name). Members a version-1 reader
//! does not know are skipped (a later version may add some). Any other frame
//! with a `"$mp"` member (another version or type, a malformed one) is
//! ignored and counted, and never reaches the app's listeners: the `$`
//! keeps the namespace apart from app data.

use crate::core::limits::MAX_PATH_BYTES;
use crate::core::query::{unescape, Key, Members};
use crate::prelude::*;

/// The member that marks a frame as the library's.
pub const MARK: &str = "$mp";

/// How a larger frame of the library's must begin to be inspected at all:
/// frames longer than `control::MAX_CONTROL_BYTES` are read only then.
pub const LONG_START: &str = "{\"$mp\"";

/// The longest frame of the library's (UTF-8 bytes).
pub const MAX_PUSHED_BYTES: usize = 16 * 1024;

/// At most this many paths and tags in one frame.
pub const MAX_NAMES: usize = 64;

/// A frame of the library's, read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Pushed {
    /// Drop the current user's cached entries under these path prefixes or
    /// with these tags (and refetch the watched ones).
    Invalidate {
        /// One per line: a path prefix (it starts with `/`), or `#` and a
        /// tag; 1 to `MAX_NAMES` lines, none with a line break of its own.
        names: String,
    },
    /// Not a frame this version acts on: why (the shim logs it with the frame).
    Ignored(&'static str),
}

/// The members of a frame that the socket reads (as written; absent: None).
#[derive(Debug, Default)]
pub struct Fields<'a> {
    /// `$mp`.
    pub version: Option<&'a str>,
    /// `type`.
    pub kind: Option<&'a str>,
    /// `t` (pings and pongs).
    pub t: Option<&'a str>,
    /// `id` (acks).
    pub id: Option<&'a str>,
    /// `paths`.
    pub paths: Option<&'a str>,
    /// `tags`.
    pub tags: Option<&'a str>,
    /// One of these was given twice.
    pub twice: bool,
}

/// Reads a frame of the library's (its `version` is there). Members a
/// version-1 reader does not know were skipped.
pub fn read(fields: &Fields) -> Pushed {
    match invalidation(fields) {
        Ok(pushed) => pushed,
        Err(why) => Pushed::Ignored(why),
    }
}

fn invalidation(fields: &Fields) -> Result<Pushed, &'static str> {
    if fields.twice {
        return Err("a member given twice");
    }
    if fields.version != Some("1") {
        return Err("another version than 1");
    }
    let kind = fields
        .kind
        .filter(|t| t.starts_with('"'))
        .map(unescape)
        .ok_or("no `type`")?;
    if kind != "invalidate" {
        return Err("a type version 1 does not know");
    }
    let mut names = String::new();
    let mut count = 0;
    lines(fields.paths, Line::Path, &mut names, &mut count)?;
    lines(fields.tags, Line::Tag, &mut names, &mut count)?;
    if count == 0 {
        return Err("no path and no tag");
    }
    Ok(Pushed::Invalidate { names })
}

/// What a line of `names` holds.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Line {
    Path,
    Tag,
}

/// Appends the strings of the array `value` (absent: none) to `names`, one
/// per line, tags after `#`.
fn lines(
    value: Option<&str>,
    line: Line,
    names: &mut String,
    count: &mut usize,
) -> Result<(), &'static str> {
    const NOT_STRINGS: &str = "`paths` or `tags` not an array of strings";
    let Some(value) = value else {
        return Ok(());
    };
    if !value.starts_with('[') {
        return Err(NOT_STRINGS);
    }
    let mut items = Members::new(value).ok_or(NOT_STRINGS)?;
    while let Some((Key::Index(_), item)) = items.next_member().ok_or(NOT_STRINGS)? {
        if !item.starts_with('"') || item.len() > MAX_PATH_BYTES {
            return Err(NOT_STRINGS);
        }
        let name = unescape(item);
        match line {
            Line::Path if !name.starts_with('/') => {
                return Err("a path that does not start with '/'")
            }
            Line::Tag if name.is_empty() => return Err("an empty tag"),
            _ if name.bytes().any(|b| b == b'\n') => return Err("a path or tag with a line break"),
            _ => {}
        }
        *count += 1;
        if *count > MAX_NAMES {
            return Err("more than 64 paths and tags");
        }
        if !names.is_empty() {
            names.push('\n');
        }
        if line == Line::Tag {
            names.push('#');
        }
        names.push_str(&name);
    }
    Ok(())
}

/// Whether `names` is as `Pushed::Invalidate` gives them (the request
/// engine checks what the shim hands it).
pub fn valid_names(names: &str) -> bool {
    !names.is_empty()
        && names.split('\n').count() <= MAX_NAMES
        && names
            .split('\n')
            .all(|n| n.starts_with('/') || n.len() > 1 && n.starts_with('#'))
}

/// Whether an entry of `path` with `tags` is among `names`.
pub fn names_select(names: &str, path: &str, tags: &[String]) -> bool {
    names.split('\n').any(|n| match n.strip_prefix('#') {
        Some(tag) => tags.iter().any(|t| t == tag),
        None => path.starts_with(n),
    })
}
