//! The few `f64` operations the core needs that live in std, not core (the
//! crate is `no_std`; wasm32's own instructions for them are not stable in
//! Rust yet). Checked against std's in the tests.

/// From 2^52 on, every `f64` is a whole number.
const WHOLE_FROM: f64 = 4_503_599_627_370_496.0;

/// `x` without its fraction, towards zero.
#[inline]
pub fn trunc(x: f64) -> f64 {
    if x.abs() < WHOLE_FROM {
        ((x as i64) as f64).copysign(x)
    } else {
        x
    }
}

/// The smallest whole number not below `x`.
#[inline]
pub fn ceil(x: f64) -> f64 {
    let t = trunc(x);
    if x > t {
        t + 1.0
    } else {
        t
    }
}

/// `x` to the nearest whole number, halves away from zero (as `f64::round`).
#[inline]
pub fn round(x: f64) -> f64 {
    let t = trunc(x);
    let rest = x - t;
    if rest >= 0.5 {
        t + 1.0
    } else if rest <= -0.5 {
        t - 1.0
    } else {
        t
    }
}

/// Whether `x` is a whole number (`x.fract() == 0.0`: false for NaN and ±∞).
#[inline]
pub fn is_whole(x: f64) -> bool {
    x - trunc(x) == 0.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn they_agree_with_std() {
        let samples = [
            0.0,
            -0.0,
            0.5,
            -0.5,
            1.5,
            -1.5,
            2.5,
            0.49999999999999994,
            1e15 + 0.5,
            4294967295.5,
            -7.25,
            1e300,
            f64::MIN_POSITIVE,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
        ];
        for x in samples {
            let same = |a: f64, b: f64| a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan());
            assert!(same(ceil(x), x.ceil()), "ceil {x}");
            assert!(same(trunc(x), x.trunc()), "trunc {x}");
            assert!(
                same(round(x), x.round()) || (round(x) == 0.0 && x.round() == 0.0),
                "round {x}"
            );
            assert_eq!(is_whole(x), x.fract() == 0.0, "is_whole {x}");
        }
    }
}
