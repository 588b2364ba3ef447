//! Small, cheap JS access for the rest of the boundary: cached JS strings for
//! static names, plain objects built field by field, checked property reads.

use crate::core::float;
use crate::prelude::*;
use alloc::rc::Rc;
use core::cell::RefCell;

use js_sys::{JsString, Object, Reflect};
use wasm_bindgen::prelude::*;

use crate::core::error::RequestError;
use crate::core::hash::{FxBuild, FxHashMap};

/// JS strings for static Rust strings (option names, command fields and
/// values), made once: a string sent to JS is otherwise decoded anew each time.
static STATIC_JS: OneThread<RefCell<FxHashMap<StaticKey, Rc<JsValue>>>> =
    OneThread(RefCell::new(FxHashMap::with_hasher(FxBuild::new())));

/// A static string by its address and length.
type StaticKey = (usize, usize);

/// A static of this one thread: wasm32 without atomics has no other thread
/// (what `thread_local!` gives, without std).
struct OneThread<T>(T);

// SAFETY: built without atomics, the wasm module runs on one thread only.
unsafe impl<T> Sync for OneThread<T> {}

/// The JS string for `s`, made on first use. No borrow is held while the
/// caller uses it (a JS getter may call back into the engine).
pub fn static_js(s: &'static str) -> Rc<JsValue> {
    let key = (s.as_ptr() as usize, s.len());
    if let Some(found) = STATIC_JS.0.borrow().get(&key).cloned() {
        return found;
    }
    let value = Rc::new(JsValue::from_str(s));
    STATIC_JS.0.borrow_mut().insert(key, value.clone());
    value
}

/// How much of a platform's message (errMsg, a close reason, what a
/// callback threw) the engines keep: enough to classify and to show.
pub const MESSAGE_UNITS: u32 = 2048;

#[wasm_bindgen]
extern "C" {
    /// `Reflect.set` without the try/catch of `js_sys::Reflect::set`: only
    /// for plain objects this module made, which have no setters to throw.
    #[wasm_bindgen(js_namespace = Reflect, js_name = set)]
    fn set_on_own_object(target: &Object, key: &JsValue, value: &JsValue) -> bool;

    // Caught forms of the js-sys calls that run the caller's code (Proxy
    // traps, iterators): an exception through a wasm frame skips the frame's
    // epilogue, so the shadow stack pointer would never be given back.
    #[wasm_bindgen(catch, js_namespace = Array, js_name = isArray)]
    fn is_array_or_throw(value: &JsValue) -> Result<bool, JsValue>;
}

/// A plain object made here and filled field by field, in the order the
/// fields are given (the order `JSON.stringify` shows).
pub struct Obj(Object);

impl Obj {
    /// An empty object.
    pub fn new() -> Obj {
        Obj(Object::new())
    }

    /// `key: value`.
    pub fn set(self, key: &'static str, value: &JsValue) -> Obj {
        set_on_own_object(&self.0, &static_js(key), value);
        self
    }

    /// `key: value` for a static string (made once, then reused).
    pub fn name(self, key: &'static str, value: &'static str) -> Obj {
        self.set(key, &static_js(value))
    }

    /// `key: value` for a string.
    pub fn text(self, key: &'static str, value: &str) -> Obj {
        self.set(key, &JsValue::from_str(value))
    }

    /// `key: value` for a key known only at run time (mock route parameters).
    pub fn text_at(self, key: &str, value: &str) -> Obj {
        set_on_own_object(&self.0, &JsValue::from_str(key), &JsValue::from_str(value));
        self
    }

    /// `key: value` for a number.
    pub fn num(self, key: &'static str, value: f64) -> Obj {
        self.set(key, &JsValue::from_f64(value))
    }

    /// `key: value` for a boolean.
    pub fn flag(self, key: &'static str, value: bool) -> Obj {
        self.set(key, &JsValue::from_bool(value))
    }

    /// `key: value`, or `key: null`.
    pub fn num_or_null(self, key: &'static str, value: Option<f64>) -> Obj {
        self.set(key, &value.map_or(JsValue::NULL, JsValue::from_f64))
    }

    /// `key: value`, or `key: null`.
    pub fn text_or_null(self, key: &'static str, value: Option<&str>) -> Obj {
        self.set(key, &value.map_or(JsValue::NULL, JsValue::from_str))
    }

    /// `key: value` only when there is a value.
    pub fn text_if(self, key: &'static str, value: Option<&str>) -> Obj {
        match value {
            Some(v) => self.text(key, v),
            None => self,
        }
    }

    /// The object.
    pub fn js(self) -> JsValue {
        self.0.into()
    }
}

/// `object[key]`, or a named error when reading it threw (a getter).
pub fn get(object: &JsValue, key: &'static str) -> Result<JsValue, RequestError> {
    Reflect::get(object, &static_js(key))
        .map_err(|_| RequestError::invalid(key, "could not be read (its getter threw)"))
}

/// `object[key]`, or undefined when reading it threw.
pub fn get_or_undefined(object: &JsValue, key: &str) -> JsValue {
    Reflect::get(object, &JsValue::from_str(key)).unwrap_or_default()
}

/// `Array.isArray(value)`; Err for a revoked Proxy (the only value it throws for).
pub fn is_array(value: &JsValue) -> Result<bool, ()> {
    if !value.is_object() {
        return Ok(false);
    }
    is_array_or_throw(value).map_err(|_| ())
}

/// The items of an array of at most `max` items, read by index (never by
/// its iterator, which may never end): Err(None) when its `length` is not a
/// whole number up to `max`, Err(Some(i)) when reading item `i` threw.
pub fn items_within(value: &JsValue, max: usize) -> Result<Vec<JsValue>, Option<u32>> {
    let length = length_of(value)
        .filter(|n| float::is_whole(*n) && (0.0..=max as f64).contains(n))
        .ok_or(None)? as u32;
    (0..length)
        .map(|i| Reflect::get_u32(value, i).map_err(|_| Some(i)))
        .collect()
}

/// `value.length` of an array, read without trusting it (a Proxy's trap may throw).
pub fn length_of(value: &JsValue) -> Option<f64> {
    Reflect::get(value, &static_js("length"))
        .ok()
        .and_then(|n| n.as_f64())
}

/// A string no longer than `max` UTF-16 units, copied into wasm only then:
/// Ok(None) when it is not a string, Err(its length) when it is longer.
/// UTF-8 takes at least one byte per UTF-16 unit, so a string refused here
/// is over `max` bytes too, and one copied is at most 3 × `max` bytes.
pub fn string_within(value: &JsValue, max: usize) -> Result<Option<String>, usize> {
    if !value.is_string() {
        return Ok(None);
    }
    // A string primitive's length runs no caller code.
    let units = value.unchecked_ref::<JsString>().length() as usize;
    if units > max {
        return Err(units);
    }
    Ok(value.as_string())
}

/// The first `max` UTF-16 units of a string (a platform's errMsg, a reason),
/// copied into wasm only that far; None when it is not a string.
pub fn text_prefix(value: &JsValue, max: u32) -> Option<String> {
    if !value.is_string() {
        return None;
    }
    let text = value.unchecked_ref::<JsString>();
    if text.length() <= max {
        text.as_string()
    } else {
        text.slice(0, max).as_string()
    }
}

/// What a value is, for error messages: null, array, or its `typeof`.
pub fn type_name(value: &JsValue) -> String {
    if value.is_null() {
        "null".into()
    } else if is_array(value) == Ok(true) {
        "array".into()
    } else if is_array(value).is_err() {
        "a revoked Proxy".into()
    } else {
        value
            .js_typeof()
            .as_string()
            .unwrap_or_else(|| "unknown".into())
    }
}

/// A plain (non-array) object.
pub fn is_plain_object(value: &JsValue) -> bool {
    value.is_object() && is_array(value) == Ok(false)
}
