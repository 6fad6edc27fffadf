//! Reads who holds a real CPython's GIL from the interpreter's memory, without stopping it:
//! `_PyRuntime`'s address from the binary's dynamic symbols and `/proc/PID/maps`, then a few
//! bytes with `process_vm_readv`. Per-version layouts: 3.8 to 3.12 by table (checked against
//! the process's own memory before anything is read as a holder), 3.13+ from the
//! `_Py_DebugOffsets` the interpreter publishes at the start of `_PyRuntime`.

use std::fs;

/// How a thread state names its OS thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ThreadId {
    /// `PyThreadState.native_thread_id` at this offset (3.11+).
    Native(u64),
    /// Only `PyThreadState.thread_id` at this offset: the `pthread_t`, a pointer to glibc's
    /// `struct pthread`, whose `tid` gives the OS thread (3.8 to 3.10).
    Pthread(u64),
}

/// Where the GIL's fields are, for one interpreter version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// The GIL sits in `_PyRuntime` itself (3.8 to 3.11): offsets from `_PyRuntime`.
    Runtime {
        /// `_PyRuntime.interpreters.head` (to check the layout against).
        interpreters_head: u64,
        /// `ceval.gil.last_holder`.
        holder: u64,
        /// `ceval.gil.locked`.
        locked: u64,
        /// `ceval.gil.switch_number`.
        switch_number: u64,
        /// The thread state's OS thread.
        thread: ThreadId,
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
        /// The thread state's OS thread.
        thread: ThreadId,
    },
}

/// The 3.11 layout (x86-64, from CPython 3.11's debug info).
pub const LAYOUT_311: Layout = Layout::Runtime {
    interpreters_head: 40,
    holder: 368,
    locked: 376,
    switch_number: 384,
    thread: ThreadId::Native(160),
};

/// `PyThreadState.interp`: the third pointer of every thread state from 3.8 to 3.15.
const TSTATE_INTERP: u64 = 16;

/// Where glibc keeps a thread's `tid` in its `struct pthread` (x86-64: after the 704-byte TCB
/// header and the 16-byte list node; the same in glibc 2.31, 2.36 and sid's, as read from
/// CPython 3.9, 3.11 and 3.15 here, and checked against this process by a unit test).
#[cfg(all(target_arch = "x86_64", target_env = "gnu"))]
pub const PTHREAD_TID_OFFSET: Option<u64> = Some(720);
/// Not known on this platform: 3.8 to 3.10 cannot be read here.
#[cfg(not(all(target_arch = "x86_64", target_env = "gnu")))]
pub const PTHREAD_TID_OFFSET: Option<u64> = None;

/// The layout for `(major, minor)` when it is known by table (x86-64, Linux). 3.8 to 3.10
/// keep the GIL in `_PyRuntime.ceval` (3.8 after the runtime's GC state and pending calls);
/// 3.12 moved it into the interpreter (`_gil`, 1040 bytes in). Every table layout is checked
/// against the process's memory before it is used ([`GilReader::open`]).
pub fn table_layout(version: (u32, u32)) -> Option<Layout> {
    let runtime = |head, gil: u64, thread| Layout::Runtime {
        interpreters_head: head,
        holder: gil + 8,
        locked: gil + 16,
        switch_number: gil + 24,
        thread,
    };
    match version {
        (3, 8) => Some(runtime(32, 1152, ThreadId::Pthread(176))),
        (3, 9) | (3, 10) => Some(runtime(32, 352, ThreadId::Pthread(176))),
        (3, 11) => Some(LAYOUT_311),
        (3, 12) => Some(Layout::Interpreter {
            interpreters_head: 40,
            holder: 1048,
            locked: 1056,
            switch_number: 1064,
            thread: ThreadId::Native(144),
        }),
        _ => None,
    }
}

/// Parses the `_Py_DebugOffsets` at the start of `_PyRuntime` (3.13+): the cookie, the
/// version, `free_threaded`, the runtime's offsets, then the interpreter's and the thread's.
/// The interpreter's list grew between versions (3.14 added `threads_main`, later versions
/// the code-object and TLBC generations), so its fields are found by what they must be, not by
/// position: `_gil`'s offset, `enabled`, then `locked` at `_gil + 16` and `last_holder` at
/// `_gil + 8` (the order of `_gil_runtime_state`); the thread's list starts with its size, then
/// `prev` 0, `next` 8, `interp` 16, and `native_thread_id` is its 7th field (10th from 3.15
/// on, after three more frame fields). `None` when the cookie is not there (3.12 and
/// older) or nothing fits.
pub fn layout_from_debug_offsets(head: &[u8]) -> Option<Layout> {
    if head.len() < 256 || &head[..8] != b"xdebugpy" {
        return None;
    }
    let u = |i: usize| -> Option<u64> {
        Some(u64::from_le_bytes(head.get(i..i + 8)?.try_into().ok()?))
    };
    // cookie, version, free_threaded; runtime_state {size, finalizing, interpreters_head}.
    let interpreters_head = u(DEBUG_RUNTIME + 16)?;
    let field = |k: usize| u(DEBUG_INTERP + 8 * k);
    let gil_at = debug_gil_field(head)?;
    let gil = field(gil_at)?;
    let thread = (gil_at + 4..gil_at + 12).find(|&k| {
        matches!(
            (field(k + 1), field(k + 2), field(k + 3)),
            (Some(0), Some(8), Some(16))
        )
    })?;
    // The thread's list: size, prev, next, interp, current_frame, then (3.15, as read from
    // 3.15.2's memory) three more frame fields, then thread_id and native_thread_id.
    let minor = (u(8)? >> 16) & 0xff;
    let native_thread_id = field(thread + if minor >= 15 { 9 } else { 6 })?;
    Some(Layout::Interpreter {
        interpreters_head,
        holder: gil + 8,
        locked: gil + 16,
        switch_number: gil + 24,
        thread: ThreadId::Native(native_thread_id),
    })
}

/// Where `_Py_DebugOffsets` keep the runtime's offsets and the interpreter's.
const DEBUG_RUNTIME: usize = 24;
const DEBUG_INTERP: usize = 48;

/// The index among the interpreter's debug offsets of `gil_runtime_state`: the first field `g`
/// followed by `enabled`, then `locked` at `g + 16` and `last_holder` at `g + 8`.
fn debug_gil_field(head: &[u8]) -> Option<usize> {
    if head.len() < 256 || &head[..8] != b"xdebugpy" {
        return None;
    }
    let field = |k: usize| -> Option<u64> {
        let i = DEBUG_INTERP + 8 * k;
        Some(u64::from_le_bytes(head.get(i..i + 8)?.try_into().ok()?))
    };
    (0..24).find(|&k| {
        let (Some(g), Some(locked), Some(holder)) = (field(k), field(k + 2), field(k + 3)) else {
            return false;
        };
        // Found by fuzzing: a `g` near the top of the address space overflowed here.
        g > 0 && g.checked_add(24).is_some() && locked == g + 16 && holder == g + 8
    })
}

/// `PyInterpreterState.imports.modules` (`sys.modules`) from `_Py_DebugOffsets` (3.13+): the
/// fourth field before `gil_runtime_state` (then `sysdict`, `builtins`, `ceval_gil`), in 3.13,
/// 3.14 and 3.15 alike.
pub fn modules_from_debug_offsets(head: &[u8]) -> Option<u64> {
    let k = debug_gil_field(head)?.checked_sub(4)?;
    let i = DEBUG_INTERP + 8 * k;
    Some(u64::from_le_bytes(head.get(i..i + 8)?.try_into().ok()?))
}

/// Where 3.15+ keep each thread's own view of the GIL: the interpreter's list of thread states
/// and, in each, `holds_gil` and `gil_requested` (ints), beside `native_thread_id`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ThreadFlags {
    /// `PyInterpreterState.threads.head`.
    pub threads_head: u64,
    /// `PyThreadState.next`.
    pub next: u64,
    /// `PyThreadState.native_thread_id`.
    pub native_thread_id: u64,
    /// `PyThreadState.holds_gil`.
    pub holds_gil: u64,
    /// `PyThreadState.gil_requested`: the thread is in `take_gil`.
    pub gil_requested: u64,
}

/// The per-thread GIL fields that `_Py_DebugOffsets` publish from 3.15 on (read from 3.15.2's
/// memory: after `native_thread_id` come `datastack_chunk`, `status`, `holds_gil`,
/// `gil_requested`); `None` before 3.15 or where they do not fit (two ints side by side, inside
/// the thread state).
pub fn thread_flags_from_debug_offsets(head: &[u8]) -> Option<ThreadFlags> {
    let layout = layout_from_debug_offsets(head)?;
    let u = |i: usize| -> Option<u64> {
        Some(u64::from_le_bytes(head.get(i..i + 8)?.try_into().ok()?))
    };
    if (u(8)? >> 16) & 0xff < 15 {
        return None;
    }
    let Layout::Interpreter {
        thread: ThreadId::Native(native_thread_id),
        ..
    } = layout
    else {
        return None;
    };
    let field = |k: usize| u(DEBUG_INTERP + 8 * k);
    // The thread list: the first run of size, 0, 8, 16 after the interpreter's fields.
    let thread = (4..40).find(|&k| {
        matches!(
            (field(k + 1), field(k + 2), field(k + 3)),
            (Some(0), Some(8), Some(16))
        )
    })?;
    let size = field(thread)?;
    let at = (thread + 4..thread + 14).find(|&k| field(k) == Some(native_thread_id))?;
    let (holds_gil, gil_requested) = (field(at + 3)?, field(at + 4)?);
    // Two ints side by side inside the thread state (checked: fuzzing found offsets near the
    // top of the address space that overflowed here).
    let fits = holds_gil.checked_add(4) == Some(gil_requested)
        && gil_requested.checked_add(4).is_some_and(|end| end <= size);
    fits.then_some(ThreadFlags {
        threads_head: field(3)?,
        next: 8,
        native_thread_id,
        holds_gil,
        gil_requested,
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

/// What the interpreter of process `pid` (its `_PyRuntime` at `runtime`) is, read without
/// running anything of it: the
/// version from `_Py_DebugOffsets` (3.13+) or else from the name of the file that holds
/// `_PyRuntime` (`libpython3.11.so.1.0`, `python3.11`), and whether it is free-threaded.
pub fn identify(pid: u32, runtime: u64) -> Result<(Vec<u32>, bool), String> {
    let mut head = [0u8; 32];
    read_remote(pid, runtime, &mut head)?;
    if &head[..8] == b"xdebugpy" {
        let hex = u64::from_le_bytes(head[8..16].try_into().unwrap_or_default());
        let version = vec![
            ((hex >> 24) & 0xff) as u32,
            ((hex >> 16) & 0xff) as u32,
            ((hex >> 8) & 0xff) as u32,
        ];
        let free = u64::from_le_bytes(head[16..24].try_into().unwrap_or_default()) == 1;
        return Ok((version, free));
    }
    let maps = fs::read_to_string(format!("/proc/{pid}/maps"))
        .map_err(|e| format!("cannot read /proc/{pid}/maps: {e}"))?;
    maps.lines()
        .filter_map(|l| l.split_whitespace().nth(5))
        .filter_map(|p| p.rsplit('/').next())
        .find_map(version_from_file_name)
        .ok_or_else(|| format!("cannot tell the Python version of pid {pid}"))
}

/// `(version, free-threaded)` from `python3.11`, `libpython3.13t.so.1.0` and the like.
pub fn version_from_file_name(name: &str) -> Option<(Vec<u32>, bool)> {
    let rest = name
        .strip_prefix("libpython")
        .or_else(|| name.strip_prefix("python"))?;
    let (major, rest) = rest.split_once('.')?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let free = rest[digits.len()..].starts_with('t');
    Some((vec![major.parse().ok()?, digits.parse().ok()?], free))
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
        // The kernel names the file as seen from gilscope's root; where that path does not
        // exist here (gilscope itself in another root), read it through the process's root.
        let file = if std::path::Path::new(path).exists() {
            path.clone()
        } else {
            format!("/proc/{pid}/root{path}")
        };
        if let Some(addr) = symbol_address(&file, "_PyRuntime", *base)? {
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

/// The address of the symbol `name` in the ELF file at `path`, loaded at `base`. Only the
/// parts of the file the lookup needs are read (a libpython is tens of megabytes).
fn symbol_address(path: &str, name: &str, base: u64) -> Result<Option<u64>, String> {
    use object::{Object, ObjectKind, ObjectSegment, ObjectSymbol};
    let data = fs::File::open(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    let cache = object::ReadCache::new(data);
    let file =
        object::File::parse(&cache).map_err(|e| format!("{path} is not an ELF file: {e}"))?;
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

/// How a read of a process that has ended (or is exiting: its memory already gone) fails.
const ENDED: &str = "has ended: it has no memory to read";

/// Whether a read's error says the process has ended (not that its memory is unreadable).
pub fn read_failed_as_ended(error: &str) -> bool {
    error.ends_with(ENDED)
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
        return Ok(());
    }
    let err = std::io::Error::last_os_error();
    // ESRCH: no such process, or one exiting whose memory is already torn down.
    if err.raw_os_error() == Some(libc::ESRCH) {
        return Err(format!("process {pid} {ENDED}"));
    }
    Err(format!("cannot read the memory of pid {pid}: {err}"))
}

fn read_u64(pid: u32, addr: u64) -> Result<u64, String> {
    let mut b = [0u8; 8];
    read_remote(pid, addr, &mut b)?;
    Ok(u64::from_le_bytes(b))
}

/// The thread states of an interpreter by OS thread, as last walked.
#[derive(Debug, Default)]
struct ThreadStates {
    by_tid: std::collections::HashMap<u32, u64>,
    /// When the list was last walked: a thread not in it (one that runs no Python, or not
    /// yet) sends it walked again at most every [`TSTATE_REWALK`].
    walked: Option<std::time::Instant>,
}

/// How often the thread-state list may be walked again for a thread not found in it.
const TSTATE_REWALK: std::time::Duration = std::time::Duration::from_millis(50);

/// A reader of one process's GIL.
#[derive(Debug)]
pub struct GilReader {
    pid: u32,
    runtime: u64,
    layout: Layout,
    /// Each thread's own view of the GIL, where the interpreter publishes it (3.15+).
    flags: Option<ThreadFlags>,
    /// Thread states by OS thread, for [`GilReader::thread_view`].
    tstates: std::cell::RefCell<ThreadStates>,
    /// `sys.modules`' offset in the interpreter, where `_Py_DebugOffsets` publish it.
    published_modules: Option<u64>,
}

impl GilReader {
    /// The same reader on the memory of another process (tests: memory that turns unreadable).
    #[cfg(test)]
    pub(crate) fn on_pid(mut self, pid: u32) -> GilReader {
        self.pid = pid;
        self
    }

    /// Sets up reading the GIL of `pid` for a Python of `version`; the error says why not.
    /// A table layout must fit the process's memory first ([`GilReader::check`]): a version
    /// whose layout does not fit is refused, never guessed.
    pub fn open(pid: u32, version: (u32, u32)) -> Result<GilReader, String> {
        let runtime = runtime_address(pid)?;
        let mut flags = None;
        let mut published_modules = None;
        let (layout, by_table) = match table_layout(version) {
            Some(l) => (l, true),
            None => {
                let mut head = [0u8; 512];
                read_remote(pid, runtime, &mut head)?;
                flags = thread_flags_from_debug_offsets(&head);
                published_modules = modules_from_debug_offsets(&head);
                let l = layout_from_debug_offsets(&head).ok_or_else(|| {
                    format!(
                        "no GIL layout for Python {}.{}: not in gilscope's table and no \
                         _Py_DebugOffsets (3.13+) in its memory",
                        version.0, version.1
                    )
                })?;
                (l, false)
            }
        };
        let r = GilReader {
            pid,
            runtime,
            layout,
            flags,
            tstates: Default::default(),
            published_modules,
        };
        if by_table {
            r.check().map_err(|why| {
                format!(
                    "gilscope's GIL layout for Python {}.{} does not fit this interpreter's \
                     memory ({why}); the holder is not read rather than guessed",
                    version.0, version.1
                )
            })?;
        }
        r.read()?;
        Ok(r)
    }

    /// Whether the layout fits what the process holds: an interpreter at
    /// `interpreters.head`; a switch interval of 1 µs to 100 s just before `last_holder`;
    /// `locked` 0 or 1; and a holder (if any) whose thread state points back at that
    /// interpreter and names one of the process's threads.
    pub fn check(&self) -> Result<(), String> {
        let interp = self.interp()?;
        if interp == 0 {
            return Err("no interpreter at interpreters.head".to_owned());
        }
        let (gil_base, [holder, locked, _]) = (self.gil_base()?, self.fields());
        let interval = read_u64(self.pid, gil_base + holder - 8)?;
        if !(1..=100_000_000).contains(&interval) {
            return Err(format!("a switch interval of {interval} µs"));
        }
        let is_locked = read_u64(self.pid, gil_base + locked)? as u32;
        if is_locked > 1 {
            return Err(format!("locked = {is_locked}"));
        }
        let tstate = read_u64(self.pid, gil_base + holder)?;
        if tstate != 0 {
            if read_u64(self.pid, tstate + TSTATE_INTERP)? != interp {
                return Err("the last holder's thread state is not the interpreter's".to_owned());
            }
            let tid = self.thread_of(tstate)?;
            if !std::path::Path::new(&format!("/proc/{}/task/{tid}", self.pid)).exists() {
                return Err(format!(
                    "the last holder names thread {tid}, not one of its own"
                ));
            }
        }
        Ok(())
    }

    /// A reader of the Python names of this interpreter's threads, for a Python `3.minor`
    /// whose object layout gilscope knows.
    pub fn thread_names(&self, minor: u32) -> Option<super::thread_names::ThreadNames> {
        let layout = super::thread_names::ObjectLayout::for_version(minor, self.published_modules)?;
        Some(super::thread_names::ThreadNames::new(
            layout,
            self.interp().ok()?,
        ))
    }

    /// `last_holder`, `locked` and `switch_number`: offsets from [`GilReader::gil_base`].
    fn fields(&self) -> [u64; 3] {
        match self.layout {
            Layout::Runtime {
                holder,
                locked,
                switch_number,
                ..
            }
            | Layout::Interpreter {
                holder,
                locked,
                switch_number,
                ..
            } => [holder, locked, switch_number],
        }
    }

    /// The main interpreter (`_PyRuntime.interpreters.head`).
    fn interp(&self) -> Result<u64, String> {
        let (Layout::Runtime {
            interpreters_head, ..
        }
        | Layout::Interpreter {
            interpreters_head, ..
        }) = self.layout;
        read_u64(self.pid, self.runtime + interpreters_head)
    }

    /// What the GIL's offsets count from: `_PyRuntime` up to 3.11, the main interpreter from
    /// 3.12 on.
    fn gil_base(&self) -> Result<u64, String> {
        match self.layout {
            Layout::Runtime { .. } => Ok(self.runtime),
            Layout::Interpreter { .. } => self.interp(),
        }
    }

    /// Whether thread `tid` holds the GIL and whether it asked for it (is in `take_gil`), as
    /// its own thread state says (3.15+); `None` where that is not published or not found.
    pub fn thread_view(&self, tid: u32) -> Option<(bool, bool)> {
        let f = self.flags?;
        let known = self.tstates.borrow().by_tid.get(&tid).copied();
        let tstate = match known {
            Some(t) => t,
            None => {
                let stale = self
                    .tstates
                    .borrow()
                    .walked
                    .is_none_or(|at| at.elapsed() >= TSTATE_REWALK);
                if !stale {
                    return None;
                }
                self.find_tstates(&f).ok()?;
                self.tstates.borrow().by_tid.get(&tid).copied()?
            }
        };
        let mut b = [0u8; 8];
        let lo = f.holds_gil.min(f.gil_requested);
        read_remote(self.pid, tstate + lo, &mut b).ok()?;
        let int_at = |off: u64| {
            let i = (off - lo) as usize;
            i32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]) != 0
        };
        Some((int_at(f.holds_gil), int_at(f.gil_requested)))
    }

    /// Walks the main interpreter's thread states and notes each one's OS thread.
    fn find_tstates(&self, f: &ThreadFlags) -> Result<(), String> {
        if !matches!(self.layout, Layout::Interpreter { .. }) {
            return Ok(());
        }
        let interp = self.interp()?;
        let mut map = std::collections::HashMap::new();
        let mut t = read_u64(self.pid, interp + f.threads_head)?;
        // A list that does not end is not followed past a generous bound.
        for _ in 0..100_000 {
            if t == 0 {
                break;
            }
            map.insert(read_u64(self.pid, t + f.native_thread_id)? as u32, t);
            t = read_u64(self.pid, t + f.next)?;
        }
        *self.tstates.borrow_mut() = ThreadStates {
            by_tid: map,
            walked: Some(std::time::Instant::now()),
        };
        Ok(())
    }

    /// The OS thread of the thread state at `tstate`.
    fn thread_of(&self, tstate: u64) -> Result<u32, String> {
        let thread = match self.layout {
            Layout::Runtime { thread, .. } | Layout::Interpreter { thread, .. } => thread,
        };
        match thread {
            ThreadId::Native(off) => Ok(read_u64(self.pid, tstate + off)? as u32),
            ThreadId::Pthread(off) => {
                let tid_at = PTHREAD_TID_OFFSET.ok_or_else(|| {
                    "a thread's OS id (pthread_t) cannot be read on this platform".to_owned()
                })?;
                let pthread = read_u64(self.pid, tstate + off)?;
                let mut b = [0u8; 4];
                read_remote(self.pid, pthread + tid_at, &mut b)?;
                Ok(u32::from_le_bytes(b))
            }
        }
    }

    /// The addresses of the GIL's own lock words (its condition variables and mutexes): a
    /// futex wait on one of them is a wait for the GIL, on any other a wait for the program's
    /// own lock.
    pub fn lock_words(&self) -> Result<std::ops::Range<u64>, String> {
        let (base, [holder, ..]) = (self.gil_base()?, self.fields());
        // `interval` comes just before `last_holder`.
        let start = base + holder - 8;
        Ok(start..start + GIL_STATE_BYTES)
    }

    /// The GIL now: `last_holder`, `locked` and `switch_number` in one read (a copy of
    /// nanoseconds, rather than a system call each between which the GIL could change hands).
    pub fn read(&self) -> Result<GilState, String> {
        let (gil_base, fields) = (self.gil_base()?, self.fields());
        let (lo, hi) = (
            fields.iter().min().copied().unwrap_or(0),
            fields.iter().max().copied().unwrap_or(0) + 8,
        );
        // They lie side by side in every `_gil_runtime_state` (24 bytes).
        let mut buf = [0u8; 64];
        let b = buf.get_mut(..(hi - lo) as usize).ok_or_else(|| {
            "the GIL's last_holder, locked and switch_number are not side by side".to_owned()
        })?;
        read_remote(self.pid, gil_base + lo, b)?;
        let word = |off: u64| {
            let i = (off - lo) as usize;
            u64::from_le_bytes(b[i..i + 8].try_into().unwrap_or_default())
        };
        let [holder, locked, switch_number] = fields;
        let (is_locked, switches, tstate) =
            (word(locked) as u32 != 0, word(switch_number), word(holder));
        let holder_tid = (is_locked && tstate != 0)
            .then(|| self.thread_of(tstate).ok())
            .flatten();
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
    fn versions_are_read_from_file_names() {
        assert_eq!(
            version_from_file_name("python3.11"),
            Some((vec![3, 11], false))
        );
        assert_eq!(
            version_from_file_name("libpython3.14.so.1.0"),
            Some((vec![3, 14], false))
        );
        assert_eq!(
            version_from_file_name("libpython3.13t.so.1.0"),
            Some((vec![3, 13], true))
        );
        assert_eq!(version_from_file_name("bash"), None);
    }

    /// A synthetic `_Py_DebugOffsets` as each version lays it out: `extra` interpreter
    /// fields before `gc` (3.14's `threads_main`) and `after` fields after the GIL's (the
    /// code-object and TLBC generations).
    fn debug_head(extra: usize, after: usize) -> Vec<u8> {
        let mut v: Vec<u64> = vec![0; 32];
        v[1] = 0x030e_0af0; // version 3.14
        v[2] = 0; // free_threaded
        v[3] = 4096; // runtime_state.size
        v[4] = 8; // finalizing
        v[5] = 40; // interpreters_head
        // interpreter_state: size, id, next, threads_head, [threads_main], gc, imports_modules,
        // sysdict, builtins, ceval_gil, gil_runtime_state, enabled, locked, holder, [...]
        let mut interp = vec![90_000, 8, 16, 24];
        interp.extend(std::iter::repeat_n(32, extra));
        interp.extend([64, 72, 80, 88, 96, 5000, 0, 5016, 5008]);
        interp.extend(std::iter::repeat_n(7000, after));
        // thread_state: size, prev, next, interp, current_frame, thread_id, native_thread_id
        let thread = [400, 0, 8, 16, 72, 152, 160];
        for (i, f) in (6..).zip(interp.iter().chain(&thread)) {
            v[i] = *f;
        }
        let mut head = vec![0u8; 256];
        head[..8].copy_from_slice(b"xdebugpy");
        for (k, x) in v.iter().enumerate().skip(1) {
            head[k * 8..k * 8 + 8].copy_from_slice(&x.to_le_bytes());
        }
        head
    }

    #[test]
    fn a_gil_offset_at_the_top_of_the_address_space_fits_nothing() {
        // Found by fuzzing (fuzz/corpus/memory): `g + 16` overflowed.
        let mut head = vec![0u8; 256];
        head[..8].copy_from_slice(b"xdebugpy");
        let g = u64::MAX - 3;
        for (k, x) in [g, 0, g.wrapping_add(16), g.wrapping_add(8)]
            .iter()
            .enumerate()
        {
            let i = DEBUG_INTERP + 8 * k;
            head[i..i + 8].copy_from_slice(&x.to_le_bytes());
        }
        assert_eq!(debug_gil_field(&head), None);
        assert_eq!(layout_from_debug_offsets(&head), None);
    }

    #[test]
    fn the_inputs_fuzzing_crashed_the_parsers_with_end_in_none() {
        // fuzz/regressions/memory: the memory target's input is a selector byte, then the head.
        for input in [
            &include_bytes!("../../../../../fuzz/regressions/memory/gil-offset-overflow")[..],
            &include_bytes!("../../../../../fuzz/regressions/memory/gil-requested-overflow")[..],
        ] {
            let head = &input[1..];
            let _ = layout_from_debug_offsets(head);
            let _ = modules_from_debug_offsets(head);
            assert_eq!(thread_flags_from_debug_offsets(head), None);
        }
    }

    #[test]
    fn debug_offsets_of_3_13_to_3_15_are_parsed() {
        let want = Some(Layout::Interpreter {
            interpreters_head: 40,
            holder: 5008,
            locked: 5016,
            switch_number: 5024,
            thread: ThreadId::Native(160),
        });
        // 3.13, 3.14 (threads_main), 3.15 (threads_main and two generations after the GIL).
        assert_eq!(layout_from_debug_offsets(&debug_head(0, 0)), want);
        assert_eq!(layout_from_debug_offsets(&debug_head(1, 0)), want);
        assert_eq!(layout_from_debug_offsets(&debug_head(1, 2)), want);
        // 3.15.2 as read from its memory: three more fields before thread_id.
        let mut h315 = debug_head(1, 2);
        h315[8..16].copy_from_slice(&0x030f_02f0u64.to_le_bytes());
        let thread_at = 8 * (6 + 4 + 1 + 9 + 2);
        for (k, x) in [888u64, 0, 8, 16, 72, 80, 88, 96, 176, 184]
            .iter()
            .enumerate()
        {
            h315[thread_at + 8 * k..thread_at + 8 * k + 8].copy_from_slice(&x.to_le_bytes());
        }
        assert!(matches!(
            layout_from_debug_offsets(&h315),
            Some(Layout::Interpreter {
                thread: ThreadId::Native(184),
                locked: 5016,
                ..
            })
        ));
        // 3.12 and older publish no cookie; a head where nothing fits is no layout.
        assert_eq!(layout_from_debug_offsets(&[0u8; 256]), None);
        let mut broken = debug_head(1, 2);
        broken[200..256].fill(0xff);
        broken[48..200].fill(0);
        broken[..8].copy_from_slice(b"xdebugpy");
        assert_eq!(layout_from_debug_offsets(&broken), None);
        assert_eq!(table_layout((3, 11)), Some(LAYOUT_311));
        assert!(matches!(
            table_layout((3, 12)),
            Some(Layout::Interpreter { locked: 1056, .. })
        ));
        for minor in [8, 9, 10] {
            assert!(matches!(
                table_layout((3, minor)),
                Some(Layout::Runtime {
                    thread: ThreadId::Pthread(176),
                    ..
                })
            ));
        }
        assert_eq!(table_layout((3, 7)), None);
        assert_eq!(table_layout((3, 13)), None);
    }

    /// The OS thread id of the calling thread.
    fn gettid() -> u32 {
        // SAFETY: gettid has no arguments and cannot fail.
        unsafe { libc::gettid() as u32 }
    }

    #[cfg(all(target_arch = "x86_64", target_env = "gnu"))]
    #[test]
    fn glibcs_pthread_holds_the_threads_tid_where_the_table_says() {
        // What CPython 3.8-3.10 store as thread_id is pthread_self(): check the offset on this
        // process's own threads, the main test thread and a fresh one.
        let at = PTHREAD_TID_OFFSET.unwrap();
        let read_tid = move || {
            // SAFETY: pthread_self is always valid for the calling thread.
            let me = unsafe { libc::pthread_self() } as u64;
            let mut b = [0u8; 4];
            read_remote(std::process::id(), me + at, &mut b).unwrap();
            (u32::from_le_bytes(b), gettid())
        };
        let (seen, want) = read_tid();
        assert_eq!(seen, want);
        let (seen, want) = std::thread::spawn(read_tid).join().unwrap();
        assert_eq!(seen, want);
    }

    /// A `_PyRuntime` of `words` u64s in this process, with an interpreter and a thread state.
    struct FakeRuntime {
        runtime: Vec<u64>,
        interp: Vec<u64>,
        tstate: Vec<u64>,
    }

    impl FakeRuntime {
        fn reader(&self, layout: Layout) -> GilReader {
            GilReader {
                pid: std::process::id(),
                runtime: self.runtime.as_ptr() as u64,
                layout,
                flags: None,
                tstates: Default::default(),
                published_modules: None,
            }
        }
    }

    #[test]
    fn a_table_layout_is_used_only_when_it_fits_the_memory() {
        // 3.11's layout on synthetic memory: head at 40, the GIL from 360 (interval), holder
        // 368, locked 376, switch_number 384; the thread state's interp at 16 and
        // native_thread_id at 160 (this very thread, so it is one of the process's tasks).
        let mut f = FakeRuntime {
            runtime: vec![0; 64],
            interp: vec![0; 8],
            tstate: vec![0; 32],
        };
        let interp = f.interp.as_ptr() as u64;
        f.tstate[2] = interp;
        f.tstate[20] = u64::from(gettid());
        f.runtime[5] = interp;
        f.runtime[45] = 5000; // interval, µs
        f.runtime[46] = f.tstate.as_ptr() as u64;
        f.runtime[47] = 1; // locked
        f.runtime[48] = 77; // switch_number
        let r = f.reader(LAYOUT_311);
        assert_eq!(r.check(), Ok(()));
        let st = r.read().unwrap();
        assert_eq!(st.holder_tid, Some(gettid()));
        assert_eq!(st.switch_number, 77);
        // Each thing that would make it a guess is refused.
        f.runtime[47] = 7;
        assert!(f.reader(LAYOUT_311).check().unwrap_err().contains("locked"));
        f.runtime[47] = 1;
        f.runtime[45] = 0;
        assert!(
            f.reader(LAYOUT_311)
                .check()
                .unwrap_err()
                .contains("interval")
        );
        f.runtime[45] = 5000;
        f.tstate[2] = interp + 8;
        assert!(f.reader(LAYOUT_311).check().is_err());
        f.tstate[2] = interp;
        f.tstate[20] = u64::from(u32::MAX - 1);
        assert!(
            f.reader(LAYOUT_311)
                .check()
                .unwrap_err()
                .contains("not one of its own")
        );
        f.tstate[20] = u64::from(gettid());
        f.runtime[5] = 0;
        assert!(f.reader(LAYOUT_311).check().is_err());
        // A wrong layout for the same memory (3.9's offsets) does not fit either.
        f.runtime[5] = interp;
        assert!(f.reader(table_layout((3, 9)).unwrap()).check().is_err());
    }

    /// The first 60 words of `_PyRuntime` in Debian's CPython 3.15.2, as read from its memory.
    const HEAD_3_15_2: [u64; 60] = [
        8750607829840520312,
        51315440,
        0,
        346568,
        912,
        936,
        226240,
        7272,
        7264,
        7336,
        7352,
        7400,
        7592,
        7576,
        7584,
        16,
        7736,
        0,
        7752,
        7744,
        7944,
        0,
        888,
        0,
        8,
        16,
        72,
        80,
        88,
        96,
        176,
        184,
        256,
        32,
        36,
        40,
        136,
        288,
        0,
        88,
        8,
        0,
        56,
        80,
        74,
        64,
        0,
        216,
        112,
        120,
        128,
        136,
        68,
        52,
        96,
        104,
        208,
        0,
        16,
        8,
    ];

    #[test]
    fn a_real_3_15_head_gives_the_gil_and_each_threads_own_view_of_it() {
        let head: Vec<u8> = HEAD_3_15_2.iter().flat_map(|w| w.to_le_bytes()).collect();
        assert_eq!(
            layout_from_debug_offsets(&head),
            Some(Layout::Interpreter {
                interpreters_head: 936,
                holder: 7744,
                locked: 7752,
                switch_number: 7760,
                thread: ThreadId::Native(184),
            })
        );
        assert_eq!(
            thread_flags_from_debug_offsets(&head),
            Some(ThreadFlags {
                threads_head: 7336,
                next: 8,
                native_thread_id: 184,
                holds_gil: 36,
                gil_requested: 40,
            })
        );
        // 3.13 and 3.14 publish no per-thread view.
        let mut h314 = head.clone();
        h314[8..16].copy_from_slice(&0x030e_0af0u64.to_le_bytes());
        assert_eq!(thread_flags_from_debug_offsets(&h314), None);
        assert_eq!(thread_flags_from_debug_offsets(&debug_head(1, 2)), None);
    }

    #[test]
    fn reading_our_own_memory_works_and_a_bad_address_is_an_error() {
        let x: u64 = 0x1234_5678_9abc_def0;
        let v = read_u64(std::process::id(), std::ptr::addr_of!(x) as u64).unwrap();
        assert_eq!(v, x);
        let bad = read_u64(std::process::id(), 8).unwrap_err();
        assert!(!read_failed_as_ended(&bad), "{bad}");
        // A process that has ended (reaped: no such process) is told apart from bad memory.
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        let gone = read_u64(pid, 4096).unwrap_err();
        assert!(read_failed_as_ended(&gone), "{gone}");
    }
}
