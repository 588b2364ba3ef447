//! The client's sockets: one per (route, service, path), shared by every
//! caller that opens it, and at most five at once (the platform's limit).

use crate::core::error::RequestError;
use crate::core::hash::FxHashMap;
use crate::core::sort::sort;
use crate::core::text::join;
use crate::prelude::*;

/// The platform allows at most this many sockets at once.
pub const MAX_SOCKETS: usize = 5;

/// Which socket a caller holds.
pub type SocketId = u32;

#[derive(Debug)]
struct Entry {
    key: String,
    holders: u32,
}

/// Sockets by key, with how many callers hold each.
#[derive(Debug, Default)]
pub struct Pool {
    entries: FxHashMap<SocketId, Entry>,
    by_key: FxHashMap<String, SocketId>,
    next_id: SocketId,
}

/// What `acquire` found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Acquired {
    /// A new socket: create and start it.
    New(SocketId),
    /// The socket already open for this key.
    Shared(SocketId),
}

impl Pool {
    /// The socket for `key`: the one already there, or a new one while fewer
    /// than five exist.
    pub fn acquire(&mut self, key: &str) -> Result<Acquired, RequestError> {
        if let Some(&id) = self.by_key.get(key) {
            if let Some(entry) = self.entries.get_mut(&id) {
                entry.holders += 1;
                return Ok(Acquired::Shared(id));
            }
        }
        if self.entries.len() >= MAX_SOCKETS {
            return Err(RequestError::invalid(
                "socket",
                format!(
                    "cannot open a sixth socket: the platform allows {MAX_SOCKETS} at once; close one first (open: {})",
                    join(self.keys(), ", ")
                ),
            ));
        }
        self.next_id = self.next_id.wrapping_add(1).max(1);
        let id = self.next_id;
        self.entries.insert(
            id,
            Entry {
                key: key.to_owned(),
                holders: 1,
            },
        );
        self.by_key.insert(key.to_owned(), id);
        Ok(Acquired::New(id))
    }

    /// A caller lets go. True when it was the last: close the socket.
    pub fn release(&mut self, id: SocketId) -> bool {
        let Some(entry) = self.entries.get_mut(&id) else {
            return false;
        };
        entry.holders = entry.holders.saturating_sub(1);
        if entry.holders > 0 {
            return false;
        }
        if let Some(entry) = self.entries.remove(&id) {
            self.by_key.remove(&entry.key);
        }
        true
    }

    /// Sockets held.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// No socket is held.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn keys(&self) -> Vec<&str> {
        let mut keys: Vec<&str> = Vec::with_capacity(self.entries.len());
        for e in self.entries.values() {
            // A key's first line: its headers (after it) are never shown.
            keys.push(e.key.split('\n').next().unwrap_or_default());
        }
        sort(&mut keys);
        keys
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_socket_per_key_shared_until_the_last_holder_lets_go() {
        let mut pool = Pool::default();
        let Acquired::New(a) = pool.acquire("cloud ws /").unwrap() else {
            panic!()
        };
        assert_eq!(pool.acquire("cloud ws /").unwrap(), Acquired::Shared(a));
        assert!(!pool.release(a), "one holder left");
        assert!(pool.release(a), "the last one: close it");
        assert!(pool.is_empty());
        assert!(matches!(
            pool.acquire("cloud ws /").unwrap(),
            Acquired::New(_)
        ));
    }

    #[test]
    fn a_sixth_distinct_socket_is_refused_with_a_clear_error() {
        let mut pool = Pool::default();
        for i in 0..MAX_SOCKETS {
            pool.acquire(&format!("cloud ws /{i}")).unwrap();
        }
        let err = pool.acquire("cloud ws /5").unwrap_err();
        assert!(
            err.to_string().contains("cannot open a sixth socket"),
            "{err}"
        );
        assert!(
            matches!(pool.acquire("cloud ws /0").unwrap(), Acquired::Shared(_)),
            "sharing is still fine"
        );
        assert_eq!(pool.len(), MAX_SOCKETS);
    }
}
