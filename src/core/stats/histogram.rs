//! A fixed-memory latency histogram: log-linear buckets (8 per doubling,
//! like HdrHistogram with 3 bits of precision), so a percentile is known to
//! within 12.5 % whatever the number of samples.

use crate::core::float;
use crate::prelude::*;
/// Sub-buckets per doubling.
const SUB_BITS: u32 = 3;
const SUB: usize = 1 << SUB_BITS;
/// Doublings covered above 1 ms: up to 2^18 ms ≈ 4.4 minutes.
const OCTAVES: usize = 18;
/// [0, 1 ms), the log-linear buckets, then everything longer.
pub const BUCKETS: usize = 1 + OCTAVES * SUB + 1;

/// Latencies in milliseconds.
#[derive(Clone, Debug, PartialEq)]
pub struct Histogram {
    counts: [u32; BUCKETS],
    count: u64,
    sum_ms: f64,
    max_ms: f64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            counts: [0; BUCKETS],
            count: 0,
            sum_ms: 0.0,
            max_ms: 0.0,
        }
    }
}

impl Histogram {
    /// Adds one sample (negative or NaN counts as 0).
    pub fn record(&mut self, ms: f64) {
        let ms = if ms > 0.0 { ms } else { 0.0 };
        let i = bucket_of(ms);
        self.counts[i] = self.counts[i].saturating_add(1);
        self.count += 1;
        self.sum_ms += ms;
        self.max_ms = self.max_ms.max(ms);
    }

    /// Adds every sample of `other`.
    pub fn merge(&mut self, other: &Histogram) {
        for (mine, theirs) in self.counts.iter_mut().zip(other.counts.iter()) {
            *mine = mine.saturating_add(*theirs);
        }
        self.count = self.count.saturating_add(other.count);
        self.sum_ms += other.sum_ms;
        self.max_ms = self.max_ms.max(other.max_ms);
    }

    /// Samples per bucket, by bucket index (see [`upper_bound`]).
    pub fn counts(&self) -> &[u32; BUCKETS] {
        &self.counts
    }

    /// The sum of the samples (exact for whole milliseconds).
    pub fn sum_ms(&self) -> f64 {
        self.sum_ms
    }

    /// A histogram from its parts (a fleet report's): `count` is the sum of `counts`.
    pub fn from_parts(counts: [u32; BUCKETS], sum_ms: f64, max_ms: f64) -> Histogram {
        let count = counts.iter().map(|&n| u64::from(n)).sum();
        Histogram {
            counts,
            count,
            sum_ms,
            max_ms,
        }
    }

    /// Samples recorded.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The longest sample (exact).
    pub fn max_ms(&self) -> f64 {
        self.max_ms
    }

    /// The mean (exact), 0 without samples.
    pub fn mean_ms(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.sum_ms / self.count as f64
        }
    }

    /// The smallest bucket bound that `q` (0..=1) of the samples do not
    /// exceed, never above the exact maximum; 0 without samples.
    pub fn quantile_ms(&self, q: f64) -> f64 {
        if self.count == 0 {
            return 0.0;
        }
        let rank = (float::ceil(q.clamp(0.0, 1.0) * self.count as f64) as u64).max(1);
        let mut seen = 0u64;
        for (i, &n) in self.counts.iter().enumerate() {
            seen += u64::from(n);
            if seen >= rank {
                return upper_bound(i).min(self.max_ms);
            }
        }
        self.max_ms
    }

    /// Non-empty buckets as (upper bound in ms, samples), shortest first; the
    /// last bucket's bound is the maximum.
    pub fn buckets(&self) -> Vec<(f64, u32)> {
        self.counts
            .iter()
            .enumerate()
            .filter(|(_, &n)| n > 0)
            .map(|(i, &n)| (upper_bound(i).min(self.max_ms.max(1.0)), n))
            .collect()
    }
}

/// The bucket of a non-negative sample, from the bits of the f64 (no log2:
/// libm would cost the wasm more than this whole module).
fn bucket_of(ms: f64) -> usize {
    if ms < 1.0 {
        return 0;
    }
    let bits = ms.to_bits();
    let exponent = ((bits >> 52) & 0x7ff) as usize - 1023;
    if exponent >= OCTAVES {
        return BUCKETS - 1;
    }
    let sub = ((bits >> (52 - SUB_BITS)) as usize) & (SUB - 1);
    1 + exponent * SUB + sub
}

/// The exclusive upper bound of bucket `i` (infinite for the last).
pub fn upper_bound(i: usize) -> f64 {
    if i == 0 {
        return 1.0;
    }
    if i == BUCKETS - 1 {
        return f64::INFINITY;
    }
    let (exponent, sub) = ((i - 1) / SUB, (i - 1) % SUB);
    f64::from(1u32 << exponent) * (1.0 + (sub + 1) as f64 / SUB as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sample_falls_below_its_buckets_bound_and_above_the_previous() {
        for ms in [
            0.0, 0.5, 1.0, 1.1, 1.99, 2.0, 3.0, 7.5, 100.0, 1234.5, 250_000.0,
        ] {
            let i = bucket_of(ms);
            assert!(ms < upper_bound(i), "{ms} in bucket {i}");
            if i > 0 {
                assert!(ms >= upper_bound(i - 1), "{ms} in bucket {i}");
            }
        }
        assert_eq!(bucket_of(1e9), BUCKETS - 1);
    }

    #[test]
    fn quantiles_are_within_an_eighth_of_the_exact_value() {
        let mut h = Histogram::default();
        for ms in 1..=1000 {
            h.record(f64::from(ms));
        }
        for (q, exact) in [(0.5, 500.0), (0.95, 950.0), (0.99, 990.0)] {
            let got = h.quantile_ms(q);
            assert!(
                got >= exact && got <= exact * 1.125,
                "p{q}: {got} vs {exact}"
            );
        }
        assert_eq!(h.quantile_ms(1.0), 1000.0, "never above the maximum");
        assert_eq!(h.count(), 1000);
        assert_eq!(h.mean_ms(), 500.5);
    }

    #[test]
    fn empty_negative_and_nan_samples_are_harmless() {
        let mut h = Histogram::default();
        assert_eq!(h.quantile_ms(0.5), 0.0);
        h.record(-5.0);
        h.record(f64::NAN);
        assert_eq!((h.count(), h.max_ms(), h.quantile_ms(0.99)), (2, 0.0, 0.0));
    }

    #[test]
    fn merging_adds_samples_and_buckets_sum_to_the_count() {
        let (mut a, mut b) = (Histogram::default(), Histogram::default());
        a.record(3.0);
        b.record(300.0);
        b.record(301.0);
        a.merge(&b);
        assert_eq!(a.count(), 3);
        assert_eq!(a.max_ms(), 301.0);
        let total: u32 = a.buckets().iter().map(|(_, n)| n).sum();
        assert_eq!(total, 3);
        assert_eq!(
            a.buckets().last().unwrap().0,
            301.0,
            "the last bound is the maximum"
        );
    }
}
