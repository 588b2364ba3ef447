//! One small sort for the whole crate: a heapsort whose body is compiled
//! once, behind a `dyn` callback. std's sorts are faster on large inputs, but
//! each element type gets its own 2–4 KB copy in the wasm (six call sites
//! cost about 20 KB); here each type adds only a small closure. The lists
//! sorted here are short (headers, query pairs, JSON members, statistics
//! rows), and heapsort keeps O(n log n) for hostile inputs. Not stable.

/// Sorts `v` so that no element is `less` than the one before it.
pub fn sort_by<T>(v: &mut [T], mut less: impl FnMut(&T, &T) -> bool) {
    if v.len() < 2 {
        return;
    }
    let len = v.len();
    heapsort(len, &mut |step| match step {
        Step::Less(i, j) => less(&v[i], &v[j]),
        Step::Swap(i, j) => {
            v.swap(i, j);
            false
        }
    });
}

/// Sorts `v` in ascending order.
pub fn sort<T: Ord>(v: &mut [T]) {
    sort_by(v, |a, b| a < b);
}

/// What the heapsort asks of the slice it sorts.
enum Step {
    /// Is element i less than element j?
    Less(usize, usize),
    /// Swap elements i and j.
    Swap(usize, usize),
}

#[inline(never)]
fn heapsort(len: usize, at: &mut dyn FnMut(Step) -> bool) {
    for start in (0..len / 2).rev() {
        sift_down(at, start, len);
    }
    for end in (1..len).rev() {
        at(Step::Swap(0, end));
        sift_down(at, 0, end);
    }
}

/// Restores the max-heap below `node`, within `0..end`.
fn sift_down(at: &mut dyn FnMut(Step) -> bool, mut node: usize, end: usize) {
    loop {
        let mut child = 2 * node + 1;
        if child >= end {
            return;
        }
        if child + 1 < end && at(Step::Less(child, child + 1)) {
            child += 1;
        }
        if !at(Step::Less(node, child)) {
            return;
        }
        at(Step::Swap(node, child));
        node = child;
    }
}

#[cfg(test)]
#[allow(clippy::disallowed_methods)] // std's sort is the reference here.
mod tests {
    use super::*;
    use crate::core::rng::Rng;

    #[test]
    fn sorts_like_std_whatever_the_input() {
        let mut rng = Rng::new(7);
        for len in 0..200 {
            let mut v: Vec<u32> = (0..len).map(|_| rng.up_to(49)).collect();
            let mut expected = v.clone();
            expected.sort_unstable();
            sort(&mut v);
            assert_eq!(v, expected, "length {len}");
        }
    }

    #[test]
    fn sorted_reversed_and_equal_inputs() {
        for mut v in [
            (0..100).collect::<Vec<u32>>(),
            (0..100).rev().collect(),
            vec![5; 100],
        ] {
            let mut expected = v.clone();
            expected.sort_unstable();
            sort(&mut v);
            assert_eq!(v, expected);
        }
    }

    #[test]
    fn a_custom_order_and_tuples() {
        let mut v = vec![("b", 2), ("a", 9), ("c", 1), ("a", 1)];
        sort(&mut v);
        assert_eq!(v, [("a", 1), ("a", 9), ("b", 2), ("c", 1)]);
        sort_by(&mut v, |x, y| x.1 > y.1);
        assert_eq!(v.iter().map(|p| p.1).collect::<Vec<_>>(), [9, 2, 1, 1]);
    }
}
