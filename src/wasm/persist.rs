//! The persisted cache and offline queue as JS values: what `snapshot` and
//! `queue_snapshot` save and what is read back (checked field by field), and
//! what an entry weighs.

use crate::prelude::*;
use alloc::borrow::Cow;

use js_sys::{Array, JsString, Reflect, JSON};
use wasm_bindgen::prelude::*;

use super::js::{
    get_or_undefined as field, is_array, is_plain_object, items_within, length_of, static_js,
    string_within, type_name, Obj,
};
use super::write::mutation_object;
use crate::core::cache::store::{Entry, Weigh};
use crate::core::offline::{Mutation, StoredItem, QUEUE_FORMAT, QUEUE_VERSION, UNREADABLE};
use crate::core::POLICY_VERSION;

/// The storage key of the persisted cache, and the format it holds.
pub const PERSIST_KEY: &str = "mp-request:cache";
const PERSIST_FORMAT: &str = "mp-request/cache";
const PERSIST_VERSION: u32 = 1;

/// The storage key of the offline queue (its format is the core's `QUEUE_FORMAT`).
pub const QUEUE_KEY: &str = "mp-request:queue";

/// Added to every entry's estimated size: the key and bookkeeping.
const ENTRY_OVERHEAD_BYTES: usize = 64;

/// What the cache's byte budget counts for a response (see `estimate_size`).
impl Weigh for JsValue {
    fn weigh(&self) -> usize {
        estimate_size(self)
    }
}

/// An entry's estimated size: its response as JSON text, in UTF-16 code
/// units (what JS strings count; bytes for ASCII), plus a fixed overhead.
/// Values JSON cannot express count as the overhead alone.
fn estimate_size(response: &JsValue) -> usize {
    // `JSON.stringify` returns undefined (no string) for undefined and functions.
    let text: JsValue = JSON::stringify(response).map_or(JsValue::UNDEFINED, Into::into);
    let text_len = if text.is_string() {
        JsString::from(text).length() as usize
    } else {
        0
    };
    text_len + ENTRY_OVERHEAD_BYTES
}

/// `{ format, version, savedAt, user?, entries }`.
pub fn snapshot(
    now_ms: f64,
    user: Option<&str>,
    entries: Vec<(&String, &Entry<JsValue>)>,
) -> JsValue {
    let list: Array = entries
        .into_iter()
        .map(|(key, e)| {
            let tags: Array = e.tags.iter().map(|t| JsValue::from_str(t)).collect();
            Obj::new()
                .text("key", key)
                .text("path", &e.path)
                .text("scope", &e.scope)
                .set("tags", &tags)
                .num("freshUntil", e.fresh_until)
                .num("staleUntil", e.stale_until)
                .num("size", e.size as f64)
                .set("value", &e.value)
                .js()
        })
        .collect();
    Obj::new()
        .name("format", PERSIST_FORMAT)
        .num("version", PERSIST_VERSION.into())
        .num("policy", POLICY_VERSION.into())
        .num("savedAt", now_ms)
        .text_if("user", user)
        .set("entries", &list)
        .js()
}

/// `{ restored, discarded? }` for the debug log.
pub fn restore_outcome(restored: usize, discarded: Option<&str>) -> JsValue {
    Obj::new()
        .num("restored", restored as f64)
        .text_if("discarded", discarded)
        .js()
}

/// A restored snapshot: the user partition it was saved under, and its entries by key.
pub type Restored = (Option<String>, Vec<(String, Entry<JsValue>)>);

/// A saved snapshot, checked field by field; the first problem is the reason to discard it.
pub fn read_snapshot(stored: &JsValue) -> Result<Restored, String> {
    let Some(list) = stored_list(
        stored,
        "snapshot",
        PERSIST_FORMAT,
        PERSIST_VERSION,
        "entries",
    )?
    else {
        return Ok((None, Vec::new()));
    };
    let user = field(stored, "user").as_string();
    let mut entries = Vec::new();
    for (i, value) in elements(&list).enumerate() {
        let value = value.map_err(|_| format!("entry {i}: could not be read"))?;
        let item = Item::new("entry", i, value);
        let tags = field(&item.value, "tags");
        if is_array(&tags) != Ok(true) {
            return Err(item.bad("tags is not an array"));
        }
        let tags = items_within(&tags, crate::core::limits::MAX_LIST_ITEMS)
            .map_err(|_| item.bad("tags could not be read"))?
            .iter()
            .map(|t| {
                t.as_string()
                    .ok_or_else(|| item.bad("a tag is not a string"))
            })
            .collect::<Result<Vec<String>, String>>()?;
        let value = field(&item.value, "value");
        if !value.is_object() || field(&value, "statusCode").as_f64().is_none() {
            return Err(item.bad("value is not a response"));
        }
        item.num("size")?;
        let entry = Entry {
            // Not stored: a restored entry is refetched whole once stale.
            validator: None,
            revalidated: false,
            // No fetch of this launch stored it.
            fetch: 0,
            // Recomputed, not trusted: the budget must hold whatever storage says.
            size: estimate_size(&value),
            value,
            path: item.text("path")?,
            scope: item.text("scope")?,
            tags,
            fresh_until: item.num("freshUntil")?,
            stale_until: item.num("staleUntil")?,
            reason: "",
        };
        entries.push((item.text("key")?, entry));
    }
    Ok((user, entries))
}

/// What storage holds in `format` at `version` under this policy, checked
/// down to its list of items: None when nothing is stored.
fn stored_list(
    stored: &JsValue,
    what: &str,
    format: &str,
    version: u32,
    list: &str,
) -> Result<Option<Array>, String> {
    if stored.is_undefined()
        || stored.is_null()
        || string_within(stored, 0) == Ok(Some(String::new()))
    {
        return Ok(None);
    }
    if !is_plain_object(stored) {
        return Err(format!("not a {what} object ({})", type_name(stored)));
    }
    if field(stored, "format").as_string().as_deref() != Some(format) {
        return Err("another format (not written by mp-request)".into());
    }
    if field(stored, "version").as_f64() != Some(f64::from(version)) {
        return Err("another version of the format".into());
    }
    check_policy(stored)?;
    let items = field(stored, list);
    if is_array(&items) != Ok(true) {
        return Err(format!("{list} is not an array"));
    }
    Ok(Some(items.unchecked_into()))
}

/// Each element of `list`, or Err where reading it threw (a getter; never
/// in parsed JSON).
fn elements(list: &Array) -> impl Iterator<Item = Result<JsValue, JsValue>> + '_ {
    // Storage holds at most 1 MB per key: no more items than that.
    let length = length_of(list).map_or(0.0, |n| n.clamp(0.0, 1_048_576.0));
    (0..length as u32).map(|i| Reflect::get_u32(list, i))
}

/// One stored item, named in errors as `{label} {index}`.
struct Item {
    label: &'static str,
    index: usize,
    value: JsValue,
}

impl Item {
    fn new(label: &'static str, index: usize, value: JsValue) -> Self {
        Item {
            label,
            index,
            value,
        }
    }

    fn bad(&self, what: &str) -> String {
        format!("{} {}: {what}", self.label, self.index)
    }

    fn text(&self, key: &str) -> Result<String, String> {
        field(&self.value, key)
            .as_string()
            .ok_or_else(|| self.bad(&format!("{key} is not a string")))
    }

    /// A finite number, not below 0.
    fn num(&self, key: &str) -> Result<f64, String> {
        field(&self.value, key)
            .as_f64()
            .filter(|n| n.is_finite() && *n >= 0.0)
            .ok_or_else(|| self.bad(&format!("{key} is not a number")))
    }
}

/// Data written under another policy version is not read (see `POLICY_VERSION`).
fn check_policy(stored: &JsValue) -> Result<(), String> {
    let policy = field(stored, "policy").as_f64();
    if policy == Some(f64::from(POLICY_VERSION)) {
        return Ok(());
    }
    Err(match policy {
        Some(p) => format!(
            "written under policy version {}, this is {POLICY_VERSION}",
            crate::core::request::number(p)
        ),
        None => format!("written without a policy version (this is {POLICY_VERSION})"),
    })
}

/// `{ format, version, policy, items }`: the queue, oldest first.
pub fn queue_snapshot<'a>(items: impl Iterator<Item = &'a Mutation>) -> JsValue {
    let list: Array = items.map(mutation_object).collect();
    Obj::new()
        .name("format", QUEUE_FORMAT)
        .num("version", QUEUE_VERSION.into())
        .num("policy", POLICY_VERSION.into())
        .set("items", &list)
        .js()
}

/// A saved queue: the whole value checked (the first problem is the reason
/// to discard it all), then each item read as it is, for the core to check
/// (`offline::check_stored`). Nothing read here can throw or panic.
pub fn read_queue(stored: &JsValue) -> Result<Vec<StoredItem>, String> {
    let Some(list) = stored_list(stored, "queue", QUEUE_FORMAT, QUEUE_VERSION, "items")? else {
        return Ok(Vec::new());
    };
    Ok(elements(&list).map(read_item).collect())
}

/// One stored item's fields, each as found.
fn read_item(value: Result<JsValue, JsValue>) -> StoredItem {
    let mut item = StoredItem::default();
    let value = match value {
        Ok(v) if is_plain_object(&v) => v,
        found => {
            let found = found.map_or_else(|_| UNREADABLE.into(), |v| type_name(&v));
            item.wrong.push((Cow::Borrowed(""), found));
            return item;
        }
    };
    let mut reader = Reader {
        object: &value,
        wrong: Vec::new(),
    };
    item.id = reader.num("id");
    item.method = reader.text("method");
    item.path = reader.text("path");
    item.headers = reader.headers();
    item.data_json = reader.text("dataJson");
    item.idempotency_key = reader.text("idempotencyKey");
    item.user = match reader.get("user") {
        Some(v) if v.is_null() => None,
        v => reader.as_text("user", v),
    };
    item.queued_at = reader.num("queuedAt");
    item.attempts = reader.num("attempts");
    item.wrong = reader.wrong;
    item
}

/// Reads fields of one object, noting those of the wrong type or unreadable.
struct Reader<'a> {
    object: &'a JsValue,
    wrong: Vec<(Cow<'static, str>, String)>,
}

impl Reader<'_> {
    /// `object[key]`: None when absent (undefined) or unreadable (noted).
    fn get(&mut self, key: &'static str) -> Option<JsValue> {
        match Reflect::get(self.object, &static_js(key)) {
            Ok(v) if v.is_undefined() => None,
            Ok(v) => Some(v),
            Err(_) => {
                self.wrong.push((Cow::Borrowed(key), UNREADABLE.into()));
                None
            }
        }
    }

    fn as_text(&mut self, key: &'static str, value: Option<JsValue>) -> Option<String> {
        let value = value?;
        let text = value.as_string();
        if text.is_none() {
            self.wrong.push((Cow::Borrowed(key), type_name(&value)));
        }
        text
    }

    fn text(&mut self, key: &'static str) -> Option<String> {
        let value = self.get(key);
        self.as_text(key, value)
    }

    fn num(&mut self, key: &'static str) -> Option<f64> {
        let value = self.get(key)?;
        let n = value.as_f64();
        if n.is_none() {
            self.wrong.push((Cow::Borrowed(key), type_name(&value)));
        }
        n
    }

    /// `header`'s entries with string values (its own string keys).
    fn headers(&mut self) -> Vec<(String, String)> {
        let header = self.get("header").unwrap_or(JsValue::UNDEFINED);
        if !is_plain_object(&header) {
            self.wrong
                .push((Cow::Borrowed("header"), type_name(&header)));
            return Vec::new();
        }
        let Ok(names) = Reflect::own_keys(&header) else {
            self.wrong
                .push((Cow::Borrowed("header"), UNREADABLE.into()));
            return Vec::new();
        };
        let mut headers = Vec::new();
        for name in names.iter() {
            // Symbol keys are not JSON (JSON.stringify leaves them out).
            let Some(name) = name.as_string() else {
                continue;
            };
            let field = || Cow::Owned(format!("header.{name}"));
            match Reflect::get(&header, &JsValue::from_str(&name)) {
                Ok(value) => match value.as_string() {
                    Some(value) => headers.push((name, value)),
                    None => self.wrong.push((field(), type_name(&value))),
                },
                Err(_) => self.wrong.push((field(), UNREADABLE.into())),
            }
        }
        headers
    }
}
