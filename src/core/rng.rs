//! A small seeded random source for jitter. Deterministic for a given seed, so
//! tests (and the parity check between builds) see the same delays.

/// SplitMix64: tiny, fast, statistically fine for jitter.
#[derive(Clone, Debug)]
pub struct Rng {
    state: u64,
}

impl Rng {
    /// A generator for `seed`; the same seed gives the same sequence.
    pub const fn new(seed: u64) -> Self {
        Rng { state: seed }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform integer in `0..=max`.
    pub fn up_to(&mut self, max: u32) -> u32 {
        // 64 random bits scaled down: the bias is below 2^-32.
        (((self.next_u64() >> 32) * (u64::from(max) + 1)) >> 32) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_sequence() {
        let a: Vec<u32> = (0..5)
            .scan(Rng::new(7), |r, _| Some(r.up_to(1000)))
            .collect();
        let b: Vec<u32> = (0..5)
            .scan(Rng::new(7), |r, _| Some(r.up_to(1000)))
            .collect();
        let c: Vec<u32> = (0..5)
            .scan(Rng::new(8), |r, _| Some(r.up_to(1000)))
            .collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn up_to_covers_its_range_and_stays_in_it() {
        let mut rng = Rng::new(1);
        let mut seen = [false; 4];
        for _ in 0..1000 {
            let v = rng.up_to(3);
            assert!(v <= 3);
            seen[v as usize] = true;
        }
        assert_eq!(seen, [true; 4]);
        assert_eq!(Rng::new(5).up_to(0), 0);
    }
}
