//! What the wasm runtime gets from this crate instead of the toolchain's:
//! the heap allocator, the panic handler and `memcmp`. Native builds use
//! their platform's.

/// The wasm heap: TLSF rather than std's dlmalloc (smaller, O(1)). wasm32
/// without atomics is single-threaded, which `GlobalTlsf` relies on there.
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: rlsf::GlobalTlsf = rlsf::GlobalTlsf::new();

/// A panic traps at once, formatting nothing, so std's panic machinery is not
/// in the wasm. No input from JS may panic (tests prove it); a trap is the
/// last resort. Builds with std (the wasm-bindgen tests) use std's handler.
#[cfg(all(target_arch = "wasm32", not(test), not(feature = "std")))]
#[panic_handler]
fn on_panic(_: &::core::panic::PanicInfo) -> ! {
    ::core::arch::wasm32::unreachable()
}

/// `memcmp` eight bytes at a time. The toolchain's compares byte by byte, and
/// string equality calls it for every cache key a lookup finds: in an
/// interpreter (iOS runs wasm without a JIT) that loop was 15% of a cache
/// hit. Strong here, it replaces compiler-builtins' weak one.
///
/// # Safety
/// `a` and `b` are readable for `n` bytes, as for C's `memcmp`.
#[cfg(target_arch = "wasm32")]
#[no_mangle]
pub unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    // SAFETY: the caller's contract.
    unsafe { compare_raw(a, b, n) }
}

/// Compares `n` bytes at `a` and `b` as unsigned bytes: negative, 0 or positive.
///
/// # Safety
/// `a` and `b` are readable for `n` bytes.
#[cfg(any(target_arch = "wasm32", test))]
#[inline(always)]
unsafe fn compare_raw(a: *const u8, b: *const u8, n: usize) -> i32 {
    let mut i = 0;
    // Whole words while they are equal (unaligned loads are one wasm
    // instruction); the first different byte is in the word where they stop,
    // or in the tail.
    // SAFETY (every read): `i + 8 <= n`, then `i < n`.
    while i + 8 <= n {
        let (x, y) = unsafe {
            (
                a.add(i).cast::<u64>().read_unaligned(),
                b.add(i).cast::<u64>().read_unaligned(),
            )
        };
        if x != y {
            break;
        }
        i += 8;
    }
    while i < n {
        let (x, y) = unsafe { (*a.add(i), *b.add(i)) };
        if x != y {
            return i32::from(x) - i32::from(y);
        }
        i += 1;
    }
    0
}

#[cfg(test)]
mod tests {
    use super::compare_raw;
    use ::core::cmp::Ordering;

    /// `memcmp` of equal-length `a` and `b`.
    fn compare(a: &[u8], b: &[u8]) -> i32 {
        // SAFETY: both are readable for the shorter length.
        unsafe { compare_raw(a.as_ptr(), b.as_ptr(), a.len().min(b.len())) }
    }

    #[test]
    fn it_orders_as_slices_do() {
        let samples: [&[u8]; 9] = [
            b"",
            b"a",
            b"0:5:cloud3:GET16:/api/cached/item",
            b"0:5:cloud3:GET16:/api/cached/iten",
            b"0:5:cloud3:GET16:/api/cached/itel",
            b"\xff\x00\x00\x00\x00\x00\x00\x00\x01",
            b"\xff\x00\x00\x00\x00\x00\x00\x00\x02",
            b"\x01\x00\x00\x00\x00\x00\x00\x00\xff",
            b"\x80abcdefgh",
        ];
        for a in samples {
            for b in samples {
                let n = a.len().min(b.len());
                let (a, b) = (&a[..n], &b[..n]);
                let got = compare(a, b).cmp(&0);
                assert_eq!(got, a.cmp(b), "{a:?} {b:?}");
            }
        }
        // A difference in every position of a long key.
        let key = [7u8; 100];
        for at in 0..100 {
            let mut other = key;
            other[at] = 9;
            assert_eq!(compare(&key, &other).cmp(&0), Ordering::Less, "at {at}");
            assert_eq!(compare(&other, &key).cmp(&0), Ordering::Greater, "at {at}");
        }
    }
}
