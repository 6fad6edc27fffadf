//! Facts about this machine that settings are checked against, read from the OS where it tells.

/// Bytes of memory the OS says are available (`MemAvailable` in `/proc/meminfo`), or `None`
/// where it does not say (other platforms, a masked `/proc`).
pub fn available_memory_bytes() -> Option<u64> {
    #[cfg(target_os = "linux")]
    {
        let text = std::fs::read_to_string("/proc/meminfo").ok()?;
        let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
        let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib * 1024)
    }
    #[cfg(not(target_os = "linux"))]
    {
        None
    }
}
