//! What a service says over a managed socket (issue 21, item 2; the request
//! engine's part): an invalidation it pushed drops the current user's
//! matching entries and refetches the watched ones (coalesced as every
//! invalidation is, see `watching`); a frame of the library's that this
//! version does not act on is counted. A socket that opens (the first time
//! or again) may have missed invalidations while it was not open: the
//! watched queries are asked again (revalidated when they can be).
//!
//! The socket engine reads the frames (`socket::pushed`); the shim hands
//! what it read here.

use super::*;
use crate::core::socket::pushed::{names_select, valid_names};

/// Counts of the library's frames.
#[derive(Debug, Default)]
pub(super) struct Live {
    /// Invalidations acted on.
    invalidations: u64,
    /// Frames ignored.
    ignored: u64,
}

impl<V: Clone + Weigh> Engine<V> {
    /// A service pushed an invalidation (`names` as the socket engine gives
    /// them: path prefixes, and tags after `#`, one per line): drops the
    /// current user's entries they select, outdates the fetches in flight for
    /// such entries (whichever user's), and refetches the watched ones once
    /// the coalescing timer fires. Returns how many entries were dropped, and
    /// the commands.
    pub fn invalidate_pushed(
        &mut self,
        names: &str,
    ) -> Result<(usize, Vec<Command<V>>), RequestError> {
        if !valid_names(names) {
            return Err(RequestError::invalid(
                "invalidation",
                "takes 1 to 64 lines, each a path prefix starting with '/' or '#' and a tag",
            ));
        }
        self.live.invalidations += 1;
        // A fetch of another partition may store into this one (its answer
        // names the user): it is outdated as well.
        Ok(self.invalidate_selected(&|path, tags| names_select(names, path, tags), true))
    }

    /// A frame of the library's was ignored (another version, an unknown type).
    pub fn frame_ignored(&mut self) {
        self.live.ignored += 1;
    }

    /// A managed socket opened: invalidations sent while it was not open are
    /// lost, so every watched query is asked again after the coalescing
    /// timer (a stored entry with a validator is revalidated), unless the
    /// app is hidden: then when it shows.
    pub fn socket_opened(&mut self) -> Vec<Command<V>> {
        self.watch_all_again().into_iter().collect()
    }

    /// Invalidations acted on and frames ignored, for `cache_stats`.
    pub(super) fn live_counts(&self) -> (u64, u64) {
        (self.live.invalidations, self.live.ignored)
    }
}
