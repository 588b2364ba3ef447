//! The socket engine's `#[wasm_bindgen]` boundary: the machines of the
//! client's managed sockets (reconnect, heartbeat, outbox, control frames).
//! The request engine validates, shares and counts sockets when
//! `client.socket()` is called (`Engine.socketOpen`); this engine runs them
//! once they exist, so it can be a module of its own, loaded on the first
//! `client.socket()`.

use crate::prelude::*;
use core::cell::RefCell;

use js_sys::Array;
use wasm_bindgen::prelude::*;

use super::js::{text_prefix, MESSAGE_UNITS};
use super::write::{self, error_object};
use crate::core::error::RequestError;
use crate::core::locale::Locale;
use crate::core::socket::config::RawSocketConfig;
use crate::core::socket::hub::Machines;
use crate::core::socket::machine::{Socket, SocketCommand};

/// The machines of one client's sockets, owned by the JS client.
#[wasm_bindgen]
pub struct Sockets {
    machines: RefCell<Machines>,
    locale: Locale,
}

#[wasm_bindgen]
impl Sockets {
    /// `seed`: the client's; `locale`: the request engine's (`Engine.locale`).
    /// Online and visible until `setOnline` and `setHidden` say otherwise
    /// (the shim hands over the state of when it is made).
    #[wasm_bindgen(constructor)]
    pub fn new(seed: f64, locale: &str) -> Sockets {
        Sockets {
            machines: RefCell::new(Machines::new((seed as u32).rotate_left(16))),
            locale: Locale::parse(locale).unwrap_or_default(),
        }
    }

    /// Starts socket `id`, just opened by the request engine, with the
    /// `config` numbers it gave: the first commands. Throws on numbers that
    /// do not validate.
    pub fn start(&self, id: u32, config: &[f64], now_ms: f64) -> Result<Array, JsValue> {
        let config = RawSocketConfig::from_numbers(config)
            .and_then(RawSocketConfig::validate)
            .map_err(|e| self.refusal(&e))?;
        let commands = self.machines()?.start(id, config, now_ms);
        Ok(write::socket_commands(id, &commands))
    }

    /// The SocketTask of `epoch` opened.
    pub fn opened(&self, id: u32, epoch: u32, now_ms: f64) -> Result<Array, JsValue> {
        self.with_socket(id, |s| s.on_open(epoch, now_ms))
    }

    /// A frame arrived on the SocketTask of `epoch`: its text only when it
    /// may be a control frame (the shim copies no other frame in); a
    /// `deliver` command hands the frame the shim holds to the caller.
    pub fn message(
        &self,
        id: u32,
        epoch: u32,
        text: Option<String>,
        now_ms: f64,
    ) -> Result<Array, JsValue> {
        self.with_socket(id, |s| s.on_message(epoch, text.as_deref(), now_ms))
    }

    /// The SocketTask of `epoch` closed.
    pub fn closed(
        &self,
        id: u32,
        epoch: u32,
        code: f64,
        reason: JsValue,
        now_ms: f64,
    ) -> Result<Array, JsValue> {
        let code = if (0.0..=65535.0).contains(&code) {
            code as u16
        } else {
            1006
        };
        let reason = text_prefix(&reason, MESSAGE_UNITS).unwrap_or_default();
        self.with_socket(id, |s| s.on_close(epoch, code, &reason, now_ms))
    }

    /// The SocketTask of `epoch` failed, or could not be opened (the
    /// platform's errMsg). The request engine heard it first (`socketFailure`).
    #[wasm_bindgen(js_name = error)]
    pub fn on_error(
        &self,
        id: u32,
        epoch: u32,
        detail: JsValue,
        now_ms: f64,
    ) -> Result<Array, JsValue> {
        let detail = text_prefix(&detail, MESSAGE_UNITS).unwrap_or_else(|| "socket error".into());
        self.with_socket(id, |s| s.on_error(epoch, &detail, now_ms))
    }

    /// The platform refused (`fail`) frame `seq` of a `transmit` command on
    /// the SocketTask of `epoch`; `text` is the command's text, handed back
    /// because a plain-mode frame is not kept once handed to the platform.
    #[wasm_bindgen(js_name = sendFailed)]
    pub fn send_failed(
        &self,
        id: u32,
        epoch: u32,
        seq: f64,
        text: String,
        detail: JsValue,
        now_ms: f64,
    ) -> Result<Array, JsValue> {
        // `as` saturates: NaN and negatives become 0 (`OWN_FRAME`), nothing to keep.
        let seq = seq as u64;
        let detail = text_prefix(&detail, MESSAGE_UNITS).unwrap_or_else(|| "send failed".into());
        self.with_socket(id, |s| s.on_send_failed(epoch, seq, &text, &detail, now_ms))
    }

    /// A `timer` command's instant came.
    pub fn timer(&self, id: u32, now_ms: f64) -> Result<Array, JsValue> {
        self.with_socket(id, |s| s.on_timer(now_ms))
    }

    /// The caller sends `text` (`Engine.socketPayload` made it). Throws
    /// when refused (the outbox is full, the socket is closed).
    pub fn send(&self, id: u32, text: &str) -> Result<Array, JsValue> {
        let mut machines = self.machines()?;
        let socket = machines.socket(id).ok_or_else(|| {
            self.refusal(&RequestError::invalid(
                "send",
                "refused: the socket is closed",
            ))
        })?;
        let commands = socket.send(text).map_err(|e| self.refusal(&e))?;
        drop(machines);
        Ok(write::socket_commands(id, &commands))
    }

    /// The last holder of socket `id` let go (`Engine.socketRelease` said
    /// so): it closes, never to reconnect.
    pub fn close(&self, id: u32) -> Result<Array, JsValue> {
        let commands = self.machines()?.close(id);
        Ok(write::socket_commands(id, &commands))
    }

    /// Socket `id`'s state: idle, connecting, open, reconnecting, paused, closed, failed.
    pub fn state(&self, id: u32) -> Result<String, JsValue> {
        Ok(self
            .machines()?
            .socket(id)
            .map_or("closed", |s| s.state().as_str())
            .to_owned())
    }

    /// The network changed: commands for every socket.
    #[wasm_bindgen(js_name = setOnline)]
    pub fn set_online(&self, online: bool, now_ms: f64) -> Result<Array, JsValue> {
        let commands = self.machines()?.set_online(online, now_ms);
        Ok(write::hub_commands(&commands))
    }

    /// The app went to the background or came back: commands for every socket.
    #[wasm_bindgen(js_name = setHidden)]
    pub fn set_hidden(&self, hidden: bool, now_ms: f64) -> Result<Array, JsValue> {
        let commands = self.machines()?.set_hidden(hidden, now_ms);
        Ok(write::hub_commands(&commands))
    }
}

impl Sockets {
    fn machines(&self) -> Result<core::cell::RefMut<'_, Machines>, JsValue> {
        self.machines.try_borrow_mut().map_err(|_| {
            self.refusal(&RequestError::invalid(
                "socket",
                "was called again from inside one of its own calls",
            ))
        })
    }

    fn with_socket(
        &self,
        id: u32,
        f: impl FnOnce(&mut Socket) -> Vec<SocketCommand>,
    ) -> Result<Array, JsValue> {
        let commands = match self.machines()?.socket(id) {
            Some(socket) => f(socket),
            None => Vec::new(),
        };
        Ok(write::socket_commands(id, &commands))
    }

    fn refusal(&self, error: &RequestError) -> JsValue {
        error_object(error, self.locale, None, "")
    }
}
