//! The persisted cache as a JS value: what `snapshot` saves and `restore`
//! reads back (checked field by field), and what an entry weighs.

use js_sys::{Array, JsString, JSON};
use wasm_bindgen::prelude::*;

use super::js::{get_or_undefined as field, type_name, Obj};
use super::write::mutation_object;
use crate::core::cache::store::{Entry, Weigh};
use crate::core::offline::Mutation;
use crate::core::request::{validate_header, Method};
use crate::core::POLICY_VERSION;

/// The storage key of the persisted cache, and the format it holds.
pub const PERSIST_KEY: &str = "mp-request:cache";
const PERSIST_FORMAT: &str = "mp-request/cache";
const PERSIST_VERSION: u32 = 1;

/// The storage key of the offline queue, and the format it holds.
pub const QUEUE_KEY: &str = "mp-request:queue";
const QUEUE_FORMAT: &str = "mp-request/queue";
const QUEUE_VERSION: u32 = 1;

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
    for (i, value) in list.iter().enumerate() {
        let item = Item::new("entry", i, value);
        let tags = field(&item.value, "tags");
        if !Array::is_array(&tags) {
            return Err(item.bad("tags is not an array"));
        }
        let tags = Array::from(&tags)
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
            // Recomputed, not trusted: the budget must hold whatever storage says.
            size: estimate_size(&value),
            value,
            path: item.text("path")?,
            scope: item.text("scope")?,
            tags,
            fresh_until: item.num("freshUntil")?,
            stale_until: item.num("staleUntil")?,
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
    if stored.is_undefined() || stored.is_null() || stored.as_string().as_deref() == Some("") {
        return Ok(None);
    }
    if !stored.is_object() || Array::is_array(stored) {
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
    if !Array::is_array(&items) {
        return Err(format!("{list} is not an array"));
    }
    Ok(Some(Array::from(&items)))
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

/// A saved queue, checked field by field; the first problem is the reason to discard it.
pub fn read_queue(stored: &JsValue) -> Result<Vec<Mutation>, String> {
    let Some(list) = stored_list(stored, "queue", QUEUE_FORMAT, QUEUE_VERSION, "items")? else {
        return Ok(Vec::new());
    };
    let mut items = Vec::new();
    for (i, value) in list.iter().enumerate() {
        let item = Item::new("item", i, value);
        let method =
            Method::parse(&item.text("method")?).map_err(|_| item.bad("method is not one"))?;
        let header = field(&item.value, "header");
        if !header.is_object() {
            return Err(item.bad("header is not an object"));
        }
        let mut headers = Vec::new();
        let names =
            js_sys::Reflect::own_keys(&header).map_err(|_| item.bad("header is not readable"))?;
        for name in names.iter() {
            let name = name.as_string().unwrap_or_default();
            let value = field(&header, &name)
                .as_string()
                .ok_or_else(|| item.bad("a header is not a string"))?;
            validate_header(&name, &value).map_err(|_| item.bad("a header is not valid"))?;
            headers.push((name, value));
        }
        let data_json = match field(&item.value, "dataJson") {
            data if data.is_undefined() => None,
            _ => Some(item.text("dataJson")?),
        };
        items.push(Mutation {
            id: item.num("id")? as u32,
            method,
            path: item.text("path")?,
            headers,
            data_json,
            idempotency_key: item.text("idempotencyKey")?,
            user: field(&item.value, "user").as_string(),
            queued_at: item.num("queuedAt")?,
            attempts: item.num("attempts")? as u32,
        });
    }
    Ok(items)
}
