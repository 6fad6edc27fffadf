//! Sets and frozensets after `Objects/setobject.c`: an open-addressing table probed as CPython
//! probes it (nine linear probes, then perturbation), resized at the same fill, so that a set of
//! ints iterates and prints in CPython's order; and the hashes of `Objects/longobject.c`,
//! `Python/pyhash.c` (floats) and `Objects/tupleobject.c` (xxHash) that decide that order.
//! Strings hash with a fixed function here (CPython randomises theirs per process).

use std::sync::{Mutex, MutexGuard};

use super::VmError;
use super::value::Value;

const MODULUS: u64 = (1 << 61) - 1;
const HASH_BITS: u32 = 61;
const MIN_SIZE: usize = 8;
const LINEAR_PROBES: usize = 9;
const PERTURB_SHIFT: u32 = 5;

/// `_Py_HashDouble`.
fn hash_float(v: f64) -> i64 {
    if v.is_infinite() {
        return if v > 0.0 { 314_159 } else { -314_159 };
    }
    if v.is_nan() {
        return 0;
    }
    let (mut m, mut e) = frexp(v);
    let sign: i64 = if m < 0.0 {
        m = -m;
        -1
    } else {
        1
    };
    let mut x: u64 = 0;
    while m != 0.0 {
        x = ((x << 28) & MODULUS) | (x >> (HASH_BITS - 28));
        m *= 268_435_456.0;
        e -= 28;
        let y = m as u64;
        m -= y as f64;
        x += y;
        if x >= MODULUS {
            x -= MODULUS;
        }
    }
    let e = if e >= 0 {
        (e as u32) % HASH_BITS
    } else {
        HASH_BITS - 1 - (((-1 - e) as u32) % HASH_BITS)
    };
    x = ((x << e) & MODULUS) | (x >> (HASH_BITS - e));
    let h = (x as i64).wrapping_mul(sign);
    if h == -1 { -2 } else { h }
}

/// `frexp`: `v = m * 2^e` with `0.5 <= |m| < 1`.
fn frexp(v: f64) -> (f64, i32) {
    if v == 0.0 {
        return (v, 0);
    }
    let bits = v.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i32;
    if exp == 0 {
        // Subnormal: scale up first.
        let (m, e) = frexp(v * f64::from_bits(0x4350_0000_0000_0000));
        return (m, e - 54);
    }
    let m = f64::from_bits((bits & !(0x7ff << 52)) | (1022 << 52));
    (m, exp - 1022)
}

/// `hash(v)`, or the `TypeError` of an unhashable value.
pub fn py_hash(v: &Value) -> Result<i64, VmError> {
    Ok(match v {
        Value::Int(i) => {
            let a = i.unsigned_abs() % MODULUS;
            let h = if *i < 0 { -(a as i64) } else { a as i64 };
            if h == -1 { -2 } else { h }
        }
        Value::Bool(b) => i64::from(*b),
        Value::BigInt(b) => super::bigint::hash(b),
        Value::Float(f) => {
            if f.fract() == 0.0 && f.abs() < 9.2e18 {
                py_hash(&Value::Int(*f as i64))?
            } else {
                hash_float(*f)
            }
        }
        Value::None => 0x5f3a_1c27,
        Value::Str(_) | Value::Bytes(_) => {
            // FNV-1a: a fixed stand-in for CPython's randomised SipHash.
            let bytes: &[u8] = match v {
                Value::Str(s) => s.as_bytes(),
                Value::Bytes(b) => b,
                _ => &[],
            };
            let mut h: u64 = 0xcbf2_9ce4_8422_2325;
            for &b in bytes {
                h ^= u64::from(b);
                h = h.wrapping_mul(0x0100_0000_01b3);
            }
            let h = (h >> 1) as i64;
            if h == -1 { -2 } else { h }
        }
        Value::Tuple(_) | Value::IntPair(..) => {
            const P1: u64 = 11_400_714_785_074_694_791;
            const P2: u64 = 14_029_467_366_897_019_727;
            const P5: u64 = 2_870_177_450_012_600_261;
            let items = super::ops::iterate(v)?;
            let mut acc = P5;
            for it in &items {
                let lane = py_hash(it)? as u64;
                acc = acc.wrapping_add(lane.wrapping_mul(P2));
                acc = acc.rotate_left(31);
                acc = acc.wrapping_mul(P1);
            }
            acc = acc.wrapping_add(items.len() as u64 ^ (P5 ^ 3_527_539));
            if acc == u64::MAX {
                1_546_275_796
            } else {
                acc as i64
            }
        }
        Value::Set(s) if s.frozen => {
            let mut h: u64 = 0;
            for it in s.items() {
                let x = py_hash(&it)? as u64;
                h ^= (x ^ (x << 16) ^ 89_869_747).wrapping_mul(3_644_798_167);
            }
            h as i64
        }
        Value::List(_) | Value::Dict(_) | Value::Set(_) => {
            return Err(VmError::type_error(format!(
                "unhashable type: '{}'",
                v.type_name()
            )));
        }
        // Objects hash by identity (`_Py_HashPointer`: the address rotated by 4 bits).
        other => match other.heap_addr() {
            Some(a) => a.rotate_right(4) as i64,
            // Builtins, modules and ranges live inline: equal ones are one object to Python.
            None => py_hash(&Value::str(&other.repr()))?,
        },
    })
}

#[derive(Clone, Debug)]
enum Slot {
    Empty,
    Dummy,
    Active(i64, Value),
}

#[derive(Debug)]
struct Table {
    slots: Vec<Slot>,
    fill: usize,
    used: usize,
}

impl Table {
    fn new() -> Self {
        Self {
            slots: vec![Slot::Empty; MIN_SIZE],
            fill: 0,
            used: 0,
        }
    }

    fn mask(&self) -> usize {
        self.slots.len() - 1
    }

    /// The slot of `key`, or where it would go: (index, found).
    fn probe(&self, key: &Value, hash: i64) -> (usize, bool) {
        let mask = self.mask();
        let mut perturb = hash as u64;
        let mut i = (hash as u64 as usize) & mask;
        let mut freeslot = None;
        loop {
            let probes = if i + LINEAR_PROBES <= mask {
                LINEAR_PROBES
            } else {
                0
            };
            for j in i..=i + probes {
                match &self.slots[j] {
                    Slot::Empty => return (freeslot.unwrap_or(j), false),
                    Slot::Active(h, k) if *h == hash && k.py_eq(key) => return (j, true),
                    Slot::Dummy if freeslot.is_none() => freeslot = Some(j),
                    _ => {}
                }
            }
            perturb >>= PERTURB_SHIFT;
            i = (i
                .wrapping_mul(5)
                .wrapping_add(1)
                .wrapping_add(perturb as usize))
                & mask;
        }
    }

    fn insert(&mut self, key: Value, hash: i64) {
        let (i, found) = self.probe(&key, hash);
        if found {
            return;
        }
        let unused = matches!(self.slots[i], Slot::Empty);
        self.slots[i] = Slot::Active(hash, key);
        self.used += 1;
        if !unused {
            // A dummy reused: no growth (`found_unused_or_dummy`).
            return;
        }
        self.fill += 1;
        if self.fill * 5 >= self.mask() * 3 {
            self.resize(if self.used > 50_000 {
                self.used * 2
            } else {
                self.used * 4
            });
        }
    }

    fn resize(&mut self, minused: usize) {
        let mut size = MIN_SIZE;
        while size <= minused {
            size <<= 1;
        }
        let old = std::mem::replace(&mut self.slots, vec![Slot::Empty; size]);
        self.fill = 0;
        self.used = 0;
        for s in old {
            if let Slot::Active(h, k) = s {
                // set_insert_clean: the same probe sequence, no comparisons needed.
                let (i, _) = self.probe(&k, h);
                self.slots[i] = Slot::Active(h, k);
                self.fill += 1;
                self.used += 1;
            }
        }
    }

    fn remove(&mut self, key: &Value, hash: i64) -> bool {
        let (i, found) = self.probe(key, hash);
        if found {
            self.slots[i] = Slot::Dummy;
            self.used -= 1;
        }
        found
    }
}

/// A `set` or `frozenset`.
#[derive(Debug)]
pub struct SetObj {
    /// Whether it is a `frozenset`.
    pub frozen: bool,
    table: Mutex<Table>,
}

impl SetObj {
    /// An empty set.
    pub fn new(frozen: bool) -> Self {
        Self {
            frozen,
            table: Mutex::new(Table::new()),
        }
    }

    /// A set of `items`, added in order.
    pub fn from_items(
        frozen: bool,
        items: impl IntoIterator<Item = Value>,
    ) -> Result<Self, VmError> {
        let s = Self::new(frozen);
        for it in items {
            s.add(it)?;
        }
        Ok(s)
    }

    fn lock(&self) -> MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `add`.
    pub fn add(&self, v: Value) -> Result<(), VmError> {
        let h = py_hash(&v)?;
        self.lock().insert(v, h);
        Ok(())
    }

    /// Whether `v` is in it.
    pub fn contains(&self, v: &Value) -> Result<bool, VmError> {
        let h = py_hash(v)?;
        Ok(self.lock().probe(v, h).1)
    }

    /// `discard`; whether it was there.
    pub fn discard(&self, v: &Value) -> Result<bool, VmError> {
        let h = py_hash(v)?;
        Ok(self.lock().remove(v, h))
    }

    /// Its items in table order (how CPython iterates a set).
    pub fn items(&self) -> Vec<Value> {
        self.lock()
            .slots
            .iter()
            .filter_map(|s| match s {
                Slot::Active(_, k) => Some(k.clone()),
                _ => None,
            })
            .collect()
    }

    /// `len`.
    pub fn len(&self) -> usize {
        self.lock().used
    }

    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Empties it.
    pub fn clear(&self) {
        *self.lock() = Table::new();
    }

    /// `pop`: the first item in table order, or `None` when empty.
    pub fn pop(&self) -> Option<Value> {
        let mut t = self.lock();
        let i = t.slots.iter().position(|s| matches!(s, Slot::Active(..)))?;
        let old = std::mem::replace(&mut t.slots[i], Slot::Dummy);
        t.used -= 1;
        match old {
            Slot::Active(_, k) => Some(k),
            _ => None,
        }
    }

    /// `repr`: `{1, 2}`, `set()`, `frozenset({1, 2})`.
    pub fn repr(&self, item_repr: impl Fn(&Value) -> String) -> String {
        let items = self.items();
        let inner: Vec<String> = items.iter().map(item_repr).collect();
        match (self.frozen, inner.is_empty()) {
            (false, true) => "set()".to_owned(),
            (true, true) => "frozenset()".to_owned(),
            (false, false) => format!("{{{}}}", inner.join(", ")),
            (true, false) => format!("frozenset({{{}}})", inner.join(", ")),
        }
    }
}
