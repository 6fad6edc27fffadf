//! The cores' CPU times as the OS counts them (`/proc/stat` on Linux): parsing, reading, and the
//! busy fraction between two reads.

/// Per-core (busy, total) jiffies from one read of `/proc/stat`.
#[derive(Clone, Debug, PartialEq)]
pub struct CpuTimes(pub Vec<(u64, u64)>);

/// Parses the `cpuN` lines of `/proc/stat`.
pub fn parse_proc_stat(text: &str) -> CpuTimes {
    let mut cores: Vec<(usize, u64, u64)> = Vec::new();
    for line in text.lines() {
        let mut it = line.split_whitespace();
        let Some(name) = it.next() else { continue };
        let Some(idx) = name
            .strip_prefix("cpu")
            .and_then(|n| n.parse::<usize>().ok())
        else {
            continue;
        };
        let v: Vec<u64> = it.filter_map(|x| x.parse().ok()).collect();
        // user nice system idle iowait irq softirq steal guest guest_nice
        let idle = v.get(3).copied().unwrap_or(0) + v.get(4).copied().unwrap_or(0);
        let total: u64 = v.iter().take(8).sum();
        cores.push((idx, total.saturating_sub(idle), total));
    }
    cores.sort_by_key(|c| c.0);
    CpuTimes(cores.into_iter().map(|(_, b, t)| (b, t)).collect())
}

/// Reads `/proc/stat`, where the OS has it.
pub fn read_cpu_times() -> Option<CpuTimes> {
    std::fs::read_to_string("/proc/stat")
        .ok()
        .map(|t| parse_proc_stat(&t))
        .filter(|c| !c.0.is_empty())
}

/// Number of cores listed in `/proc/stat`.
pub fn proc_stat_core_count() -> Option<usize> {
    read_cpu_times().map(|c| c.0.len())
}

/// Busy fraction per core between two reads.
pub fn busy_between(a: &CpuTimes, b: &CpuTimes) -> Vec<f32> {
    a.0.iter()
        .zip(&b.0)
        .map(|(&(b0, t0), &(b1, t1))| {
            let dt = t1.saturating_sub(t0);
            if dt == 0 {
                0.0
            } else {
                (b1.saturating_sub(b0) as f32 / dt as f32).clamp(0.0, 1.0)
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_diffs_proc_stat() {
        let a = parse_proc_stat(
            "cpu  1 2 3 4\ncpu0 10 0 10 80 0 0 0 0 0 0\ncpu1 0 0 0 100 0 0 0 0\nintr 5",
        );
        let b = parse_proc_stat("cpu0 60 0 10 130 0 0 0 0 0 0\ncpu1 0 0 0 200 0 0 0 0\n");
        assert_eq!(a.0.len(), 2);
        assert_eq!(busy_between(&a, &b), vec![0.5, 0.0]);
    }
}
