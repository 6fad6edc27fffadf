//! A dict's table: its pairs in insertion order, found by hash, as `Objects/dictobject.c`
//! keeps them (an entries array in order, and an index from hash to entry). Keys must be
//! hashable, as Python's must; small dicts (a function's keyword arguments, a class body) are
//! searched along the entries, larger ones through the index.

use std::collections::HashMap;

use super::VmError;
use super::set::py_hash;
use super::value::Value;

/// Up to this many entries a dict has no index: comparing hashes in order is as fast.
const LINEAR_MAX: usize = 8;

#[derive(Clone, Debug)]
enum Slot {
    One(usize),
    Many(Vec<usize>),
}

/// The pairs of a dict.
#[derive(Clone, Debug, Default)]
pub struct DictTable {
    /// (hash, pair), in insertion order; `None` where a pair was deleted.
    entries: Vec<Option<(i64, (Value, Value))>>,
    /// hash → the entries with it, once the dict is past [`LINEAR_MAX`].
    index: Option<HashMap<i64, Slot>>,
    live: usize,
}

impl DictTable {
    /// How many pairs it holds.
    pub fn len(&self) -> usize {
        self.live
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// The pairs, in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = &(Value, Value)> {
        self.entries.iter().flatten().map(|(_, p)| p)
    }

    /// A copy of the pairs, in order.
    pub fn pairs(&self) -> Vec<(Value, Value)> {
        self.iter().cloned().collect()
    }

    /// Empties it.
    pub fn clear(&mut self) {
        *self = Self::default();
    }

    fn position(&self, key: &Value, hash: i64) -> Option<usize> {
        let hit = |&k: &usize| matches!(&self.entries[k], Some((h, (x, _))) if *h == hash && x.py_eq(key));
        match &self.index {
            None => (0..self.entries.len()).find(hit),
            Some(ix) => match ix.get(&hash)? {
                Slot::One(k) => Some(*k).filter(hit),
                Slot::Many(ks) => ks.iter().copied().find(hit),
            },
        }
    }

    /// The value under `key` (`TypeError` if the key is unhashable).
    pub fn get(&self, key: &Value) -> Result<Option<Value>, VmError> {
        let hash = py_hash(key)?;
        Ok(self
            .position(key, hash)
            .and_then(|k| self.entries[k].as_ref().map(|(_, (_, v))| v.clone())))
    }

    /// Whether `key` is in it.
    pub fn contains(&self, key: &Value) -> Result<bool, VmError> {
        Ok(self.position(key, py_hash(key)?).is_some())
    }

    /// `d[key] = value`: replaces the value of an equal key in place, else appends the pair.
    pub fn insert(&mut self, key: Value, value: Value) -> Result<(), VmError> {
        let hash = py_hash(&key)?;
        if let Some(k) = self.position(&key, hash) {
            if let Some((_, (_, v))) = &mut self.entries[k] {
                *v = value;
            }
            return Ok(());
        }
        let k = self.entries.len();
        self.entries.push(Some((hash, (key, value))));
        self.live += 1;
        match &mut self.index {
            Some(ix) => add_to_index(ix, hash, k),
            None if self.entries.len() > LINEAR_MAX => self.rebuild(),
            None => {}
        }
        Ok(())
    }

    /// `del d[key]` / `d.pop(key)`: the value removed, if the key was there.
    pub fn remove(&mut self, key: &Value) -> Result<Option<Value>, VmError> {
        let hash = py_hash(key)?;
        let Some(k) = self.position(key, hash) else {
            return Ok(None);
        };
        let old = self.entries[k].take().map(|(_, (_, v))| v);
        self.live -= 1;
        if let Some(ix) = &mut self.index {
            let empty = match ix.get_mut(&hash) {
                Some(Slot::Many(ks)) => {
                    ks.retain(|&x| x != k);
                    ks.is_empty()
                }
                _ => true,
            };
            if empty {
                ix.remove(&hash);
            }
        }
        // Compact once the holes outnumber the pairs.
        if self.entries.len() > 2 * self.live + LINEAR_MAX {
            self.entries.retain(Option::is_some);
            self.rebuild();
        }
        Ok(old)
    }

    fn rebuild(&mut self) {
        if self.entries.len() <= LINEAR_MAX {
            self.index = None;
            return;
        }
        let mut ix = HashMap::with_capacity(self.entries.len());
        for (k, e) in self.entries.iter().enumerate() {
            if let Some((h, _)) = e {
                add_to_index(&mut ix, *h, k);
            }
        }
        self.index = Some(ix);
    }
}

fn add_to_index(ix: &mut HashMap<i64, Slot>, hash: i64, k: usize) {
    match ix.get_mut(&hash) {
        None => {
            ix.insert(hash, Slot::One(k));
        }
        Some(Slot::Many(ks)) => ks.push(k),
        Some(slot @ Slot::One(_)) => {
            if let Slot::One(first) = *slot {
                *slot = Slot::Many(vec![first, k]);
            }
        }
    }
}

/// Which view of a dict `keys()`, `values()` or `items()` gave.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ViewKind {
    /// `dict_keys`.
    Keys,
    /// `dict_values`.
    Values,
    /// `dict_items`.
    Items,
}

/// A live view of a dict: it sees the dict's changes, as CPython's views do.
#[derive(Debug)]
pub struct DictView {
    /// The dict viewed.
    pub dict: super::object::Obj<super::value::DictObj>,
    /// Which view.
    pub kind: ViewKind,
}

impl DictView {
    /// `dict_keys`, `dict_values` or `dict_items`.
    pub fn type_name(&self) -> &'static str {
        match self.kind {
            ViewKind::Keys => "dict_keys",
            ViewKind::Values => "dict_values",
            ViewKind::Items => "dict_items",
        }
    }

    /// The view's items now, in the dict's order.
    pub fn items(&self) -> Vec<Value> {
        self.dict
            .lock()
            .iter()
            .map(|(k, v)| match self.kind {
                ViewKind::Keys => k.clone(),
                ViewKind::Values => v.clone(),
                ViewKind::Items => Value::Tuple(std::sync::Arc::from([k.clone(), v.clone()])),
            })
            .collect()
    }

    /// How many items it shows.
    pub fn len(&self) -> usize {
        self.dict.lock().len()
    }

    /// Whether it shows none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `x in view`: by hash for keys, by value otherwise.
    pub fn contains(&self, x: &Value) -> Result<bool, VmError> {
        match self.kind {
            ViewKind::Keys => self.dict.lock().contains(x),
            _ => Ok(self.items().iter().any(|v| v.py_eq(x))),
        }
    }

    /// `dict_keys(['a', 'b'])`.
    pub fn repr(&self, item: impl Fn(&Value) -> String) -> String {
        let parts: Vec<String> = self.items().iter().map(item).collect();
        format!("{}([{}])", self.type_name(), parts.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_order_replaces_in_place_and_finds_after_deletes() {
        let mut t = DictTable::default();
        for i in 0..100 {
            t.insert(Value::Int(i), Value::Int(i * i)).unwrap();
        }
        t.insert(Value::Int(5), Value::str("five")).unwrap();
        assert_eq!(t.len(), 100);
        for i in (0..100).step_by(2) {
            assert!(t.remove(&Value::Int(i)).unwrap().is_some());
        }
        assert_eq!(t.len(), 50);
        assert_eq!(t.get(&Value::Int(5)).unwrap().unwrap().to_str(), "five");
        assert!(t.get(&Value::Int(4)).unwrap().is_none());
        // 1.0 and 1 are one key, as in Python.
        assert_eq!(t.get(&Value::Float(1.0)).unwrap().unwrap().to_str(), "1");
        let keys: Vec<i64> = t.iter().filter_map(|(k, _)| k.as_i64()).collect();
        assert_eq!(keys, (1..100).step_by(2).collect::<Vec<_>>());
        assert!(t.insert(Value::list(vec![]), Value::None).is_err());
    }
}
