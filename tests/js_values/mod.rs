//! Real JS values for the wasm boundary tests (`wasm-pack test --node`).
#![allow(dead_code)]

use js_sys::{Array, Object, Reflect};
use wasm_bindgen::prelude::*;

/// A plain object with these properties.
pub fn object(pairs: &[(&str, JsValue)]) -> JsValue {
    let o = Object::new();
    for (k, v) in pairs {
        Reflect::set(&o, &JsValue::from_str(k), v).unwrap();
    }
    o.into()
}

/// An array of these values.
pub fn array(items: Vec<JsValue>) -> JsValue {
    items.into_iter().collect::<Array>().into()
}

/// `o[key]`.
pub fn get(o: &JsValue, key: &str) -> JsValue {
    Reflect::get(o, &JsValue::from_str(key)).unwrap()
}

/// What the shim reports about a phone: cloud available, a develop build.
pub fn platform(seed: i32) -> JsValue {
    object(&[
        ("hasCloud", true.into()),
        ("sdkVersion", "3.6.0".into()),
        ("device", "android".into()),
        ("envVersion", "develop".into()),
        ("seed", seed.into()),
    ])
}
