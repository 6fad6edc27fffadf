//! Compiled kernels: the fused stencils the native mode runs, and the plain loop they are
//! measured against. Each has exactly the floating-point semantics of the Python kernel it
//! stands in for, so checksums agree bit for bit.

use ndarray::{Array2, ArrayView2, ArrayViewMut2};
use rayon::prelude::*;

use crate::heat::workload::{DENOM, DX2, DY2};

/// A fresh problem grid: zeros with the first row set to `ic`.
pub fn initial_grid(n: usize, ic: f64) -> Array2<f64> {
    let mut u = Array2::zeros((n, n));
    u.row_mut(0).fill(ic);
    u
}

/// `py_update` compiled: the in-place sweep, each cell reading its already-updated neighbours.
pub fn gauss_seidel_sweep(u: &mut Array2<f64>) {
    let (nx, ny) = u.dim();
    if nx < 3 || ny < 3 {
        return;
    }
    let Some(data) = u.as_slice_mut() else {
        return gauss_seidel_sweep_strided(u);
    };
    for i in 1..nx - 1 {
        let (above, rest) = data.split_at_mut(i * ny);
        let up = &above[(i - 1) * ny..];
        let (mid, below) = rest.split_at_mut(ny);
        let down = &below[..ny];
        for j in 1..ny - 1 {
            mid[j] = ((down[j] + up[j]) * DY2 + (mid[j + 1] + mid[j - 1]) * DX2) / DENOM;
        }
    }
}

fn gauss_seidel_sweep_strided(u: &mut Array2<f64>) {
    let (nx, ny) = u.dim();
    for i in 1..nx - 1 {
        for j in 1..ny - 1 {
            u[[i, j]] = ((u[[i + 1, j]] + u[[i - 1, j]]) * DY2
                + (u[[i, j + 1]] + u[[i, j - 1]]) * DX2)
                / DENOM;
        }
    }
}

/// One output row of the fused Jacobi stencil.
#[inline]
fn jacobi_row(up: &[f64], mid: &[f64], down: &[f64], out: &mut [f64]) {
    let m = out.len();
    if m < 3 {
        return;
    }
    let (up, mid, down) = (&up[..m], &mid[..m], &down[..m]);
    for j in 1..m - 1 {
        out[j] = ((down[j] + up[j]) * DY2 + (mid[j + 1] + mid[j - 1]) * DX2) / DENOM;
    }
}

/// `num_update` fused into one pass with no temporaries: writes the interior of `out` from `u`.
pub fn jacobi_step(u: ArrayView2<'_, f64>, mut out: ArrayViewMut2<'_, f64>) {
    let (nx, _) = u.dim();
    for i in 1..nx.saturating_sub(1) {
        let (Some(up), Some(mid), Some(down)) = (
            u.row(i - 1).to_slice(),
            u.row(i).to_slice(),
            u.row(i + 1).to_slice(),
        ) else {
            return;
        };
        let mut row = out.row_mut(i);
        if let Some(o) = row.as_slice_mut() {
            jacobi_row(up, mid, down, o);
        }
    }
}

/// [`jacobi_step`] with the rows split over the current rayon pool (fine-grained threading).
/// `on_chunk` runs around each chunk on the thread that computes it, for tracing.
pub fn jacobi_step_par<F>(u: &Array2<f64>, out: &mut Array2<f64>, rows_per_task: usize, on_chunk: F)
where
    F: Fn(&mut dyn FnMut()) + Sync,
{
    let (nx, m) = u.dim();
    if nx < 3 || out.dim() != (nx, m) {
        return;
    }
    let (Some(src), Some(dst)) = (u.as_slice(), out.as_slice_mut()) else {
        return jacobi_step(u.view(), out.view_mut());
    };
    let rows = rows_per_task.max(1);
    dst[m..(nx - 1) * m]
        .par_chunks_mut(rows * m)
        .enumerate()
        .for_each(|(c, chunk)| {
            let mut work = || {
                for (r, o) in chunk.chunks_exact_mut(m).enumerate() {
                    let i = 1 + c * rows + r;
                    jacobi_row(
                        &src[(i - 1) * m..i * m],
                        &src[i * m..(i + 1) * m],
                        &src[(i + 1) * m..(i + 2) * m],
                        o,
                    );
                }
            };
            on_chunk(&mut work);
        });
}

/// The plain compiled loop the fused kernel is measured against: a flat indexed double loop.
pub fn plain_jacobi_loop(u: &[f64], out: &mut [f64], n: usize) {
    for i in 1..n - 1 {
        for j in 1..n - 1 {
            out[i * n + j] = ((u[(i + 1) * n + j] + u[(i - 1) * n + j]) * DY2
                + (u[i * n + j + 1] + u[i * n + j - 1]) * DX2)
                / DENOM;
        }
    }
}

/// Runs `iters` Jacobi steps on `u` with a second buffer, leaving the result in `u`.
pub fn jacobi_iterate(u: &mut Array2<f64>, scratch: &mut Array2<f64>, iters: usize) {
    scratch.assign(u);
    for _ in 0..iters {
        jacobi_step(u.view(), scratch.view_mut());
        std::mem::swap(u, scratch);
    }
}

/// The three arrays of the STREAM triad (McCalpin): `a = b + 3·c`, 24 bytes moved per
/// multiply-add, so large arrays make it memory-bound on any machine.
pub struct StreamArrays {
    /// The output, shown as the worker's grid.
    pub a: Array2<f64>,
    b: Array2<f64>,
    c: Array2<f64>,
}

/// Bytes one triad moves per element: two reads and one write of a double (STREAM's count).
pub const TRIAD_BYTES_PER_ELEMENT: u64 = 24;

impl StreamArrays {
    /// Three `n`×`n` arrays: `b` filled with `ic`, `c` with a pattern, `a` zero.
    pub fn new(n: usize, ic: f64) -> Self {
        Self {
            a: Array2::zeros((n, n)),
            b: Array2::from_elem((n, n), ic),
            c: Array2::from_shape_fn((n, n), |(i, j)| ((i * 7 + j * 13) % 97) as f64 / 97.0),
        }
    }

    /// One pass of `a = b + 3·c`.
    pub fn triad(&mut self) {
        ndarray::Zip::from(&mut self.a)
            .and(&self.b)
            .and(&self.c)
            .for_each(|a, &b, &c| *a = b + 3.0 * c);
    }

    /// The sum of `a`, the problem's checksum.
    pub fn sum(&self) -> f64 {
        self.a.sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fused_matches_plain_loop_bit_for_bit() {
        let n = 17;
        let mut u = initial_grid(n, 1.5);
        let mut s = u.clone();
        jacobi_iterate(&mut u, &mut s, 7);
        let mut a: Vec<f64> = initial_grid(n, 1.5).iter().copied().collect();
        let mut b = a.clone();
        for _ in 0..7 {
            plain_jacobi_loop(&a, &mut b, n);
            std::mem::swap(&mut a, &mut b);
        }
        assert_eq!(u.iter().copied().collect::<Vec<_>>(), a);
    }

    #[test]
    fn parallel_rows_match_serial() {
        let n = 40;
        let u = initial_grid(n, 2.0);
        let mut serial = u.clone();
        jacobi_step(u.view(), serial.view_mut());
        let mut par = u.clone();
        jacobi_step_par(&u, &mut par, 3, |f| f());
        assert_eq!(serial, par);
    }

    #[test]
    fn gauss_seidel_uses_updated_neighbours() {
        let mut u = initial_grid(4, 1.0);
        gauss_seidel_sweep(&mut u);
        let first = (1.0 * DY2) / DENOM;
        assert_eq!(u[[1, 1]], first);
        assert_eq!(u[[1, 2]], ((1.0 + 0.0) * DY2 + (0.0 + first) * DX2) / DENOM);
    }
}
