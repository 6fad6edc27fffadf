//! Reads who holds a real CPython's GIL from the interpreter's memory, without stopping it:
//! `_PyRuntime`'s address from the binary's dynamic symbols and `/proc/PID/maps`, then a few
//! bytes with `process_vm_readv`. Per-version layouts: 3.11 by table, 3.13+ from the
//! `_Py_DebugOffsets` the interpreter publishes at the start of `_PyRuntime`.

use std::fs;

/// Where the GIL's fields are, for one interpreter version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// The GIL sits in `_PyRuntime` itself (3.11): offsets from `_PyRuntime`.
    Runtime {
        /// `ceval.gil.last_holder`.
        holder: u64,
        /// `ceval.gil.locked`.
        locked: u64,
        /// `ceval.gil.switch_number`.
        switch_number: u64,
        /// `PyThreadState.native_thread_id`.
        native_thread_id: u64,
    },
    /// The GIL sits in the main interpreter (3.12+): `interpreters.head`, then offsets from it.
    Interpreter {
        /// `_PyRuntime.interpreters.head`.
        interpreters_head: u64,
        /// `PyInterpreterState._gil.last_holder`.
        holder: u64,
        /// `PyInterpreterState._gil.locked`.
        locked: u64,
        /// `PyInterpreterState._gil.switch_number` (just after `locked`, as in every
        /// `_gil_runtime_state` since 3.2).
        switch_number: u64,
        /// `PyThreadState.native_thread_id`.
        native_thread_id: u64,
    },
}

/// The 3.11 layout (x86-64, from CPython 3.11's debug info).
pub const LAYOUT_311: Layout = Layout::Runtime {
    holder: 368,
    locked: 376,
    switch_number: 384,
    native_thread_id: 160,
};

/// The layout for `(major, minor)` when it is known by table.
pub fn table_layout(version: (u32, u32)) -> Option<Layout> {
    match version {
        (3, 11) => Some(LAYOUT_311),
        _ => None,
    }
}

/// Parses the `_Py_DebugOffsets` at the start of `_PyRuntime` (3.13+): the cookie, the
/// version, then (3.14) a `free_threaded` flag, the runtime, interpreter and thread offsets.
/// `None` when the cookie is not there (3.12 and older).
pub fn layout_from_debug_offsets(head: &[u8]) -> Option<Layout> {
    if head.len() < 256 || &head[..8] != b"xdebugpy" {
        return None;
    }
    let u = |i: usize| -> Option<u64> {
        Some(u64::from_le_bytes(head.get(i..i + 8)?.try_into().ok()?))
    };
    // 3.14 added `free_threaded` (0 or 1) after the version; sizes of structs are far larger.
    let base = if u(16)? <= 1 { 24 } else { 16 };
    let interpreters_head = u(base + 16)?;
    let interp = base + 24;
    let locked = u(interp + 88)?;
    let holder = u(interp + 96)?;
    let thread = interp + 13 * 8;
    let native_thread_id = u(thread + 48)?;
    Some(Layout::Interpreter {
        interpreters_head,
        holder,
        locked,
        switch_number: locked + 8,
        native_thread_id,
    })
}

/// Bytes of CPython's `_gil_runtime_state` on x86-64 with glibc, from its `interval` on:
/// `interval`, `last_holder`, `locked`, `switch_number`, then `cond`, `mutex`, `switch_cond`
/// and `switch_mutex` (48 + 40 + 48 + 40). The same in 3.11 (in `_PyRuntime`) and 3.12+ (in
/// the interpreter). A thread asleep on a futex word inside it waits for the GIL.
pub const GIL_STATE_BYTES: u64 = 208;

/// One GIL observation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GilState {
    /// The holder's native thread id, or `None` when the GIL is free.
    pub holder_tid: Option<u32>,
    /// CPython's own count of holder changes.
    pub switch_number: u64,
}

/// Finds the load address of `_PyRuntime` in process `pid`.
pub fn runtime_address(pid: u32) -> Result<u64, String> {
    let maps = fs::read_to_string(format!("/proc/{pid}/maps"))
        .map_err(|e| format!("cannot read /proc/{pid}/maps: {e}"))?;
    // The file holding the interpreter: libpython if linked shared, else the python binary.
    let mut candidates: Vec<(u64, String)> = Vec::new();
    for line in maps.lines() {
        let mut parts = line.split_whitespace();
        let (Some(range), Some(_perms), Some(offset), Some(_dev), Some(_inode), Some(path)) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            continue;
        };
        let name = path.rsplit('/').next().unwrap_or(path);
        let interesting = name.starts_with("libpython3") || name.starts_with("python3");
        if !interesting || u64::from_str_radix(offset, 16) != Ok(0) {
            continue;
        }
        let start = range
            .split('-')
            .next()
            .and_then(|s| u64::from_str_radix(s, 16).ok());
        if let Some(start) = start
            && !candidates.iter().any(|(_, p)| p == path)
        {
            candidates.push((start, path.to_owned()));
        }
    }
    // libpython first: a python binary linked against it has no _PyRuntime of its own.
    candidates.sort_by_key(|(_, p)| !p.contains("libpython"));
    for (base, path) in &candidates {
        if let Some(addr) = symbol_address(path, "_PyRuntime", *base)? {
            return Ok(addr);
        }
    }
    Err(format!(
        "no _PyRuntime symbol in the interpreter's files of pid {pid} ({})",
        if candidates.is_empty() {
            "no python3 or libpython3 mapping".to_owned()
        } else {
            candidates
                .iter()
                .map(|(_, p)| p.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        }
    ))
}

fn symbol_address(path: &str, name: &str, base: u64) -> Result<Option<u64>, String> {
    use object::{Object, ObjectKind, ObjectSegment, ObjectSymbol};
    let data = fs::read(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    let file =
        object::File::parse(&*data).map_err(|e| format!("{path} is not an ELF file: {e}"))?;
    let Some(sym) = file
        .dynamic_symbols()
        .chain(file.symbols())
        .find(|s| s.name() == Ok(name))
    else {
        return Ok(None);
    };
    Ok(Some(match file.kind() {
        ObjectKind::Executable => sym.address(),
        _ => {
            let first_vaddr = file.segments().map(|s| s.address()).min().unwrap_or(0);
            base + sym.address() - first_vaddr
        }
    }))
}

/// Reads `len` bytes at `addr` of process `pid` (`process_vm_readv`: the target keeps running).
pub fn read_remote(pid: u32, addr: u64, buf: &mut [u8]) -> Result<(), String> {
    let local = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    let remote = libc::iovec {
        iov_base: addr as *mut libc::c_void,
        iov_len: buf.len(),
    };
    // SAFETY: `local` points at `buf`, valid for writes of its length for the whole call; the
    // remote address is only read by the kernel, which checks it.
    let n = unsafe { libc::process_vm_readv(pid as libc::pid_t, &local, 1, &remote, 1, 0) };
    if n == buf.len() as isize {
        Ok(())
    } else {
        Err(format!(
            "cannot read the memory of pid {pid}: {}",
            std::io::Error::last_os_error()
        ))
    }
}

fn read_u64(pid: u32, addr: u64) -> Result<u64, String> {
    let mut b = [0u8; 8];
    read_remote(pid, addr, &mut b)?;
    Ok(u64::from_le_bytes(b))
}

/// A reader of one process's GIL.
#[derive(Debug)]
pub struct GilReader {
    pid: u32,
    runtime: u64,
    layout: Layout,
}

impl GilReader {
    /// Sets up reading the GIL of `pid` for a Python of `version`; the error says why not.
    pub fn open(pid: u32, version: (u32, u32)) -> Result<GilReader, String> {
        let runtime = runtime_address(pid)?;
        let layout = match table_layout(version) {
            Some(l) => l,
            None => {
                let mut head = [0u8; 256];
                read_remote(pid, runtime, &mut head)?;
                layout_from_debug_offsets(&head).ok_or_else(|| {
                    format!(
                        "no GIL layout for Python {}.{}: not in gilscope's table and no \
                         _Py_DebugOffsets (3.13+) in its memory",
                        version.0, version.1
                    )
                })?
            }
        };
        let r = GilReader {
            pid,
            runtime,
            layout,
        };
        r.read()?;
        Ok(r)
    }

    /// The addresses of the GIL's own lock words (its condition variables and mutexes): a
    /// futex wait on one of them is a wait for the GIL, on any other a wait for the program's
    /// own lock.
    pub fn lock_words(&self) -> Result<std::ops::Range<u64>, String> {
        let (base, holder) = match self.layout {
            Layout::Runtime { holder, .. } => (self.runtime, holder),
            Layout::Interpreter {
                interpreters_head,
                holder,
                ..
            } => (
                read_u64(self.pid, self.runtime + interpreters_head)?,
                holder,
            ),
        };
        // `interval` comes just before `last_holder`.
        let start = base + holder - 8;
        Ok(start..start + GIL_STATE_BYTES)
    }

    /// The GIL now.
    pub fn read(&self) -> Result<GilState, String> {
        let (gil_base, holder, locked, switch_number, ntid) = match self.layout {
            Layout::Runtime {
                holder,
                locked,
                switch_number,
                native_thread_id,
            } => (
                self.runtime,
                holder,
                locked,
                switch_number,
                native_thread_id,
            ),
            Layout::Interpreter {
                interpreters_head,
                holder,
                locked,
                switch_number,
                native_thread_id,
            } => (
                read_u64(self.pid, self.runtime + interpreters_head)?,
                holder,
                locked,
                switch_number,
                native_thread_id,
            ),
        };
        // last_holder is not cleared on release: read `locked` first.
        let is_locked = read_u64(self.pid, gil_base + locked)? as u32 != 0;
        let switches = read_u64(self.pid, gil_base + switch_number)?;
        let holder_tid = if is_locked {
            let tstate = read_u64(self.pid, gil_base + holder)?;
            (tstate != 0)
                .then(|| read_u64(self.pid, tstate + ntid).ok())
                .flatten()
                .map(|t| t as u32)
        } else {
            None
        };
        Ok(GilState {
            holder_tid,
            switch_number: switches,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_offsets_of_3_13_and_3_14_are_parsed() {
        // A synthetic _Py_DebugOffsets with the 3.14 free_threaded field.
        let mut head = vec![0u8; 256];
        head[..8].copy_from_slice(b"xdebugpy");
        let put = |h: &mut Vec<u8>, i: usize, v: u64| h[i..i + 8].copy_from_slice(&v.to_le_bytes());
        put(&mut head, 8, 0x030e00f0);
        put(&mut head, 16, 0); // free_threaded = 0
        put(&mut head, 24, 4096); // runtime_state.size
        put(&mut head, 24 + 16, 40); // interpreters_head
        let interp = 24 + 24;
        put(&mut head, interp + 88, 900); // _gil.locked
        put(&mut head, interp + 96, 888); // _gil.last_holder
        put(&mut head, interp + 104 + 48, 184); // thread_state.native_thread_id
        assert_eq!(
            layout_from_debug_offsets(&head),
            Some(Layout::Interpreter {
                interpreters_head: 40,
                holder: 888,
                locked: 900,
                switch_number: 908,
                native_thread_id: 184
            })
        );
        // 3.13: no free_threaded field, everything 8 bytes earlier.
        let mut old = vec![0u8; 256];
        old[..8].copy_from_slice(b"xdebugpy");
        old[16..248].copy_from_slice(&head[24..256]);
        let l = layout_from_debug_offsets(&old).unwrap();
        assert!(
            matches!(l, Layout::Interpreter { locked: 900, .. }),
            "{l:?}"
        );
        // 3.12 and older publish no cookie.
        assert_eq!(layout_from_debug_offsets(&[0u8; 256]), None);
        assert_eq!(table_layout((3, 11)), Some(LAYOUT_311));
        assert_eq!(table_layout((3, 12)), None);
    }

    #[test]
    fn reading_our_own_memory_works_and_a_bad_address_is_an_error() {
        let x: u64 = 0x1234_5678_9abc_def0;
        let v = read_u64(std::process::id(), std::ptr::addr_of!(x) as u64).unwrap();
        assert_eq!(v, x);
        assert!(read_u64(std::process::id(), 8).is_err());
    }
}
