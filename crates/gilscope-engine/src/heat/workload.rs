//! The benchmark's workload: constants, `linspace`, `array_split`, and the checksum.

use std::ops::Range;

use serde::{Deserialize, Serialize};

use crate::config::RunConfig;

/// `dx` of the source.
pub const DX: f64 = 0.1;
/// `dy` of the source.
pub const DY: f64 = 0.1;
/// `dx2 = dx*dx`.
pub const DX2: f64 = DX * DX;
/// `dy2 = dy*dy`.
pub const DY2: f64 = DY * DY;
/// `2*(dx2+dy2)`, the stencil's divisor, evaluated as Python does (int 2 times a float).
pub const DENOM: f64 = 2.0 * (DX2 + DY2);

/// `numpy.linspace(start, stop, n)`: `k*step + start`, with the last value exactly `stop`.
pub fn linspace(start: f64, stop: f64, n: usize) -> Vec<f64> {
    match n {
        0 => Vec::new(),
        1 => vec![start],
        _ => {
            let step = (stop - start) / (n - 1) as f64;
            let mut v: Vec<f64> = (0..n).map(|k| k as f64 * step + start).collect();
            if let Some(last) = v.last_mut() {
                *last = stop;
            }
            v
        }
    }
}

/// `numpy.array_split(range(n), sections)`: contiguous chunks, the first `n % sections` one longer.
pub fn array_split(n: usize, sections: usize) -> Vec<Range<usize>> {
    let sections = sections.max(1);
    let base = n / sections;
    let extra = n % sections;
    let mut start = 0;
    (0..sections)
        .map(|s| {
            let len = base + usize::from(s < extra);
            let r = start..start + len;
            start += len;
            r
        })
        .collect()
}

/// One worker's share of the problems.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Chunk {
    /// Worker index.
    pub worker: usize,
    /// Index of its first problem.
    pub first_problem: usize,
    /// Boundary values `ic` of its problems, in order.
    pub ics: Vec<f64>,
}

/// The chunks of a run: `array_split(linspace(1, 2, problems), threads)`.
pub fn chunks(cfg: &RunConfig) -> Vec<Chunk> {
    let ics = linspace(1.0, 2.0, cfg.problems);
    array_split(cfg.problems, cfg.threads)
        .into_iter()
        .enumerate()
        .map(|(worker, r)| Chunk {
            worker,
            first_problem: r.start,
            ics: ics[r].to_vec(),
        })
        .collect()
}

/// The checksum: per-problem grid sums added in problem order, so it does not depend on how the
/// problems were split.
pub fn checksum(problem_sums: &[f64]) -> f64 {
    problem_sums.iter().fold(0.0, |acc, s| acc + s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linspace_matches_numpy() {
        assert_eq!(linspace(1.0, 2.0, 5), vec![1.0, 1.25, 1.5, 1.75, 2.0]);
        assert_eq!(linspace(1.0, 2.0, 1), vec![1.0]);
        let v = linspace(1.0, 2.0, 100);
        assert_eq!(v[99], 2.0);
        assert_eq!(v[1], 1.0 + 1.0 / 99.0);
    }

    #[test]
    fn array_split_matches_numpy() {
        let lens = |n, s| {
            array_split(n, s)
                .iter()
                .map(|r| r.len())
                .collect::<Vec<_>>()
        };
        assert_eq!(lens(100, 3), vec![34, 33, 33]);
        assert_eq!(lens(10, 4), vec![3, 3, 2, 2]);
        assert_eq!(lens(2, 4), vec![1, 1, 0, 0]);
        let parts = array_split(7, 3);
        assert_eq!(parts, vec![0..3, 3..5, 5..7]);
    }

    #[test]
    fn source_constants() {
        assert_eq!(DX2, 0.1 * 0.1);
        assert_eq!(DENOM, 2.0 * (DX2 + DY2));
    }
}
