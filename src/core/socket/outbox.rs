//! Messages waiting to be sent, and (in acked mode) sent but not yet acked.
//! Bounded by count and bytes; overflow is refused, never dropped silently.

use std::collections::VecDeque;

use crate::core::error::RequestError;

/// One message as it goes on the wire.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// Its id in acked mode.
    pub id: Option<u64>,
    /// The text sent.
    pub text: String,
}

/// The outbox of one managed socket.
#[derive(Debug)]
pub struct Outbox {
    queued: VecDeque<Frame>,
    /// Sent and not acked yet (acked mode), in sending order.
    unacked: VecDeque<Frame>,
    bytes: usize,
    max_messages: usize,
    max_bytes: usize,
    acked: bool,
    next_id: u64,
}

impl Outbox {
    /// An empty outbox with these bounds.
    pub fn new(max_messages: u32, max_bytes: u32, acked: bool) -> Self {
        Outbox {
            queued: VecDeque::new(),
            unacked: VecDeque::new(),
            bytes: 0,
            max_messages: max_messages as usize,
            max_bytes: max_bytes as usize,
            acked,
            next_id: 1,
        }
    }

    /// Frames `payload` (the JSON text of what the caller sends): in acked
    /// mode `{"type":"msg","id":N,"data":payload}`, otherwise as is. Refused
    /// when the outbox is full.
    pub fn frame(&mut self, payload: &str) -> Result<Frame, RequestError> {
        let pending = self.queued.len() + self.unacked.len();
        let size = payload.len() + if self.acked { 40 } else { 0 };
        if pending >= self.max_messages || self.bytes + size > self.max_bytes {
            return Err(RequestError::invalid(
                "send",
                format!(
                    "refused: the outbox is full ({pending} messages, {} bytes waiting; limits {} and {})",
                    self.bytes, self.max_messages, self.max_bytes
                ),
            ));
        }
        if !self.acked {
            return Ok(Frame {
                id: None,
                text: payload.to_owned(),
            });
        }
        let id = self.next_id;
        self.next_id += 1;
        let text = format!("{{\"type\":\"msg\",\"id\":{id},\"data\":{payload}}}");
        Ok(Frame { id: Some(id), text })
    }

    /// Keeps a frame until the socket is open.
    pub fn queue(&mut self, frame: Frame) {
        self.bytes += frame.text.len();
        self.queued.push_back(frame);
    }

    /// A frame was handed to the open socket: in acked mode it waits for its ack.
    pub fn sent(&mut self, frame: Frame) {
        if frame.id.is_some() {
            self.bytes += frame.text.len();
            self.unacked.push_back(frame);
        }
    }

    /// What to send once open, in order: unacked frames again (acked mode),
    /// then what was queued. Queued frames move to unacked as they go.
    pub fn flush(&mut self) -> Vec<Frame> {
        let mut out: Vec<Frame> = self.unacked.iter().cloned().collect();
        while let Some(frame) = self.queued.pop_front() {
            self.bytes -= frame.text.len();
            out.push(frame.clone());
            self.sent(frame);
        }
        out
    }

    /// The server acked `id` (and, as frames are acked in order, all before it).
    pub fn ack(&mut self, id: u64) {
        while self
            .unacked
            .front()
            .is_some_and(|f| f.id.is_some_and(|i| i <= id))
        {
            if let Some(frame) = self.unacked.pop_front() {
                self.bytes -= frame.text.len();
            }
        }
    }

    /// Messages waiting (queued or unacked).
    pub fn pending(&self) -> usize {
        self.queued.len() + self.unacked.len()
    }

    /// Bytes waiting.
    pub fn bytes(&self) -> usize {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_frames_queue_and_flush_in_order() {
        let mut o = Outbox::new(10, 1000, false);
        for text in ["a", "b", "c"] {
            let f = o.frame(&format!("\"{text}\"")).unwrap();
            o.queue(f);
        }
        let sent: Vec<String> = o.flush().into_iter().map(|f| f.text).collect();
        assert_eq!(sent, ["\"a\"", "\"b\"", "\"c\""]);
        assert_eq!((o.pending(), o.bytes()), (0, 0));
    }

    #[test]
    fn overflow_is_refused_by_count_and_by_bytes() {
        let mut o = Outbox::new(2, 1000, false);
        for _ in 0..2 {
            let f = o.frame("1").unwrap();
            o.queue(f);
        }
        let err = o.frame("1").unwrap_err();
        assert!(err.to_string().contains("outbox is full"), "{err}");
        let mut o = Outbox::new(10, 5, false);
        assert!(o.frame("123456").is_err());
    }

    #[test]
    fn acked_frames_carry_ids_and_are_resent_until_acked() {
        let mut o = Outbox::new(10, 10_000, true);
        let a = o.frame("{\"n\":1}").unwrap();
        assert_eq!(a.text, "{\"type\":\"msg\",\"id\":1,\"data\":{\"n\":1}}");
        o.sent(a);
        let b = o.frame("2").unwrap();
        o.queue(b);
        let again: Vec<Option<u64>> = o.flush().iter().map(|f| f.id).collect();
        assert_eq!(
            again,
            [Some(1), Some(2)],
            "unacked first, then queued, in order"
        );
        o.ack(1);
        assert_eq!(o.pending(), 1);
        let again: Vec<Option<u64>> = o.flush().iter().map(|f| f.id).collect();
        assert_eq!(again, [Some(2)], "same id on resend");
        o.ack(2);
        assert_eq!((o.pending(), o.bytes()), (0, 0));
    }
}
