//! This machine's memory bandwidth, measured once: every core copying its own buffer far larger
//! than the last-level cache, the ceiling that memory-bound work cannot pass.

use crate::error::EngineError;
use crate::trace::clock;

/// Bytes each thread copies per pass: 64 MiB, twice a large server's last-level cache slice.
pub const COPY_BYTES_PER_THREAD: usize = 64 << 20;

/// One measurement of the copy bandwidth.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Bandwidth {
    /// Gigabytes per second moved (a copy counts its read and its write, as STREAM does).
    pub copy_gb_per_sec: f64,
    /// Threads that copied at once (one per core).
    pub threads: usize,
}

/// This machine's copy bandwidth, measured on first use and kept for the life of the process
/// (a lesson shows it as a ceiling; measuring it again would only add noise and a second).
pub fn copy_bandwidth() -> Result<Bandwidth, EngineError> {
    static MEASURED: std::sync::OnceLock<Bandwidth> = std::sync::OnceLock::new();
    if let Some(b) = MEASURED.get() {
        return Ok(*b);
    }
    let b = measure_copy_bandwidth(8)?;
    Ok(*MEASURED.get_or_init(|| b))
}

/// Measures the copy bandwidth with one thread per core: the best of five rounds of
/// `passes` copies each. Takes about a second on a laptop.
pub fn measure_copy_bandwidth(passes: usize) -> Result<Bandwidth, EngineError> {
    let threads = clock::core_count().max(1);
    let elems = COPY_BYTES_PER_THREAD / std::mem::size_of::<f64>();
    let mut buffers: Vec<(Vec<f64>, Vec<f64>)> = (0..threads)
        .map(|t| (vec![t as f64 + 0.5; elems], vec![0.0; elems]))
        .collect();
    let passes = passes.max(1);
    let mut best_secs = f64::INFINITY;
    for _ in 0..5 {
        let t0 = clock::now_ns();
        std::thread::scope(|s| -> Result<(), EngineError> {
            let mut handles = Vec::with_capacity(threads);
            for (k, (src, dst)) in buffers.iter_mut().enumerate() {
                let h = std::thread::Builder::new()
                    .name(format!("gilscope-membw-{k}"))
                    .spawn_scoped(s, move || {
                        for p in 0..passes {
                            dst.copy_from_slice(src);
                            // Keep each pass observable so no copy is optimised away.
                            let i = p % src.len();
                            src[i] = std::hint::black_box(dst[0]);
                        }
                    })
                    .map_err(|e| EngineError::io("cannot start a copy thread", e))?;
                handles.push(h);
            }
            for h in handles {
                h.join()
                    .map_err(|_| EngineError::Internal("a copy thread panicked".to_owned()))?;
            }
            Ok(())
        })?;
        best_secs = best_secs.min((clock::now_ns() - t0) as f64 / 1e9);
    }
    let bytes = (threads * passes * 2 * COPY_BYTES_PER_THREAD) as f64;
    Ok(Bandwidth {
        copy_gb_per_sec: bytes / best_secs.max(1e-9) / 1e9,
        threads,
    })
}
