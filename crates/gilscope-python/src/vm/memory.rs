//! The emulation's heap cap: one allocation a script asks for beyond it (`[0] * 10**12`,
//! `"x" * 10**12`) is Python's `MemoryError`, which the script can catch, never an abort of
//! gilscope. By default the cap is half the machine's memory; a host may set another.

use std::sync::atomic::{AtomicUsize, Ordering};

use super::VmError;

/// The cap in bytes; 0 until first asked for (then the default).
static CAP_BYTES: AtomicUsize = AtomicUsize::new(0);

/// Used where the machine's memory cannot be read.
const FALLBACK_CAP_BYTES: usize = 4 << 30;

/// Half the machine's physical memory, where it can be read.
fn default_cap_bytes() -> usize {
    #[cfg(target_os = "linux")]
    {
        let total_kib = std::fs::read_to_string("/proc/meminfo").ok().and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<usize>().ok())
        });
        if let Some(kib) = total_kib {
            return kib.saturating_mul(1024) / 2;
        }
    }
    FALLBACK_CAP_BYTES
}

/// The largest allocation a script may make, in bytes.
pub fn cap_bytes() -> usize {
    match CAP_BYTES.load(Ordering::Relaxed) {
        0 => {
            let c = default_cap_bytes().max(1);
            CAP_BYTES.store(c, Ordering::Relaxed);
            c
        }
        c => c,
    }
}

/// Sets the cap (the user's choice); 0 goes back to the default.
pub fn set_cap_bytes(bytes: usize) {
    CAP_BYTES.store(bytes, Ordering::Relaxed);
}

/// `count` items of `each` bytes, or `MemoryError` where that is beyond the cap.
pub fn check(count: usize, each: usize) -> Result<usize, VmError> {
    match count.checked_mul(each) {
        Some(bytes) if bytes <= cap_bytes() => Ok(bytes),
        _ => Err(VmError::py("MemoryError", "")),
    }
}

/// A vector with room for `count` items, or `MemoryError` where that is beyond the cap or
/// the allocator refuses it.
pub fn vec_with_capacity<T>(count: usize) -> Result<Vec<T>, VmError> {
    check(count, std::mem::size_of::<T>().max(1))?;
    let mut v = Vec::new();
    v.try_reserve_exact(count)
        .map_err(|_| VmError::py("MemoryError", ""))?;
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beyond_the_cap_is_a_memory_error_and_within_it_is_not() {
        assert!(matches!(check(usize::MAX, 2), Err(VmError::Py(p)) if &*p.exc == "MemoryError"));
        assert!(check(cap_bytes() + 1, 1).is_err());
        assert_eq!(check(1000, 8).ok(), Some(8000));
        let v: Vec<u64> = vec_with_capacity(16).unwrap();
        assert!(v.capacity() >= 16);
    }
}
