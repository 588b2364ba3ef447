//! `Idempotency-Key`s made for `idempotent: 'auto'` and queued mutations.

use super::*;

impl<V: Clone + Weigh> Engine<V> {
    /// A new `Idempotency-Key`: 128 bits as 32 hex digits. Its own generator,
    /// so keys do not shift the retry jitter; seeded with the client's seed
    /// and the time of the first key, so two devices with the same seed still
    /// make different keys (servers scope keys per user as well).
    pub(super) fn new_idempotency_key(&mut self, now_ms: f64) -> String {
        let seed = self.seed;
        let keys = self
            .keys
            .get_or_insert_with(|| Rng::new((u64::from(seed) << 32) ^ (now_ms.max(0.0) as u64)));
        let (high, low) = (keys.next_u64(), keys.next_u64());
        let mut key = String::with_capacity(32);
        for word in [high, low] {
            for shift in (0..16).rev() {
                let digit = ((word >> (shift * 4)) & 0xf) as u8;
                key.push(char::from(if digit < 10 {
                    b'0' + digit
                } else {
                    b'a' + digit - 10
                }));
            }
        }
        key
    }
}
