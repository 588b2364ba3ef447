//! Messages waiting to be sent, and (in acked mode) sent but not yet acked.
//! Bounded by count and bytes; overflow is refused, never dropped silently.
//! Every frame has a sequence number, so a frame the platform refused can go
//! back to its place, and a refusal reported twice is kept once.

use crate::prelude::*;
use alloc::collections::VecDeque;

use crate::core::error::RequestError;

/// One message as it goes on the wire.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// Its place in sending order (1, 2, ...); in acked mode also its id.
    pub seq: u64,
    /// The text sent.
    pub text: String,
}

/// The outbox of one managed socket.
#[derive(Debug)]
pub struct Outbox {
    /// Waiting to be sent, by sequence number.
    queued: Vec<Frame>,
    /// Sent and not acked yet (acked mode), in sending order.
    unacked: VecDeque<Frame>,
    bytes: usize,
    max_messages: usize,
    max_bytes: usize,
    acked: bool,
    next_seq: u64,
}

impl Outbox {
    /// An empty outbox with these bounds.
    pub fn new(max_messages: u32, max_bytes: u32, acked: bool) -> Self {
        Outbox {
            queued: Vec::new(),
            unacked: VecDeque::new(),
            bytes: 0,
            max_messages: max_messages as usize,
            max_bytes: max_bytes as usize,
            acked,
            next_seq: 1,
        }
    }

    /// Frames `payload` (the JSON text of what the caller sends): in acked
    /// mode `{"type":"msg","id":N,"data":payload}`, otherwise as is. Refused
    /// when the outbox is full.
    pub fn frame(&mut self, payload: &str) -> Result<Frame, RequestError> {
        let size = payload.len() + if self.acked { 40 } else { 0 };
        if !self.has_room(size) {
            return Err(RequestError::invalid(
                "send",
                format!("refused: {}", self.full()),
            ));
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        let text = if self.acked {
            format!("{{\"type\":\"msg\",\"id\":{seq},\"data\":{payload}}}")
        } else {
            payload.to_owned()
        };
        Ok(Frame { seq, text })
    }

    /// Keeps a frame until the socket is open.
    pub fn queue(&mut self, frame: Frame) {
        self.bytes += frame.text.len();
        self.queued.push(frame);
    }

    /// Takes back a frame the platform refused to send (plain mode): to its
    /// place among the queued frames, ahead of those sent after it. Given
    /// back when there is no room; a frame already queued is kept once.
    pub fn requeue(&mut self, frame: Frame) -> Result<(), Frame> {
        let before = self.queued.iter().rposition(|f| f.seq <= frame.seq);
        if before.is_some_and(|i| self.queued[i].seq == frame.seq) {
            return Ok(());
        }
        if !self.has_room(frame.text.len()) {
            return Err(frame);
        }
        self.bytes += frame.text.len();
        self.queued.insert(before.map_or(0, |i| i + 1), frame);
        Ok(())
    }

    /// A frame was handed to the open socket: in acked mode it waits for its ack.
    pub fn sent(&mut self, frame: Frame) {
        if self.acked {
            self.bytes += frame.text.len();
            self.unacked.push_back(frame);
        }
    }

    /// What to send once open, in order: unacked frames again (acked mode),
    /// then what was queued. Queued frames move to unacked as they go.
    pub fn flush(&mut self) -> Vec<Frame> {
        let mut out: Vec<Frame> = self.unacked.iter().cloned().collect();
        for frame in core::mem::take(&mut self.queued) {
            self.bytes -= frame.text.len();
            out.push(frame.clone());
            self.sent(frame);
        }
        out
    }

    /// The server acked `id` (and, as frames are acked in order, all before it).
    pub fn ack(&mut self, id: u64) {
        while self.unacked.front().is_some_and(|f| f.seq <= id) {
            if let Some(frame) = self.unacked.pop_front() {
                self.bytes -= frame.text.len();
            }
        }
    }

    /// Empties the outbox: what the caller sent and will never reach the
    /// server through it, in sending order, as the caller gave it.
    pub fn drain(&mut self) -> Vec<String> {
        self.bytes = 0;
        let mut out = Vec::new();
        while let Some(frame) = self.unacked.pop_front() {
            out.push(self.payload(frame));
        }
        for frame in core::mem::take(&mut self.queued) {
            out.push(self.payload(frame));
        }
        out
    }

    /// What the caller sent, from its frame (acked frames unwrapped).
    fn payload(&self, frame: Frame) -> String {
        if !self.acked {
            return frame.text;
        }
        // `{"type":"msg","id":` (19 bytes), the id's digits, `,"data":` (8 bytes).
        let mut start = 27;
        let mut id = frame.seq;
        loop {
            start += 1;
            id /= 10;
            if id == 0 {
                break;
            }
        }
        let end = frame.text.len().saturating_sub(1);
        match frame.text.get(start..end) {
            Some(data) => data.to_owned(),
            None => frame.text,
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

    /// Whether a frame of `size` bytes fits.
    fn has_room(&self, size: usize) -> bool {
        self.pending() < self.max_messages && self.bytes + size <= self.max_bytes
    }

    /// Why nothing more fits.
    pub fn full(&self) -> String {
        format!(
            "the outbox is full ({} messages, {} bytes waiting; limits {} and {})",
            self.pending(),
            self.bytes,
            self.max_messages,
            self.max_bytes
        )
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
        let again: Vec<u64> = o.flush().iter().map(|f| f.seq).collect();
        assert_eq!(again, [1, 2], "unacked first, then queued, in order");
        o.ack(1);
        assert_eq!(o.pending(), 1);
        let again: Vec<u64> = o.flush().iter().map(|f| f.seq).collect();
        assert_eq!(again, [2], "same id on resend");
        o.ack(2);
        assert_eq!((o.pending(), o.bytes()), (0, 0));
    }

    #[test]
    fn a_refused_frame_goes_back_to_its_place_once() {
        let mut o = Outbox::new(10, 1000, false);
        let first = o.frame("1").unwrap();
        let later = o.frame("2").unwrap();
        o.queue(later);
        assert_eq!(o.requeue(first.clone()), Ok(()));
        assert_eq!(o.requeue(first), Ok(()), "reported twice, kept once");
        let order: Vec<u64> = o.flush().iter().map(|f| f.seq).collect();
        assert_eq!(order, [1, 2]);
        assert_eq!((o.pending(), o.bytes()), (0, 0));
    }

    #[test]
    fn a_refused_frame_is_given_back_when_there_is_no_room() {
        let mut o = Outbox::new(1, 1000, false);
        let refused = o.frame("1").unwrap();
        let next = o.frame("2").unwrap();
        o.queue(next);
        assert_eq!(o.requeue(refused.clone()), Err(refused));
        assert_eq!(o.pending(), 1);
    }

    #[test]
    fn drain_gives_back_what_the_caller_sent_in_order() {
        let mut o = Outbox::new(10, 10_000, true);
        let a = o.frame("{\"n\":1}").unwrap();
        o.sent(a);
        let b = o.frame("\"two\"").unwrap();
        o.queue(b);
        assert_eq!(o.drain(), ["{\"n\":1}", "\"two\""]);
        assert_eq!((o.pending(), o.bytes()), (0, 0));
        let payloads: Vec<String> = (3..=12).map(|n| n.to_string()).collect();
        for p in &payloads {
            let f = o.frame(p).unwrap();
            o.sent(f);
        }
        assert_eq!(o.drain(), payloads, "ids of one and two digits");
    }
}
