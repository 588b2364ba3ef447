//! The backend side of fleet reports, for Node (feature `fleet`): a team's
//! own endpoint, the emulator and the tests check and merge reports with the
//! same code the clients wrote them with. Nothing here is in the
//! mini-program's modules.

use crate::core::fleet;
use crate::prelude::*;
use core::cell::RefCell;
use js_sys::Array;
use wasm_bindgen::prelude::*;

/// The longest window: a day; the most windows kept: a week of minutes.
const MAX_WINDOW_MS: f64 = 86_400_000.0;
const MAX_WINDOWS: f64 = 10_080.0;

/// Reports merged per time window (`new Fleet(windowMs, windows)`).
#[wasm_bindgen]
pub struct Fleet {
    inner: RefCell<fleet::Fleet>,
}

#[wasm_bindgen]
impl Fleet {
    /// Windows of `window_ms` (1 s to a day), the last `windows` (1 to 10080) kept.
    #[wasm_bindgen(constructor)]
    pub fn new(window_ms: f64, windows: f64) -> Result<Fleet, JsValue> {
        let whole =
            |v: f64, min: f64, max: f64| crate::core::float::is_whole(v) && v >= min && v <= max;
        if !whole(window_ms, 1000.0, MAX_WINDOW_MS) {
            return Err(error(
                "windowMs must be a whole number of milliseconds from 1000 to 86400000",
            ));
        }
        if !whole(windows, 1.0, MAX_WINDOWS) {
            return Err(error("windows must be a whole number from 1 to 10080"));
        }
        Ok(Fleet {
            inner: RefCell::new(fleet::Fleet::new(window_ms as u32, windows as u32)),
        })
    }

    /// Checks report `text` and merges it into the window of `now_ms` (the
    /// server's clock); throws an Error saying why a report is refused.
    pub fn add(&self, text: JsValue, now_ms: f64) -> Result<(), JsValue> {
        if !now_ms.is_finite() || now_ms < 0.0 {
            return Err(error("nowMs must be a time in milliseconds (Date.now())"));
        }
        let report = read(&text).map_err(|why| error(&why.as_string().unwrap_or_default()))?;
        let mut inner = self.inner.try_borrow_mut().map_err(|_| error("busy"))?;
        inner.add(&report, now_ms);
        Ok(())
    }

    /// The fleet view as JSON text (`docs/fleet.md`).
    pub fn summary(&self) -> Result<String, JsValue> {
        let inner = self.inner.try_borrow().map_err(|_| error("busy"))?;
        Ok(fleet::summary(inner.windows(), inner.window_ms()))
    }
}

/// Why report `text` would be refused, or undefined when it is a valid report.
#[wasm_bindgen(js_name = checkReport)]
pub fn check_report(text: JsValue) -> Option<String> {
    read(&text).err().and_then(|e| e.as_string())
}

/// The summary of `reports` (an array of report texts) merged as one window:
/// what a fleet view's paths must equal. Throws on the first refused report.
#[wasm_bindgen]
pub fn summarise(reports: &Array, window_ms: f64) -> Result<String, JsValue> {
    let mut window = fleet::Window::default();
    for (i, text) in reports.iter().enumerate() {
        let report = read(&text).map_err(|e| {
            error(&format!(
                "reports[{i}]: {}",
                e.as_string().unwrap_or_default()
            ))
        })?;
        window.add(&report);
    }
    Ok(fleet::summary(core::slice::from_ref(&window), window_ms))
}

/// A report from a JS string (anything else is refused, as JSON that does not parse).
fn read(text: &JsValue) -> Result<fleet::Report, JsValue> {
    let text = text
        .as_string()
        .ok_or_else(|| JsValue::from_str("the report must be JSON text"))?;
    fleet::parse(&text).map_err(|why| JsValue::from_str(&why))
}

fn error(message: &str) -> JsValue {
    js_sys::Error::new(message).into()
}
