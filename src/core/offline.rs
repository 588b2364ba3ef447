//! The offline mutation queue (the seed's 离线数据同步): a mutation asked to
//! `offline: 'queue'` that cannot reach the server (the device is offline,
//! or it failed with `offline` or `network`) is kept, in order, and replayed
//! one at a time when the network returns or the app starts, always with its
//! idempotency key, so a replay the server already saw is answered, not run
//! again. Bounded by count and by bytes (wx storage holds at most 1 MB a key).

use super::error::RequestError;
use super::request::{whole_or, Method};
use std::collections::VecDeque;

/// Queued mutations kept when `offlineQueue.maxItems` is not given.
pub const DEFAULT_MAX_ITEMS: u32 = 100;
/// Their estimated bytes when `offlineQueue.maxBytes` is not given.
pub const DEFAULT_MAX_BYTES: u32 = 512 * 1024;
/// The most `maxBytes` may be: the queue is one storage key, and a key holds 1 MB.
pub const MAX_MAX_BYTES: u32 = 1000 * 1024;
/// Added to each item's size: its id, key, time and the format's fields.
const ITEM_OVERHEAD_BYTES: usize = 128;

/// Headers that carry credentials: never written to storage. A queued
/// mutation gets them at replay time from the client's `header` option.
pub const CREDENTIAL_HEADERS: [&str; 3] = ["authorization", "cookie", "proxy-authorization"];

/// `name` is a credential header (case-insensitively).
pub fn is_credential(name: &str) -> bool {
    CREDENTIAL_HEADERS
        .iter()
        .any(|c| c.eq_ignore_ascii_case(name))
}

/// The queue's bounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueueLimits {
    /// Items at most.
    pub max_items: u32,
    /// Estimated bytes at most (path, headers and body text).
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

impl Mutation {
    /// Its estimated size in storage.
    pub fn size(&self) -> usize {
        let headers: usize = self
            .headers
            .iter()
            .map(|(n, v)| n.len() + v.len() + 6)
            .sum();
        self.path.len()
            + headers
            + self.data_json.as_ref().map_or(0, String::len)
            + self.idempotency_key.len()
            + ITEM_OVERHEAD_BYTES
    }
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
                "not queued: the offline queue would exceed its {} bytes",
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

    /// Appends `mutation` (its id is assigned here) unless a bound forbids it.
    pub fn push(&mut self, mut mutation: Mutation) -> Result<u32, Refused> {
        if self.items.len() >= self.limits.max_items as usize {
            return Err(Refused::Full);
        }
        let size = mutation.size();
        if self.bytes + size > self.limits.max_bytes as usize {
            return Err(Refused::TooLarge);
        }
        mutation.id = self.next_id;
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
            let fits = self.items.len() < self.limits.max_items as usize
                && self.bytes + size <= self.limits.max_bytes as usize;
            if !fits || self.items.iter().any(|m| m.id == item.id) {
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
        self.bytes -= mutation.size();
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
