//! Reads the Python names of a running CPython's threads from its memory, for a process gilscope
//! did not start (and so could not name by its start-up hook): `sys.modules['threading']
//! ._active`, and in each `Thread` its `_name` and `_native_id`. Every object on the way is
//! checked by its type's name (`dict`, `module`, `str`, `int`) before it is read as one: a
//! layout that does not fit gives no names, never wrong ones. Object layouts of CPython 3.8 to
//! 3.15 on x86-64 (default build; a free-threaded build's objects are not read).

use std::collections::HashMap;

/// Where bytes of the observed process are read from (the process itself, or a test's bytes).
pub trait Memory {
    /// Fills `buf` from `addr`, or says why not.
    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), String>;
}

/// The memory of a live process, read with `process_vm_readv`.
#[derive(Clone, Copy, Debug)]
pub struct Process(pub u32);

impl Memory for Process {
    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), String> {
        super::gil_reader::read_remote(self.0, addr, buf)
    }
}

/// `PyTypeObject.tp_name`, `tp_basicsize`, `tp_flags` and `tp_dictoffset` (3.8 to 3.15).
const TP_NAME: u64 = 24;
const TP_BASICSIZE: u64 = 32;
const TP_FLAGS: u64 = 168;
const TP_DICTOFFSET: u64 = 288;
/// `PyDictObject.ma_keys` and `ma_values`; `PyModuleObject.md_dict`.
const MA_KEYS: u64 = 32;
const MA_VALUES: u64 = 40;
const MD_DICT: u64 = 16;
/// `Py_TPFLAGS_INLINE_VALUES` (3.13+) and `Py_TPFLAGS_MANAGED_DICT` (3.11+).
const INLINE_VALUES: u64 = 1 << 2;
const MANAGED_DICT: u64 = 1 << 4;
/// A managed dict sits three words before its object (3.11+, default build).
const MANAGED_DICT_AT: u64 = 24;
/// Bounds on what is read, against a misread size.
const MAX_ENTRIES: u64 = 1 << 16;
const MAX_STR_BYTES: u64 = 4096;

/// Where one CPython version keeps what the names are read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ObjectLayout {
    /// `(3, minor)`.
    pub minor: u32,
    /// `PyInterpreterState.modules` (3.8 to 3.11) or `.imports.modules` (3.12+).
    pub modules: u64,
    /// `PyHeapTypeObject.ht_cached_keys`, the keys an instance's values are stored under.
    pub cached_keys: u64,
}

impl ObjectLayout {
    /// The layout of `3.minor` by table (from CPython's headers, as py-spy's bindings give
    /// them, and 3.15.2's memory), with `modules` from `_Py_DebugOffsets` where the interpreter
    /// publishes it (3.13+); `None` for a version not known.
    pub fn for_version(minor: u32, published_modules: Option<u64>) -> Option<ObjectLayout> {
        let (modules, cached_keys) = match minor {
            8 => (56, 0),
            9 | 10 => (856, 0),
            11 => (888, 872),
            12 => (944, 880),
            13 | 14 => (published_modules?, 880),
            // 3.15 put a field before it (read from 3.15.2's memory: the qualname at 880).
            15 => (published_modules?, 888),
            _ => return None,
        };
        Some(ObjectLayout {
            minor,
            modules,
            cached_keys,
        })
    }

    /// `sizeof(PyASCIIObject)`: an ASCII string's characters follow it.
    fn ascii_size(&self) -> u64 {
        if self.minor >= 12 { 40 } else { 48 }
    }

    /// `sizeof(PyCompactUnicodeObject)`: a non-ASCII string's characters follow it.
    fn compact_size(&self) -> u64 {
        if self.minor >= 12 { 56 } else { 72 }
    }

    /// Bytes before `values[]` in a `PyDictValues` (its capacity and flags from 3.13 on).
    fn values_header(&self) -> u64 {
        if self.minor >= 13 { 8 } else { 0 }
    }
}

/// A reader of one process's objects, with the type names it has checked.
struct Objects<'m, M: Memory> {
    mem: &'m M,
    layout: ObjectLayout,
    type_names: &'m mut HashMap<u64, String>,
}

/// Where an object's attributes are: its own dict, or values stored under its type's keys.
enum Attrs {
    Dict(u64),
    Values { keys: u64, values: u64 },
}

impl<M: Memory> Objects<'_, M> {
    /// The word at `base + off` (addresses wrap: a misread pointer fails its read, never
    /// the arithmetic).
    fn u64_at(&self, base: u64, off: u64) -> Result<u64, String> {
        let mut b = [0u8; 8];
        self.mem.read(base.wrapping_add(off), &mut b)?;
        Ok(u64::from_le_bytes(b))
    }

    /// The byte at `base + off`.
    fn u8_at(&self, base: u64, off: u64) -> Result<u8, String> {
        let mut b = [0u8; 1];
        self.mem.read(base.wrapping_add(off), &mut b)?;
        Ok(b[0])
    }

    /// The name of `obj`'s type (`tp_name`, up to 32 bytes), remembered per type.
    fn type_name(&mut self, obj: u64) -> Result<String, String> {
        if obj == 0 {
            return Err("a NULL object".to_owned());
        }
        let ty = self.u64_at(obj, 8)?;
        self.name_of_type(ty)
    }

    /// The name of the type at `ty`.
    fn name_of_type(&mut self, ty: u64) -> Result<String, String> {
        if let Some(name) = self.type_names.get(&ty) {
            return Ok(name.clone());
        }
        let name_at = self.u64_at(ty, TP_NAME)?;
        // Not past the end of its page, which may be the last one mapped.
        let room = (4096 - name_at % 4096).min(32) as usize;
        let mut b = [0u8; 32];
        self.mem.read(name_at, &mut b[..room])?;
        let end = b[..room].iter().position(|&c| c == 0).unwrap_or(room);
        let name = String::from_utf8_lossy(&b[..end]).into_owned();
        self.type_names.insert(ty, name.clone());
        Ok(name)
    }

    /// Fails unless `obj` is of the type named `want`.
    fn expect(&mut self, obj: u64, want: &str) -> Result<(), String> {
        let got = self.type_name(obj)?;
        if got == want {
            Ok(())
        } else {
            Err(format!("expected a {want} at {obj:#x}, found a {got}"))
        }
    }

    /// The text of the `str` at `obj` (two reads: its head, then its characters).
    fn string(&mut self, obj: u64) -> Result<String, String> {
        if obj == 0 {
            return Err("a NULL object".to_owned());
        }
        // ob_refcnt, ob_type, length, hash, state.
        let mut head = [0u8; 36];
        self.mem.read(obj, &mut head)?;
        let word = |i: usize| u64::from_le_bytes(head[i..i + 8].try_into().unwrap_or_default());
        let (ty, len) = (word(8), word(16));
        let got = self.name_of_type(ty)?;
        if got != "str" {
            return Err(format!("expected a str at {obj:#x}, found a {got}"));
        }
        let state = u32::from_le_bytes([head[32], head[33], head[34], head[35]]);
        let (kind, compact, ascii) = (
            (state >> 2) & 7,
            (state >> 5) & 1 == 1,
            (state >> 6) & 1 == 1,
        );
        if !compact || !matches!(kind, 1 | 2 | 4) || len > MAX_STR_BYTES / kind as u64 {
            return Err(format!("a str of kind {kind}, length {len}, not read"));
        }
        let data = obj.wrapping_add(if ascii {
            self.layout.ascii_size()
        } else {
            self.layout.compact_size()
        });
        let mut b = vec![0u8; (len * kind as u64) as usize];
        self.mem.read(data, &mut b)?;
        Ok(match kind {
            1 => b.iter().map(|&c| c as char).collect(),
            2 => char::decode_utf16(b.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])))
                .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
                .collect(),
            _ => b
                .chunks_exact(4)
                .map(|c| {
                    char::from_u32(u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                        .unwrap_or(char::REPLACEMENT_CHARACTER)
                })
                .collect(),
        })
    }

    /// The value of the `int` at `obj`, if it fits in 64 bits.
    fn int(&mut self, obj: u64) -> Result<i64, String> {
        self.expect(obj, "int")?;
        let head = self.u64_at(obj, 16)?;
        let (ndigits, negative) = if self.layout.minor >= 12 {
            // `lv_tag`: the digit count above 3 bits of sign (0 positive, 1 zero, 2 negative).
            (head >> 3, head & 3 == 2)
        } else {
            let size = head as i64;
            (size.unsigned_abs(), size < 0)
        };
        if ndigits > 2 {
            return Err(format!("an int of {ndigits} digits"));
        }
        let mut b = [0u8; 8];
        self.mem
            .read(obj.wrapping_add(24), &mut b[..(ndigits * 4) as usize])?;
        let digit = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]) as i64;
        let value = (0..ndigits as usize).fold(0i64, |v, i| v | (digit(4 * i) << (30 * i)));
        Ok(if negative { -value } else { value })
    }

    /// The `(key, value)` of each entry of the dict keys object at `keys`, in order (the value
    /// is 0 in a split table, whose values are kept apart).
    fn entries(&self, keys: u64) -> Result<Vec<(u64, u64)>, String> {
        let (nentries, first, entry_size, key_at, value_at) = if self.layout.minor >= 11 {
            // dk_refcnt, dk_log2_size, dk_log2_index_bytes, dk_kind, dk_version, dk_usable,
            // dk_nentries, then dk_indices.
            let log2_index_bytes = self.u8_at(keys, 9)?;
            let kind = self.u8_at(keys, 10)?;
            if log2_index_bytes > 32 || kind > 2 {
                return Err("not a dict's keys".to_owned());
            }
            let first = keys.wrapping_add(32 + (1u64 << log2_index_bytes));
            // A table of any keys keeps {hash, key, value}; one of str keys {key, value}.
            let (size, key_at, value_at) = if kind == 0 { (24, 8, 16) } else { (16, 0, 8) };
            (self.u64_at(keys, 24)?, first, size, key_at, value_at)
        } else {
            // dk_refcnt, dk_size, dk_lookup, dk_usable, dk_nentries, then dk_indices.
            let size = self.u64_at(keys, 8)?;
            if size > MAX_ENTRIES * 2 {
                return Err("not a dict's keys".to_owned());
            }
            let index_bytes = match size {
                0..=0xff => 1,
                0x100..=0xffff => 2,
                _ => 4,
            };
            (
                self.u64_at(keys, 32)?,
                keys.wrapping_add(40 + size * index_bytes),
                24,
                8,
                16,
            )
        };
        if nentries > MAX_ENTRIES {
            return Err(format!("a dict of {nentries} entries, not read"));
        }
        let mut table = vec![0u8; (nentries * entry_size) as usize];
        self.mem.read(first, &mut table)?;
        let word = |i: usize| u64::from_le_bytes(table[i..i + 8].try_into().unwrap_or_default());
        Ok((0..nentries as usize)
            .map(|i| {
                let e = i * entry_size as usize;
                (word(e + key_at as usize), word(e + value_at as usize))
            })
            .collect())
    }

    /// The values of the entries keyed by each of `names`, in the attributes `attrs`.
    fn lookup(&mut self, attrs: Attrs, names: &[&str]) -> Result<Vec<Option<u64>>, String> {
        let (keys, values) = match attrs {
            Attrs::Dict(dict) => {
                self.expect(dict, "dict")?;
                let values = self.u64_at(dict, MA_VALUES)?;
                let values =
                    (values != 0).then(|| values.wrapping_add(self.layout.values_header()));
                (self.u64_at(dict, MA_KEYS)?, values)
            }
            Attrs::Values { keys, values } => {
                // An instance's values are kept under split keys (`DICT_KEYS_SPLIT`).
                if self.u8_at(keys, 10)? != 2 {
                    return Err("the type's cached keys are not split keys".to_owned());
                }
                (keys, Some(values))
            }
        };
        let mut found = vec![None; names.len()];
        for (i, (key, value)) in self.entries(keys)?.into_iter().enumerate() {
            if key == 0 {
                continue;
            }
            // Keys of another type (an int, in `_active`) are not what is looked for.
            let Ok(text) = self.string(key) else {
                continue;
            };
            if let Some(k) = names.iter().position(|n| *n == text) {
                let value = match values {
                    Some(v) => self.u64_at(v, 8 * i as u64)?,
                    None => value,
                };
                found[k] = (value != 0).then_some(value);
            }
        }
        Ok(found)
    }

    /// Where the attributes of the instance `obj` are (its type's dict offset, or its managed
    /// dict or values).
    fn attrs_of(&mut self, obj: u64) -> Result<Attrs, String> {
        let ty = self.u64_at(obj, 8)?;
        let flags = self.u64_at(ty, TP_FLAGS)?;
        if self.layout.minor >= 11 && flags & MANAGED_DICT != 0 {
            let word = self.u64_at(obj, MANAGED_DICT_AT.wrapping_neg())?;
            let keys = || self.u64_at(ty, self.layout.cached_keys);
            return match self.layout.minor {
                11 if word != 0 => Ok(Attrs::Dict(word)),
                11 => Ok(Attrs::Values {
                    keys: keys()?,
                    values: self.u64_at(obj, (MANAGED_DICT_AT + 8).wrapping_neg())?,
                }),
                // 3.12 tags values as their address less one.
                12 if word & 1 == 1 => Ok(Attrs::Values {
                    keys: keys()?,
                    values: word.wrapping_add(1),
                }),
                12 => Ok(Attrs::Dict(word)),
                _ if word != 0 => Ok(Attrs::Dict(word)),
                _ if flags & INLINE_VALUES != 0 => Ok(Attrs::Values {
                    keys: keys()?,
                    values: obj
                        .wrapping_add(self.u64_at(ty, TP_BASICSIZE)?)
                        .wrapping_add(self.layout.values_header()),
                }),
                _ => Err("an instance with neither a dict nor values".to_owned()),
            };
        }
        let offset = self.u64_at(ty, TP_DICTOFFSET)? as i64;
        if offset <= 0 {
            return Err(format!("an instance with dict offset {offset}"));
        }
        Ok(Attrs::Dict(self.u64_at(obj, offset as u64)?))
    }
}

/// Reads the thread names of one interpreter again and again, remembering where
/// `threading._active` is once found (it is never rebound) and the types it has checked.
#[derive(Debug)]
pub struct ThreadNames {
    layout: ObjectLayout,
    interp: u64,
    active: Option<u64>,
    type_names: HashMap<u64, String>,
}

impl ThreadNames {
    /// A reader of the interpreter at `interp`, of `layout`.
    pub fn new(layout: ObjectLayout, interp: u64) -> ThreadNames {
        ThreadNames {
            layout,
            interp,
            active: None,
            type_names: HashMap::new(),
        }
    }

    /// The names of the process's Python threads by OS thread id; empty while `threading` has
    /// not been imported.
    pub fn read<M: Memory>(&mut self, mem: &M) -> Result<HashMap<u32, String>, String> {
        let mut o = Objects {
            mem,
            layout: self.layout,
            type_names: &mut self.type_names,
        };
        let active = match self.active {
            Some(a) => a,
            None => {
                let Some(a) = find_active(&mut o, self.interp)? else {
                    return Ok(HashMap::new());
                };
                self.active = Some(a);
                a
            }
        };
        names_in(&mut o, active)
    }
}

/// `threading._active`, through `sys.modules`; `None` before `threading` is imported.
fn find_active<M: Memory>(o: &mut Objects<'_, M>, interp: u64) -> Result<Option<u64>, String> {
    let modules = o.u64_at(interp, o.layout.modules)?;
    let [threading] = o.lookup(Attrs::Dict(modules), &["threading"])?[..] else {
        return Err("no lookup result".to_owned());
    };
    let Some(threading) = threading else {
        return Ok(None);
    };
    o.expect(threading, "module")?;
    let globals = o.u64_at(threading, MD_DICT)?;
    let [Some(active)] = o.lookup(Attrs::Dict(globals), &["_active"])?[..] else {
        return Err("threading has no _active".to_owned());
    };
    Ok(Some(active))
}

/// Each thread's name in the `threading._active` at `active`, by its `_native_id`.
fn names_in<M: Memory>(
    o: &mut Objects<'_, M>,
    active: u64,
) -> Result<HashMap<u32, String>, String> {
    o.expect(active, "dict")?;
    if o.u64_at(active, MA_VALUES)? != 0 {
        return Err("threading._active is a split dict".to_owned());
    }
    let keys = o.u64_at(active, MA_KEYS)?;
    let mut names = HashMap::new();
    for (_, thread) in o.entries(keys)? {
        if thread == 0 {
            continue;
        }
        let attrs = o.attrs_of(thread)?;
        if let [Some(name), Some(native_id)] = o.lookup(attrs, &["_name", "_native_id"])?[..]
            && let (Ok(name), Ok(tid)) = (o.string(name), o.int(native_id))
            && let Ok(tid) = u32::try_from(tid)
        {
            names.insert(tid, name);
        }
    }
    Ok(names)
}

/// The names of every followed process's threads, read from memory now and then (for an
/// attached process, which has no start-up hook to report them).
#[derive(Debug, Default)]
pub(super) struct ProcessNames {
    /// Each process's reader, or `None` where its names cannot be read (a layout not known).
    readers: HashMap<u32, Option<ThreadNames>>,
    /// When names were last read, monotonic ns.
    read_ns: Option<u64>,
}

/// How often the names are read again while threads keep appearing, and at the least.
const NAMES_EVERY_NS: u64 = 250_000_000;
const NAMES_STALE_NS: u64 = 2_000_000_000;

/// Why the names are wanted now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum NamesWanted {
    /// A discovery pass: read if a thread appeared, or the names are old.
    Scan {
        /// A thread appeared since the last pass.
        appeared: bool,
    },
    /// The observation ends: read now.
    Final,
}

impl ProcessNames {
    /// Reads the names when `wanted` calls for it (at most every [`NAMES_EVERY_NS`] while threads
    /// appear); a name read replaces the one known (a thread may be renamed).
    pub(super) fn refresh(
        &mut self,
        now_ns: u64,
        wanted: NamesWanted,
        gils: &std::collections::BTreeMap<u32, super::watch::ProcGil>,
        minor: (u32, u32),
        names: &mut HashMap<(u32, u32), String>,
    ) {
        let since = self.read_ns.map(|at| now_ns.saturating_sub(at));
        let read = match (wanted, since) {
            (NamesWanted::Final, _) | (_, None) => true,
            (NamesWanted::Scan { appeared }, Some(s)) => {
                (appeared && s >= NAMES_EVERY_NS) || s >= NAMES_STALE_NS
            }
        };
        if !read {
            return;
        }
        self.read_ns = Some(now_ns);
        for (&pid, gil) in gils {
            let reader = self.readers.entry(pid).or_insert_with(|| {
                gil.reader
                    .as_ref()
                    .ok()
                    .and_then(|r| r.thread_names(minor.1))
            });
            let Some(reader) = reader else {
                continue;
            };
            if let Ok(found) = reader.read(&Process(pid)) {
                for (tid, name) in found {
                    names.insert((pid, tid), name);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A made-up process image: regions of bytes at addresses; a read outside them fails.
    #[derive(Default)]
    struct Image {
        regions: Vec<(u64, Vec<u8>)>,
        next: u64,
    }

    impl Memory for Image {
        fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), String> {
            for (base, bytes) in &self.regions {
                let Some(off) = addr.checked_sub(*base) else {
                    continue;
                };
                if let Some(src) = bytes.get(off as usize..off as usize + buf.len()) {
                    buf.copy_from_slice(src);
                    return Ok(());
                }
            }
            Err(format!("unmapped {addr:#x}"))
        }
    }

    impl Image {
        /// A zeroed region of `size` bytes, at a fresh address.
        fn alloc(&mut self, size: usize) -> u64 {
            let base = 0x10_000 + self.next;
            self.next += (size as u64 + 64) & !15;
            self.regions.push((base, vec![0; size]));
            base
        }

        fn put(&mut self, addr: u64, bytes: &[u8]) {
            for (base, region) in &mut self.regions {
                if let Some(off) = addr.checked_sub(*base)
                    && (off as usize) < region.len()
                {
                    region[off as usize..off as usize + bytes.len()].copy_from_slice(bytes);
                    return;
                }
            }
            panic!("no region at {addr:#x}");
        }

        fn word(&mut self, addr: u64, v: u64) {
            self.put(addr, &v.to_le_bytes());
        }

        /// A type named `name` with `flags`, and `cached_keys` where 3.11 keeps them.
        fn ty(&mut self, name: &str, flags: u64, cached_keys: u64) -> u64 {
            let text = self.alloc(32);
            self.put(text, name.as_bytes());
            let ty = self.alloc(900);
            self.word(ty + TP_NAME, text);
            self.word(ty + TP_FLAGS, flags);
            self.word(ty + 872, cached_keys);
            ty
        }
    }

    /// The objects of a 3.11 process with one thread, `tid` named `name`, and the type named
    /// `modules_type` where `sys.modules` should be a dict.
    fn image_311(tid: u64, name: &str, modules_type: &str) -> (Image, u64) {
        let mut m = Image::default();
        let str_ty = m.ty("str", 0, 0);
        let int_ty = m.ty("int", 0, 0);
        let dict_ty = m.ty("dict", 0, 0);
        let mods_ty = m.ty(modules_type, 0, 0);
        let module_ty = m.ty("module", 0, 0);
        let string = |m: &mut Image, text: &str| {
            let s = m.alloc(48 + text.len() + 1);
            m.word(s + 8, str_ty);
            m.word(s + 16, text.len() as u64);
            m.put(s + 32, &((1u32 << 2) | (1 << 5) | (1 << 6)).to_le_bytes());
            m.put(s + 48, text.as_bytes());
            s
        };
        // Keys of `kind` with `entries` (key, value), combined or split.
        let keys = |m: &mut Image, kind: u8, entries: &[(u64, u64)]| {
            let size = if kind == 0 { 24 } else { 16 };
            let k = m.alloc(40 + size * entries.len());
            m.put(k + 8, &[3, 3, kind]);
            m.word(k + 24, entries.len() as u64);
            for (i, &(key, value)) in entries.iter().enumerate() {
                let e = k + 40 + (size * i) as u64;
                let (key_at, value_at) = if kind == 0 { (8, 16) } else { (0, 8) };
                m.word(e + key_at, key);
                m.word(e + value_at, value);
            }
            k
        };
        let dict = |m: &mut Image, ty: u64, keys: u64| {
            let d = m.alloc(48);
            m.word(d + 8, ty);
            m.word(d + MA_KEYS, keys);
            d
        };
        // The thread: values under its type's split keys (_name, _native_id).
        let (k_name, k_id) = (string(&mut m, "_name"), string(&mut m, "_native_id"));
        let split = keys(&mut m, 2, &[(k_name, 0), (k_id, 0)]);
        let thread_ty = m.ty("Thread", MANAGED_DICT, split);
        let (v_name, v_id) = (string(&mut m, name), m.alloc(32));
        m.word(v_id + 8, int_ty);
        m.word(v_id + 16, 1);
        m.put(v_id + 24, &(tid as u32).to_le_bytes());
        let values = m.alloc(16);
        m.word(values, v_name);
        m.word(values + 8, v_id);
        let pre = m.alloc(48);
        let thread = pre + 32;
        m.word(thread - 32, values);
        m.word(thread + 8, thread_ty);
        // _active = {ident: thread}, with an int key.
        let ident = m.alloc(32);
        m.word(ident + 8, int_ty);
        let active = keys(&mut m, 0, &[(ident, thread)]);
        let active = dict(&mut m, dict_ty, active);
        let k_active = string(&mut m, "_active");
        let globals = keys(&mut m, 1, &[(k_active, active)]);
        let globals = dict(&mut m, dict_ty, globals);
        let module = m.alloc(32);
        m.word(module + 8, module_ty);
        m.word(module + MD_DICT, globals);
        let (k_sys, k_threading) = (string(&mut m, "sys"), string(&mut m, "threading"));
        let modules = keys(&mut m, 1, &[(k_sys, 0), (k_threading, module)]);
        let modules = dict(&mut m, mods_ty, modules);
        let interp = m.alloc(900);
        m.word(interp + 888, modules);
        (m, interp)
    }

    #[test]
    fn a_thread_is_named_from_its_values_under_the_types_keys() {
        let (m, interp) = image_311(4242, "Thread-1 (work)", "dict");
        let layout = ObjectLayout::for_version(11, None).unwrap();
        let names = ThreadNames::new(layout, interp).read(&m).unwrap();
        assert_eq!(names.len(), 1);
        assert_eq!(
            names.get(&4242).map(String::as_str),
            Some("Thread-1 (work)")
        );
    }

    #[test]
    fn an_object_of_the_wrong_type_gives_no_names() {
        let (m, interp) = image_311(4242, "Thread-1 (work)", "list");
        let layout = ObjectLayout::for_version(11, None).unwrap();
        let err = ThreadNames::new(layout, interp).read(&m).unwrap_err();
        assert!(err.contains("expected a dict"), "{err}");
    }

    #[test]
    fn versions_without_a_known_layout_are_not_read() {
        assert!(ObjectLayout::for_version(7, None).is_none());
        assert!(
            ObjectLayout::for_version(13, None).is_none(),
            "3.13 needs its debug offsets"
        );
        assert!(ObjectLayout::for_version(16, Some(7664)).is_none());
        assert_eq!(
            ObjectLayout::for_version(15, Some(7664))
                .unwrap()
                .cached_keys,
            888
        );
    }

    /// Memory of pseudo-random bytes that every address reads (wrapping round): whatever a
    /// misread pointer leads to, the reader ends with names or an error, never a panic or a
    /// runaway allocation.
    struct Noise(Vec<u8>);

    impl Memory for Noise {
        fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), String> {
            if buf.len() > 4 << 20 {
                return Err("too big".to_owned());
            }
            for (i, b) in buf.iter_mut().enumerate() {
                *b = self.0[(addr as usize).wrapping_add(i) % self.0.len()];
            }
            Ok(())
        }
    }

    #[test]
    fn noise_for_memory_ends_in_an_error_not_a_panic() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for minor in [8, 9, 11, 12, 13, 15] {
            for _ in 0..200 {
                let bytes: Vec<u8> = (0..4096)
                    .map(|_| {
                        seed ^= seed << 13;
                        seed ^= seed >> 7;
                        seed ^= seed << 17;
                        // Mostly small words, so that sizes and kinds are often plausible.
                        if seed.is_multiple_of(3) {
                            seed as u8
                        } else {
                            (seed % 5) as u8
                        }
                    })
                    .collect();
                let layout = ObjectLayout::for_version(minor, Some(104)).unwrap();
                let _ = ThreadNames::new(layout, seed % 4096).read(&Noise(bytes));
            }
        }
    }
}
