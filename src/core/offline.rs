//! The offline mutation queue (the seed's 离线数据同步): a mutation asked to
//! `offline: 'queue'` that cannot reach the server (the device is offline,
//! or it failed with `offline` or `network`) is kept, in order, and replayed
//! one at a time when the network returns or the app starts, always with its
//! idempotency key, so a replay the server already saw is answered, not run
//! again. Bounded by count and by its bytes as stored (wx storage holds at
//! most 1 MB a key). What storage gives back is checked field by field here:
//! a damaged item is dropped and reported, never a failed start.

use super::cache::json::is_json;
use super::error::RequestError;
use super::limits::check_headers;
use super::request::{number, quoted, validate_idempotency_key, validate_path, whole_or, Method};
use super::POLICY_VERSION;
use crate::core::float;
use crate::prelude::*;
use alloc::borrow::Cow;
use alloc::collections::VecDeque;

/// Queued mutations kept when `offlineQueue.maxItems` is not given.
pub const DEFAULT_MAX_ITEMS: u32 = 100;
/// Their bytes as stored when `offlineQueue.maxBytes` is not given.
pub const DEFAULT_MAX_BYTES: u32 = 512 * 1024;
/// The most `maxBytes` may be: the queue is one storage key, and a key holds
/// 1 MB (1,048,576 bytes). `maxBytes` bounds the whole value written,
/// envelope included, so this leaves 24 KB to spare.
pub const MAX_MAX_BYTES: u32 = 1000 * 1024;
/// What one wx storage key holds.
pub const STORAGE_KEY_BYTES: usize = 1024 * 1024;
const _: () = assert!((MAX_MAX_BYTES as usize) < STORAGE_KEY_BYTES);

/// The storage format of the queue: `{ format, version, policy, items }`.
pub const QUEUE_FORMAT: &str = "mp-request/queue";
/// Its version.
pub const QUEUE_VERSION: u32 = 1;

/// Header names that carry credentials: never written to storage. A queued
/// mutation gets them at replay time from the client's `header` option.
pub const CREDENTIAL_HEADERS: [&str; 3] = ["authorization", "cookie", "proxy-authorization"];

/// Parts of a header name that mark a credential by the usual conventions
/// (`X-Token`, `X-Access-Token`, `X-Auth-User`, `X-Session-Id`, `X-Api-Key`, ...).
const CREDENTIAL_PARTS: [&str; 7] = [
    "token", "auth", "session", "secret", "password", "api-key", "apikey",
];

/// `name` is a credential header (case-insensitively): one of
/// [`CREDENTIAL_HEADERS`], or a name containing one of the usual parts.
pub fn is_credential(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    CREDENTIAL_HEADERS.contains(&lower.as_str())
        || CREDENTIAL_PARTS.iter().any(|part| lower.contains(part))
}

/// The queue's bounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueueLimits {
    /// Items at most.
    pub max_items: u32,
    /// Bytes at most of the value written to storage (see [`stored_bytes`]).
    pub max_bytes: u32,
}

impl Default for QueueLimits {
    fn default() -> Self {
        QueueLimits {
            max_items: DEFAULT_MAX_ITEMS,
            max_bytes: DEFAULT_MAX_BYTES,
        }
    }
}

impl QueueLimits {
    /// Validates `offlineQueue: { maxItems, maxBytes }`.
    pub fn parse(max_items: Option<f64>, max_bytes: Option<f64>) -> Result<Self, RequestError> {
        Ok(QueueLimits {
            max_items: whole_or(
                "offlineQueue.maxItems",
                max_items,
                1,
                1000,
                DEFAULT_MAX_ITEMS,
            )?,
            max_bytes: whole_or(
                "offlineQueue.maxBytes",
                max_bytes,
                1024,
                MAX_MAX_BYTES,
                DEFAULT_MAX_BYTES,
            )?,
        })
    }
}

/// One queued mutation: everything needed to send it again.
#[derive(Clone, Debug, PartialEq)]
pub struct Mutation {
    /// Its id in `pending()` and in sync reports.
    pub id: u32,
    /// POST, PUT, DELETE or PATCH.
    pub method: Method,
    /// The path with its query.
    pub path: String,
    /// The headers it was given.
    pub headers: Vec<(String, String)>,
    /// `JSON.stringify(data)`, if it had data.
    pub data_json: Option<String>,
    /// The `Idempotency-Key` every replay carries.
    pub idempotency_key: String,
    /// The user (`setUser`) it was made under: it replays only while that
    /// user is current. None: made with no user set.
    pub user: Option<String>,
    /// When it was queued (epoch ms).
    pub queued_at: f64,
    /// Replays that failed for a reason that may pass.
    pub attempts: u32,
}

/// `{"id":…,"method":…,"path":…,"header":{…},"idempotencyKey":…,"queuedAt":…,"attempts":…}`
/// without the values: the bytes every stored item has.
const ITEM_FRAME: &str =
    r#"{"id":,"method":,"path":,"header":{},"idempotencyKey":,"queuedAt":,"attempts":}"#;
/// What `dataJson` and `user` add besides their values.
const DATA_JSON_KEY: &str = r#","dataJson":"#;
const USER_KEY: &str = r#","user":"#;
/// `attempts` grows while the mutation is queued: counted at its widest (u32::MAX).
const ATTEMPTS_BYTES: usize = 10;
/// `{"format":"mp-request/queue","version":1,"policy":1,"items":[]}` without
/// the version and policy numbers.
const ENVELOPE_FRAME: &str = r#"{"format":,"version":,"policy":,"items":[]}"#;

impl Mutation {
    /// Its size in storage: the UTF-8 bytes of `JSON.stringify` of the object
    /// it is stored as (`mutation_object` at the boundary: `{ id, method, path,
    /// header, dataJson?, idempotencyKey, user?, queuedAt, attempts }`).
    /// Strings count exactly; `queuedAt` exactly when it is a whole number
    /// below 1e15 (what `Date.now()` gives) and at its widest otherwise;
    /// `attempts` at its widest, so the size does not change while queued.
    pub fn size(&self) -> usize {
        let headers: usize = self
            .headers
            .iter()
            .map(|(n, v)| json_string_bytes(n) + 1 + json_string_bytes(v))
            .sum::<usize>()
            + self.headers.len().saturating_sub(1);
        ITEM_FRAME.len()
            + whole_bytes(self.id.into())
            + json_string_bytes(self.method.as_str())
            + json_string_bytes(&self.path)
            + headers
            + self
                .data_json
                .as_deref()
                .map_or(0, |d| DATA_JSON_KEY.len() + json_string_bytes(d))
            + json_string_bytes(&self.idempotency_key)
            + self
                .user
                .as_deref()
                .map_or(0, |u| USER_KEY.len() + json_string_bytes(u))
            + number_bytes(self.queued_at)
            + ATTEMPTS_BYTES
    }
}

/// The UTF-8 bytes of `JSON.stringify(text)`, quotes included: `"` and `\`
/// and \b \f \n \r \t take two bytes, other control characters six
/// (`\u00XX`), everything else its UTF-8 bytes (a Rust string has no lone
/// surrogates, the one other thing `JSON.stringify` escapes).
pub fn json_string_bytes(text: &str) -> usize {
    2 + text
        .bytes()
        .map(|b| match b {
            b'"' | b'\\' | 0x08 | 0x0c | b'\n' | b'\r' | b'\t' => 2,
            0..=0x1f => 6,
            _ => 1,
        })
        .sum::<usize>()
}

/// The bytes of a JS number as JSON writes it: exact for whole numbers from
/// 0 to 1e15, otherwise at most 25 (`-0.0000012345678901234567`, the widest
/// `Number.prototype.toString` gives; `null` for NaN and infinities is shorter).
pub fn number_bytes(value: f64) -> usize {
    if float::is_whole(value) && (0.0..1e15).contains(&value) {
        whole_bytes(value as u64)
    } else {
        25
    }
}

/// The decimal digits of `n`.
fn whole_bytes(mut n: u64) -> usize {
    let mut digits = 1;
    while n >= 10 {
        n /= 10;
        digits += 1;
    }
    digits
}

/// The bytes written to storage for a queue of `count` items whose sizes add
/// up to `items`: the envelope `{"format":"mp-request/queue","version":1,
/// "policy":1,"items":[…]}` and the commas between the items.
pub fn stored_bytes(count: usize, items: usize) -> usize {
    ENVELOPE_FRAME.len()
        + json_string_bytes(QUEUE_FORMAT)
        + whole_bytes(QUEUE_VERSION.into())
        + whole_bytes(POLICY_VERSION.into())
        + items
        + count.saturating_sub(1)
}

/// Why a mutation was not queued.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refused {
    /// `maxItems` are queued already.
    Full,
    /// It would take the queue past `maxBytes`.
    TooLarge,
}

impl Refused {
    /// For the error's detail.
    pub fn explain(self, limits: QueueLimits) -> String {
        match self {
            Refused::Full => format!(
                "not queued: the offline queue holds its maximum of {} mutations",
                limits.max_items
            ),
            Refused::TooLarge => format!(
                "not queued: the offline queue is full (with it, it would take more than its {} bytes in storage)",
                limits.max_bytes
            ),
        }
    }
}

/// The queue, oldest first.
#[derive(Clone, Debug, Default)]
pub struct Queue {
    items: VecDeque<Mutation>,
    limits: QueueLimits,
    bytes: usize,
    next_id: u32,
}

impl Queue {
    /// An empty queue.
    pub fn new(limits: QueueLimits) -> Self {
        Queue {
            limits,
            next_id: 1,
            ..Queue::default()
        }
    }

    /// Whether one more item of `size` bytes keeps within the bounds.
    fn fits(&self, size: usize) -> Result<(), Refused> {
        if self.items.len() >= self.limits.max_items as usize {
            return Err(Refused::Full);
        }
        if stored_bytes(self.items.len() + 1, self.bytes + size) > self.limits.max_bytes as usize {
            return Err(Refused::TooLarge);
        }
        Ok(())
    }

    /// Appends `mutation` (its id is assigned here) unless a bound forbids it.
    pub fn push(&mut self, mut mutation: Mutation) -> Result<u32, Refused> {
        // Restored ids are whatever storage held (up to u32::MAX, where the
        // next id wraps): never hand out one in use.
        while self.get(self.next_id).is_some() {
            self.next_id = self.next_id.wrapping_add(1).max(1);
        }
        mutation.id = self.next_id;
        let size = mutation.size();
        self.fits(size)?;
        self.next_id = self.next_id.wrapping_add(1).max(1);
        self.bytes += size;
        let id = mutation.id;
        self.items.push_back(mutation);
        Ok(id)
    }

    /// Puts back what storage held (oldest first), within the bounds; ids are
    /// kept and new ones follow them. Returns how many did not fit.
    pub fn restore(&mut self, items: Vec<Mutation>) -> usize {
        let mut dropped = 0;
        for item in items {
            let size = item.size();
            if self.fits(size).is_err() || self.items.iter().any(|m| m.id == item.id) {
                dropped += 1;
                continue;
            }
            self.next_id = self.next_id.max(item.id.wrapping_add(1)).max(1);
            self.bytes += size;
            self.items.push_back(item);
        }
        dropped
    }

    /// The oldest mutation.
    pub fn front(&self) -> Option<&Mutation> {
        self.items.front()
    }

    /// Removes mutation `id`; returns it.
    pub fn remove(&mut self, id: u32) -> Option<Mutation> {
        let i = self.items.iter().position(|m| m.id == id)?;
        let mutation = self.items.remove(i)?;
        self.bytes = self.bytes.saturating_sub(mutation.size());
        Some(mutation)
    }

    /// Mutation `id`.
    pub fn get(&self, id: u32) -> Option<&Mutation> {
        self.items.iter().find(|m| m.id == id)
    }

    /// Mutation `id`, to count a failed replay.
    pub fn get_mut(&mut self, id: u32) -> Option<&mut Mutation> {
        self.items.iter_mut().find(|m| m.id == id)
    }

    /// Everything queued, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &Mutation> {
        self.items.iter()
    }

    /// How many are queued.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The bounds.
    pub fn limits(&self) -> QueueLimits {
        self.limits
    }

    /// The bytes its stored form takes (at most `limits().max_bytes`).
    pub fn stored_bytes(&self) -> usize {
        stored_bytes(self.items.len(), self.bytes)
    }
}

/// `value` as a u32 when it is a whole number from `min` on that fits one.
fn whole(value: f64, min: u32) -> Option<u32> {
    (float::is_whole(value) && value >= f64::from(min) && value <= f64::from(u32::MAX))
        .then_some(value as u32)
}

/// What a reader found where it expected a field: its type name (`number`,
/// `null`, ...), or [`UNREADABLE`].
pub type Found = String;

/// Found for a field whose reading threw (a JS getter).
pub const UNREADABLE: &str = "unreadable";

/// One stored queue item as the boundary read it, before any check: each
/// field it found with the type it should have (None when absent), and the
/// fields it found with another type or could not read.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StoredItem {
    /// `id`
    pub id: Option<f64>,
    /// `method`
    pub method: Option<String>,
    /// `path`
    pub path: Option<String>,
    /// `header`'s entries whose values are strings.
    pub headers: Vec<(String, String)>,
    /// `dataJson`
    pub data_json: Option<String>,
    /// `idempotencyKey`
    pub idempotency_key: Option<String>,
    /// `user` (None: absent or null)
    pub user: Option<String>,
    /// `queuedAt`
    pub queued_at: Option<f64>,
    /// `attempts`
    pub attempts: Option<f64>,
    /// Fields found with the wrong type, or unreadable, in the order read:
    /// (`dataJson`, `header`, `header.X-Trace`, or "" for the item itself;
    /// what was found). The first one makes the item damaged.
    pub wrong: Vec<(Cow<'static, str>, Found)>,
}

/// A stored item that cannot be restored.
#[derive(Clone, Debug, PartialEq)]
pub struct Damaged {
    /// Its place in the stored list (from 0).
    pub index: usize,
    /// What could be read of it, to report (no data; id 0 if it had none;
    /// POST if its method is not one; other unreadable fields empty or 0).
    pub mutation: Mutation,
    /// An `invalid` error naming the item and the field.
    pub error: RequestError,
}

/// What storage gave back, checked.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Checked {
    /// The items to restore, in order.
    pub items: Vec<Mutation>,
    /// The ones dropped as damaged, in order.
    pub damaged: Vec<Damaged>,
    /// Credential headers left out of what is restored.
    pub credentials_dropped: usize,
}

/// Checks every stored item (see [`StoredItem::check`]).
pub fn check_stored(stored: Vec<StoredItem>) -> Checked {
    let mut out = Checked::default();
    for (index, item) in stored.into_iter().enumerate() {
        out.credentials_dropped += item
            .headers
            .iter()
            .filter(|(name, _)| is_credential(name))
            .count();
        match item.check(index, &out.items) {
            Ok(mutation) => out.items.push(mutation),
            Err(damaged) => out.damaged.push(*damaged),
        }
    }
    out
}

impl StoredItem {
    /// The mutation it stands for, or why it is damaged. `restored` are the
    /// items before it that passed (its id must differ from theirs).
    /// Credential headers are left out: credentials are never replayed from
    /// storage.
    pub fn check(self, index: usize, restored: &[Mutation]) -> Result<Mutation, Box<Damaged>> {
        let problem = self.problem(restored);
        let headers = self
            .headers
            .into_iter()
            .filter(|(name, _)| !is_credential(name))
            .collect();
        let mut mutation = Mutation {
            id: self.id.and_then(|id| whole(id, 1)).unwrap_or(0),
            method: self
                .method
                .as_deref()
                .and_then(|m| Method::parse(m).ok())
                .unwrap_or(Method::Post),
            path: self.path.unwrap_or_default(),
            headers,
            data_json: self.data_json,
            idempotency_key: self.idempotency_key.unwrap_or_default(),
            user: self.user,
            queued_at: self
                .queued_at
                .filter(|t| t.is_finite() && *t >= 0.0)
                .unwrap_or(0.0),
            attempts: self.attempts.and_then(|a| whole(a, 0)).unwrap_or(0),
        };
        let Some((field, problem)) = problem else {
            return Ok(mutation);
        };
        mutation.data_json = None;
        let dot = if field.is_empty() { "" } else { "." };
        Err(Box::new(Damaged {
            index,
            mutation,
            error: RequestError::invalid(
                format!("items[{index}]{dot}{field}"),
                format!("in the stored offline queue {problem}; the item was dropped"),
            ),
        }))
    }

    /// The first problem in field order, as (field, what is wrong).
    fn problem(&self, restored: &[Mutation]) -> Option<(Cow<'static, str>, Cow<'static, str>)> {
        // A credential header is left out whatever it holds.
        let wrong = self
            .wrong
            .iter()
            .find(|(field, _)| !field.strip_prefix("header.").is_some_and(is_credential))
            .map(|(field, found)| {
                let expected = match &**field {
                    _ if found == UNREADABLE => {
                        return (field.clone(), "could not be read (its getter threw)".into())
                    }
                    "" | "header" => "is not an object",
                    "id" | "queuedAt" | "attempts" => "is not a number",
                    "user" => "is not a string or null",
                    _ => "is not a string",
                };
                (field.clone(), got(expected, found))
            });
        // A field of the wrong type reads as absent: its own problem comes first.
        let order = |field: &str| {
            let name = field.split('.').next().unwrap_or_default();
            FIELDS.iter().position(|f| *f == name)
        };
        match (wrong, self.value_problem(restored)) {
            (Some(w), Some(v)) if order(&v.0) < order(&w.0) => Some(v),
            (Some(w), _) => Some(w),
            (None, v) => v,
        }
    }

    /// The first problem with a value read.
    fn value_problem(
        &self,
        restored: &[Mutation],
    ) -> Option<(Cow<'static, str>, Cow<'static, str>)> {
        let at =
            |field: &'static str, problem: Cow<'static, str>| Some((Cow::Borrowed(field), problem));
        const MISSING: Cow<'static, str> = Cow::Borrowed("is missing");
        let Some(id) = self.id else {
            return at("id", MISSING);
        };
        if whole(id, 1).is_none() {
            return at(
                "id",
                got("must be a whole number from 1 to 4294967295", &number(id)),
            );
        }
        if restored.iter().any(|m| f64::from(m.id) == id) {
            return at("id", Cow::Borrowed("is the id of an earlier item"));
        }
        let Some(method) = self.method.as_deref() else {
            return at("method", MISSING);
        };
        if !matches!(
            Method::parse(method),
            Ok(Method::Post | Method::Put | Method::Delete | Method::Patch)
        ) {
            return at(
                "method",
                got(
                    "is not one of POST, PUT, DELETE, PATCH",
                    &quoted(method, 32),
                ),
            );
        }
        let Some(path) = self.path.as_deref() else {
            return at("path", MISSING);
        };
        let headers: Vec<(String, String)> = self
            .headers
            .iter()
            .filter(|(name, _)| !is_credential(name))
            .cloned()
            .collect();
        let checks = validate_path(path).and_then(|()| check_headers(&headers));
        // Request checks give `invalid` errors: their field and problem.
        if let Err(RequestError::Invalid { field, problem }) = checks {
            return Some((field, problem));
        }
        if self.data_json.as_deref().is_some_and(|d| !is_json(d)) {
            return at("dataJson", Cow::Borrowed("is not JSON"));
        }
        let Some(key) = self.idempotency_key.as_deref() else {
            return at("idempotencyKey", MISSING);
        };
        if let Err(RequestError::Invalid { field, problem }) = validate_idempotency_key(key) {
            return Some((field, problem));
        }
        if self.user.as_deref() == Some("") {
            return at(
                "user",
                Cow::Borrowed("is an empty string (a user is a non-empty string or null)"),
            );
        }
        let Some(queued_at) = self.queued_at else {
            return at("queuedAt", MISSING);
        };
        if !(queued_at.is_finite() && queued_at >= 0.0) {
            return at(
                "queuedAt",
                got("must be a time from 0 on", &number(queued_at)),
            );
        }
        let Some(attempts) = self.attempts else {
            return at("attempts", MISSING);
        };
        if whole(attempts, 0).is_none() {
            return at(
                "attempts",
                got(
                    "must be a whole number from 0 to 4294967295",
                    &number(attempts),
                ),
            );
        }
        None
    }
}

/// A stored item's fields in the order they are written and checked ("": the item).
const FIELDS: [&str; 10] = [
    "",
    "id",
    "method",
    "path",
    "header",
    "dataJson",
    "idempotencyKey",
    "user",
    "queuedAt",
    "attempts",
];

/// `what, got value`.
#[inline(never)]
fn got(what: &'static str, value: &str) -> Cow<'static, str> {
    Cow::Owned(format!("{what}, got {value}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mutation(data: &str) -> Mutation {
        Mutation {
            id: 0,
            method: Method::Post,
            path: "/api/order/create".into(),
            headers: vec![],
            data_json: Some(data.into()),
            idempotency_key: "k".repeat(32),
            user: None,
            queued_at: 0.0,
            attempts: 0,
        }
    }

    #[test]
    fn credential_headers_by_name_and_by_convention() {
        for name in [
            "Authorization",
            "cookie",
            "Proxy-Authorization",
            "X-Token",
            "token",
            "X-Access-Token",
            "X-Auth-User",
            "X-Session-Id",
            "X-Api-Key",
            "apikey",
        ] {
            assert!(is_credential(name), "{name}");
        }
        for name in [
            "Idempotency-Key",
            "X-Trace",
            "Content-Type",
            "Accept-Language",
        ] {
            assert!(!is_credential(name), "{name}");
        }
    }

    #[test]
    fn keeps_order_and_assigns_ids() {
        let mut q = Queue::new(QueueLimits::default());
        assert_eq!(q.push(mutation("{\"n\":1}")), Ok(1));
        assert_eq!(q.push(mutation("{\"n\":2}")), Ok(2));
        assert_eq!(q.front().unwrap().id, 1);
        assert_eq!(q.remove(1).unwrap().data_json.as_deref(), Some("{\"n\":1}"));
        assert_eq!(q.front().unwrap().id, 2);
    }

    #[test]
    fn bounded_by_count_and_by_bytes() {
        let mut q = Queue::new(QueueLimits {
            max_items: 2,
            max_bytes: 2048,
        });
        q.push(mutation("1")).unwrap();
        q.push(mutation("2")).unwrap();
        assert_eq!(q.push(mutation("3")), Err(Refused::Full));
        q.remove(1);
        assert_eq!(q.push(mutation(&"x".repeat(2000))), Err(Refused::TooLarge));
        assert_eq!(q.len(), 1);
    }

    #[test]
    fn restore_keeps_ids_and_drops_what_does_not_fit() {
        let mut q = Queue::new(QueueLimits {
            max_items: 2,
            max_bytes: 100_000,
        });
        let items = [7, 9, 11]
            .map(|id| Mutation {
                id,
                ..mutation("{}")
            })
            .to_vec();
        assert_eq!(q.restore(items), 1);
        assert_eq!(q.iter().map(|m| m.id).collect::<Vec<_>>(), [7, 9]);
        q.remove(7);
        assert_eq!(
            q.push(mutation("{}")),
            Ok(10),
            "new ids follow the restored ones"
        );
    }

    #[test]
    fn new_ids_skip_restored_ones_past_the_wrap() {
        // Found by tests/fuzz_core.rs: after restoring u32::MAX - 1 and
        // u32::MAX, the next push was given u32::MAX again.
        let mut q = Queue::new(QueueLimits::default());
        let items = [u32::MAX - 1, u32::MAX, 1]
            .map(|id| Mutation {
                id,
                ..mutation("{}")
            })
            .to_vec();
        assert_eq!(q.restore(items), 0);
        assert_eq!(q.push(mutation("{}")), Ok(2));
        assert_eq!(q.push(mutation("{}")), Ok(3));
        let mut ids: Vec<u32> = q.iter().map(|m| m.id).collect();
        crate::core::sort::sort(&mut ids);
        ids.dedup();
        assert_eq!(ids.len(), q.len());
    }

    #[test]
    fn limits_are_checked() {
        assert!(QueueLimits::parse(Some(0.0), None)
            .unwrap_err()
            .to_string()
            .contains("offlineQueue.maxItems"));
        assert!(QueueLimits::parse(None, Some(2e6))
            .unwrap_err()
            .to_string()
            .contains("offlineQueue.maxBytes` must be a whole number from 1024 to 1024000"));
    }
}
