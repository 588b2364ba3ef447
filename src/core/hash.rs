//! A fast hasher for the engine's maps. Keys are ids and cache keys made by
//! this library: no attacker picks them, so SipHash's flood resistance buys
//! nothing and costs a measurable share of a cache hit.

use core::hash::{BuildHasherDefault, Hasher};
use hashbrown::HashMap;

/// The Fx hash (rustc's): multiply-rotate over words.
#[derive(Clone, Copy, Debug, Default)]
pub struct FxHasher {
    hash: u64,
}

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            self.add(u64::from_le_bytes(chunk.try_into().unwrap_or_default()));
        }
        let mut tail = 0u64;
        for (i, b) in chunks.remainder().iter().enumerate() {
            tail |= u64::from(*b) << (8 * i);
        }
        self.add(tail ^ (bytes.len() as u64));
    }

    #[inline]
    fn write_u32(&mut self, n: u32) {
        self.add(u64::from(n));
    }

    #[inline]
    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }

    #[inline]
    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }

    /// Folds the high bits down (murmur3's finaliser). The multiply above
    /// carries only upwards, and hashbrown picks buckets by the low bits (the
    /// low 32 on wasm32): without this, cache keys that differ only in a
    /// word's high bytes (`{"id":12345}` vs `{"id":12346}`) share buckets, and
    /// a lookup in a 100,000-entry cache walked long probe chains.
    #[inline]
    fn finish(&self) -> u64 {
        let mut h = self.hash;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^ (h >> 33)
    }
}

/// Builds [`FxHasher`]s.
pub type FxBuild = BuildHasherDefault<FxHasher>;

/// A `HashMap` with [`FxHasher`].
pub type FxHashMap<K, V> = HashMap<K, V, FxBuild>;

#[cfg(test)]
mod tests {
    use super::*;
    use core::hash::{BuildHasher, Hash};

    fn hash<T: Hash>(value: T) -> u64 {
        FxBuild::default().hash_one(value)
    }

    #[test]
    fn equal_keys_hash_equal_and_nearby_keys_differ() {
        assert_eq!(hash("/api/home/init"), hash(String::from("/api/home/init")));
        assert_ne!(hash("/api/home/a"), hash("/api/home/b"));
        assert_ne!(hash("ab"), hash("ab\0"), "length counts");
        assert_ne!(hash(1u32), hash(2u32));
        let mut map: FxHashMap<String, u32> = FxHashMap::default();
        map.insert("k".into(), 1);
        assert_eq!(map.get("k"), Some(&1));
    }

    /// Keys shaped like the cache's, differing only in a few digits near the
    /// end, spread over the low bits (bucket index) and the top 7 bits
    /// (hashbrown's tag) as random hashes would.
    #[test]
    fn cache_like_keys_spread_over_low_and_top_bits() {
        const KEYS: u32 = 100_000;
        const BUCKETS: usize = 1 << 16;
        let mut low = vec![0u32; BUCKETS];
        let mut top = [0u32; 128];
        for id in 0..KEYS {
            let key = format!(
                "0:5:cloud3:GET16:/api/cached/item{}:{{\"id\":{id}}}0:",
                9 + id.to_string().len()
            );
            let h = hash(key.as_str());
            low[(h as usize) & (BUCKETS - 1)] += 1;
            top[(h >> 57) as usize] += 1;
        }
        // About 1.5 keys per bucket: random hashes put at most ~10 in one.
        let fullest = *low.iter().max().unwrap();
        assert!(fullest <= 12, "{fullest} keys share one bucket");
        let used = low.iter().filter(|&&n| n > 0).count();
        assert!(
            used > BUCKETS * 3 / 4,
            "only {used} of {BUCKETS} buckets used"
        );
        // 128 tags for 100,000 keys: about 781 each.
        assert!(top.iter().all(|&n| (600..1000).contains(&n)), "{top:?}");
    }
}
