//! Exponential backoff with full jitter, and the server's `Retry-After`.

use super::rng::Rng;

/// Exponential backoff with full jitter: the delay before retry `n` (0 for the
/// first retry) is uniform in `0..=min(cap, base × 2^n)`. Spreading retries
/// over the whole window is what keeps clients from retrying in lockstep.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    /// The window of the first retry, in ms.
    pub base_ms: u32,
    /// The largest window, in ms.
    pub cap_ms: u32,
}

impl Backoff {
    /// The upper bound of the delay before retry `n`.
    pub fn ceiling(&self, n: u32) -> u32 {
        let grown = u64::from(self.base_ms) << n.min(31);
        grown.min(u64::from(self.cap_ms)) as u32
    }

    /// The jittered delay before retry `n`.
    pub fn delay(&self, n: u32, rng: &mut Rng) -> u32 {
        rng.up_to(self.ceiling(n))
    }
}

/// Parses a `Retry-After` value into a delay in ms: delta-seconds, or an
/// IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`) relative to `now_ms`
/// (Unix epoch ms). Anything else is ignored.
pub fn parse_retry_after(value: &str, now_ms: f64) -> Option<u32> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        let seconds: u64 = value.parse().ok()?;
        return Some(seconds.saturating_mul(1000).min(u64::from(u32::MAX)) as u32);
    }
    let at_ms = parse_imf_fixdate(value)?;
    Some((at_ms - now_ms).clamp(0.0, f64::from(u32::MAX)) as u32)
}

/// `Sun, 06 Nov 1994 08:49:37 GMT` → Unix epoch ms.
fn parse_imf_fixdate(value: &str) -> Option<f64> {
    let rest = value.split_once(',')?.1.strip_prefix(' ')?;
    let mut parts = rest.split(' ');
    let day: i64 = parts.next()?.parse().ok()?;
    let month = parts.next()?;
    let year: i64 = parts.next()?.parse().ok()?;
    let time = parts.next()?;
    if parts.next()? != "GMT" || parts.next().is_some() {
        return None;
    }
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = MONTHS.iter().position(|m| *m == month)? as i64 + 1;
    let mut hms = time.split(':').map(|p| p.parse::<i64>().ok());
    let (h, m, s) = (hms.next()??, hms.next()??, hms.next()??);
    if hms.next().is_some() || !(1..=31).contains(&day) || h > 23 || m > 59 || s > 60 {
        return None;
    }
    let days = days_from_civil(year, month, day);
    Some(((days * 86_400 + h * 3600 + m * 60 + s) * 1000) as f64)
}

/// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ceilings_double_up_to_the_cap() {
        let b = Backoff {
            base_ms: 300,
            cap_ms: 5000,
        };
        let ceilings: Vec<u32> = (0..7).map(|n| b.ceiling(n)).collect();
        assert_eq!(ceilings, [300, 600, 1200, 2400, 4800, 5000, 5000]);
        assert_eq!(b.ceiling(200), 5000, "no overflow");
    }

    #[test]
    fn the_exact_sequence_for_a_seed() {
        let b = Backoff {
            base_ms: 300,
            cap_ms: 5000,
        };
        let mut rng = Rng::new(42);
        let delays: Vec<u32> = (0..4).map(|n| b.delay(n, &mut rng)).collect();
        let mut again = Rng::new(42);
        assert_eq!(
            delays,
            (0..4).map(|n| b.delay(n, &mut again)).collect::<Vec<_>>()
        );
        for (n, d) in delays.iter().enumerate() {
            assert!(*d <= b.ceiling(n as u32));
        }
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        assert_eq!(parse_retry_after("3", 0.0), Some(3000));
        assert_eq!(parse_retry_after(" 0 ", 0.0), Some(0));
        // 1994-11-06T08:49:37Z = 784111777 s.
        let now = 784_111_777_000.0;
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:47 GMT", now),
            Some(10_000)
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:30 GMT", now),
            Some(0),
            "past"
        );
        for bad in [
            "",
            "-1",
            "1.5",
            "soon",
            "Sun, 06 Nov 1994 08:49:47 UTC",
            "Sun, 32 Nov 1994 08:49:47 GMT",
        ] {
            assert_eq!(parse_retry_after(bad, now), None, "{bad:?}");
        }
    }

    #[test]
    fn civil_days() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(2026, 11, 24), 20_781);
    }
}
