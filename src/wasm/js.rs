//! Small, cheap JS access for the rest of the boundary: cached JS strings for
//! static names, plain objects built field by field, checked property reads.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Array, Object, Reflect};
use wasm_bindgen::prelude::*;

use crate::core::error::RequestError;
use crate::core::hash::FxHashMap;

thread_local! {
    /// JS strings for static Rust strings (option names, command fields and
    /// values), made once: a string sent to JS is otherwise decoded anew each time.
    static STATIC_JS: RefCell<FxHashMap<(usize, usize), Rc<JsValue>>> = RefCell::new(FxHashMap::default());
}

/// The JS string for `s`, made on first use. No borrow is held while the
/// caller uses it (a JS getter may call back into the engine).
pub fn static_js(s: &'static str) -> Rc<JsValue> {
    let key = (s.as_ptr() as usize, s.len());
    if let Some(found) = STATIC_JS.with(|cache| cache.borrow().get(&key).cloned()) {
        return found;
    }
    let value = Rc::new(JsValue::from_str(s));
    STATIC_JS.with(|cache| cache.borrow_mut().insert(key, value.clone()));
    value
}

#[wasm_bindgen]
extern "C" {
    /// `Reflect.set` without the try/catch of `js_sys::Reflect::set`: only
    /// for plain objects this module made, which have no setters to throw.
    #[wasm_bindgen(js_namespace = Reflect, js_name = set)]
    fn set_on_own_object(target: &Object, key: &JsValue, value: &JsValue) -> bool;
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

/// What a value is, for error messages: null, array, or its `typeof`.
pub fn type_name(value: &JsValue) -> String {
    if value.is_null() {
        "null".into()
    } else if Array::is_array(value) {
        "array".into()
    } else {
        value
            .js_typeof()
            .as_string()
            .unwrap_or_else(|| "unknown".into())
    }
}

/// A plain (non-array) object.
pub fn is_plain_object(value: &JsValue) -> bool {
    value.is_object() && !Array::is_array(value)
}
