//! The `random` module as `Modules/_randommodule.c` and `Lib/random.py` make it: the Mersenne
//! Twister (MT19937), seeded from an int as `init_by_array` seeds it, so that `random.seed(42)`
//! gives the numbers python3 gives: `random`, `getrandbits`, `randrange`, `randint`, `choice`,
//! `shuffle`, `sample` and `uniform`. One generator for the process, shared by the threads, as
//! the module's one `Random` instance is; a program that seeds it gets its own sequence.

use std::sync::{Mutex, MutexGuard};

use num_bigint::BigInt;
use num_traits::{Signed, ToPrimitive, Zero};

use super::VmError;
use super::call::Kwargs;
use super::value::{Builtin, Value};
use super::{Host, Vm};

const N: usize = 624;
const M: usize = 397;

/// An MT19937 generator.
#[derive(Debug, Clone)]
pub struct Mt {
    mt: [u32; N],
    mti: usize,
}

impl Mt {
    fn init_genrand(s: u32) -> Self {
        let mut mt = [0u32; N];
        mt[0] = s;
        for i in 1..N {
            mt[i] = 1_812_433_253u32
                .wrapping_mul(mt[i - 1] ^ (mt[i - 1] >> 30))
                .wrapping_add(i as u32);
        }
        Self { mt, mti: N }
    }

    /// `init_by_array(key)`.
    pub fn from_key(key: &[u32]) -> Self {
        let mut g = Self::init_genrand(19_650_218);
        let mt = &mut g.mt;
        let (mut i, mut j) = (1usize, 0usize);
        let len = key.len().max(1);
        for _ in 0..N.max(len) {
            let k = key.get(j).copied().unwrap_or(0);
            mt[i] = (mt[i] ^ (mt[i - 1] ^ (mt[i - 1] >> 30)).wrapping_mul(1_664_525))
                .wrapping_add(k)
                .wrapping_add(j as u32);
            i += 1;
            j += 1;
            if i >= N {
                mt[0] = mt[N - 1];
                i = 1;
            }
            if j >= len {
                j = 0;
            }
        }
        for _ in 0..N - 1 {
            mt[i] = (mt[i] ^ (mt[i - 1] ^ (mt[i - 1] >> 30)).wrapping_mul(1_566_083_941))
                .wrapping_sub(i as u32);
            i += 1;
            if i >= N {
                mt[0] = mt[N - 1];
                i = 1;
            }
        }
        mt[0] = 0x8000_0000;
        g
    }

    /// `random.seed(n)` for an int: its absolute value's 32-bit words, least significant first.
    pub fn from_int(n: &BigInt) -> Self {
        let mut key: Vec<u32> = n.abs().to_u32_digits().1;
        if key.is_empty() {
            key.push(0);
        }
        Self::from_key(&key)
    }

    /// `genrand_uint32`.
    pub fn next_u32(&mut self) -> u32 {
        const UPPER: u32 = 0x8000_0000;
        const LOWER: u32 = 0x7fff_ffff;
        let mag = |y: u32| if y & 1 == 1 { 0x9908_b0df } else { 0 };
        if self.mti >= N {
            let mt = &mut self.mt;
            for kk in 0..N - M {
                let y = (mt[kk] & UPPER) | (mt[kk + 1] & LOWER);
                mt[kk] = mt[kk + M] ^ (y >> 1) ^ mag(y);
            }
            for kk in N - M..N - 1 {
                let y = (mt[kk] & UPPER) | (mt[kk + 1] & LOWER);
                mt[kk] = mt[kk + M - N] ^ (y >> 1) ^ mag(y);
            }
            let y = (mt[N - 1] & UPPER) | (mt[0] & LOWER);
            mt[N - 1] = mt[M - 1] ^ (y >> 1) ^ mag(y);
            self.mti = 0;
        }
        let mut y = self.mt[self.mti];
        self.mti += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^ (y >> 18)
    }

    /// `random()`: 53 random bits in [0, 1).
    pub fn random(&mut self) -> f64 {
        let a = self.next_u32() >> 5;
        let b = self.next_u32() >> 6;
        (f64::from(a) * 67_108_864.0 + f64::from(b)) * (1.0 / 9_007_199_254_740_992.0)
    }

    /// `getrandbits(k)`.
    pub fn getrandbits(&mut self, k: u32) -> BigInt {
        if k == 0 {
            return BigInt::zero();
        }
        if k <= 32 {
            return BigInt::from(self.next_u32() >> (32 - k));
        }
        let words = k.div_ceil(32) as usize;
        let mut digits = Vec::with_capacity(words);
        let mut left = k;
        for _ in 0..words {
            let mut r = self.next_u32();
            if left < 32 {
                r >>= 32 - left;
            }
            digits.push(r);
            left = left.saturating_sub(32);
        }
        BigInt::from_slice(num_bigint::Sign::Plus, &digits)
    }

    /// `_randbelow_with_getrandbits(n)`: uniform in [0, n).
    pub fn below(&mut self, n: &BigInt) -> BigInt {
        let k = n.bits() as u32;
        loop {
            let r = self.getrandbits(k);
            if &r < n {
                return r;
            }
        }
    }

    fn below_usize(&mut self, n: usize) -> usize {
        self.below(&BigInt::from(n)).to_usize().unwrap_or(0)
    }
}

static GENERATOR: Mutex<Option<Mt>> = Mutex::new(None);

fn generator() -> MutexGuard<'static, Option<Mt>> {
    GENERATOR.lock().unwrap_or_else(|p| p.into_inner())
}

/// The generator, seeded from the clock the first time (as CPython seeds from urandom).
fn with_gen<R>(f: impl FnOnce(&mut Mt) -> R) -> R {
    let mut g = generator();
    let mt = g.get_or_insert_with(|| {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let key = [t as u32, (t >> 32) as u32, std::process::id()];
        Mt::from_key(&key)
    });
    f(mt)
}

/// A function of the `random` module.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RandomFn {
    /// `random.seed(a=None)`.
    Seed,
    /// `random.random()`.
    Random,
    /// `random.getrandbits(k)`.
    Getrandbits,
    /// `random.randrange(start, stop=None, step=1)`.
    Randrange,
    /// `random.randint(a, b)`.
    Randint,
    /// `random.choice(seq)`.
    Choice,
    /// `random.shuffle(x)`.
    Shuffle,
    /// `random.sample(population, k)`.
    Sample,
    /// `random.uniform(a, b)`.
    Uniform,
}

impl RandomFn {
    /// The function's Python name.
    pub fn name(self) -> &'static str {
        match self {
            RandomFn::Seed => "seed",
            RandomFn::Random => "random",
            RandomFn::Getrandbits => "getrandbits",
            RandomFn::Randrange => "randrange",
            RandomFn::Randint => "randint",
            RandomFn::Choice => "choice",
            RandomFn::Shuffle => "shuffle",
            RandomFn::Sample => "sample",
            RandomFn::Uniform => "uniform",
        }
    }
}

/// `random.NAME`.
pub fn attr(name: &str) -> Option<Value> {
    let f = match name {
        "seed" => RandomFn::Seed,
        "random" => RandomFn::Random,
        "getrandbits" => RandomFn::Getrandbits,
        "randrange" => RandomFn::Randrange,
        "randint" => RandomFn::Randint,
        "choice" => RandomFn::Choice,
        "shuffle" => RandomFn::Shuffle,
        "sample" => RandomFn::Sample,
        "uniform" => RandomFn::Uniform,
        _ => return None,
    };
    Some(Value::Builtin(Builtin::Random(f)))
}

fn int_arg(f: RandomFn, v: &Value) -> Result<BigInt, VmError> {
    super::bigint::as_big(v).ok_or_else(|| {
        VmError::type_error(format!(
            "'{}' object cannot be interpreted as an integer (in random.{})",
            v.type_name(),
            f.name()
        ))
    })
}

fn randrange(start: &BigInt, stop: &BigInt, step: &BigInt) -> Result<Value, VmError> {
    let width = stop - start;
    if step == &BigInt::from(1) {
        if width <= BigInt::zero() {
            return Err(VmError::py(
                "ValueError",
                format!("empty range in randrange({start}, {stop})"),
            ));
        }
        return Ok(super::bigint::int_value(
            start + with_gen(|g| g.below(&width)),
        ));
    }
    if step.is_zero() {
        return Err(VmError::py("ValueError", "zero step for randrange()"));
    }
    let n = if step.is_positive() {
        (&width + step - 1) / step
    } else {
        (&width + step + 1) / step
    };
    if n <= BigInt::zero() {
        return Err(VmError::py(
            "ValueError",
            format!("empty range in randrange({start}, {stop}, {step})"),
        ));
    }
    Ok(super::bigint::int_value(
        start + step * with_gen(|g| g.below(&n)),
    ))
}

impl<H: Host> Vm<'_, H> {
    /// Calls a function of `random`.
    pub(super) fn call_random(
        &mut self,
        f: RandomFn,
        args: Vec<Value>,
        kwargs: Kwargs,
    ) -> Result<Value, VmError> {
        use RandomFn as F;
        if let Some((k, _)) = kwargs.first() {
            return Err(VmError::type_error(format!(
                "{}() got an unexpected keyword argument '{k}'",
                f.name()
            )));
        }
        let arity = |lo: usize, hi: usize| -> Result<(), VmError> {
            if (lo..=hi).contains(&args.len()) {
                Ok(())
            } else {
                Err(VmError::type_error(format!(
                    "{}() takes {} positional arguments but {} were given",
                    f.name(),
                    hi,
                    args.len()
                )))
            }
        };
        match f {
            F::Seed => {
                arity(0, 1)?;
                let mt = match args.first() {
                    None | Some(Value::None) => None,
                    Some(v) => match super::bigint::as_big(v) {
                        Some(n) => Some(Mt::from_int(&n)),
                        None => {
                            return Err(VmError::py(
                                "NotImplementedError",
                                "random.seed of a non-int is not emulated by gilscope's interpreter yet",
                            ));
                        }
                    },
                };
                *generator() = mt;
                Ok(Value::None)
            }
            F::Random => {
                arity(0, 0)?;
                Ok(Value::Float(with_gen(Mt::random)))
            }
            F::Getrandbits => {
                arity(1, 1)?;
                let k = int_arg(f, &args[0])?;
                let k = k.to_u32().ok_or_else(|| {
                    VmError::py("ValueError", "number of bits must be non-negative")
                })?;
                Ok(super::bigint::int_value(with_gen(|g| g.getrandbits(k))))
            }
            F::Randrange => {
                arity(1, 3)?;
                let a = int_arg(f, &args[0])?;
                match args.len() {
                    1 => randrange(&BigInt::zero(), &a, &BigInt::from(1)),
                    2 => randrange(&a, &int_arg(f, &args[1])?, &BigInt::from(1)),
                    _ => randrange(&a, &int_arg(f, &args[1])?, &int_arg(f, &args[2])?),
                }
            }
            F::Randint => {
                arity(2, 2)?;
                let (a, b) = (int_arg(f, &args[0])?, int_arg(f, &args[1])?);
                randrange(&a, &(b + 1), &BigInt::from(1))
            }
            F::Choice => {
                arity(1, 1)?;
                let items = self.iterate(&args[0])?;
                if items.is_empty() {
                    return Err(VmError::py(
                        "IndexError",
                        "Cannot choose from an empty sequence",
                    ));
                }
                let k = with_gen(|g| g.below_usize(items.len()));
                Ok(items[k].clone())
            }
            F::Shuffle => {
                arity(1, 1)?;
                let Value::List(l) = &args[0] else {
                    return Err(VmError::type_error(format!(
                        "'{}' object does not support item assignment",
                        args[0].type_name()
                    )));
                };
                let mut items = l.lock();
                for i in (1..items.len()).rev() {
                    let j = with_gen(|g| g.below_usize(i + 1));
                    items.swap(i, j);
                }
                Ok(Value::None)
            }
            F::Sample => {
                arity(2, 2)?;
                let pool_src = self.iterate(&args[0])?;
                let k = int_arg(f, &args[1])?.to_usize().ok_or_else(|| {
                    VmError::py("ValueError", "Sample larger than population or is negative")
                })?;
                let n = pool_src.len();
                if k > n {
                    return Err(VmError::py(
                        "ValueError",
                        "Sample larger than population or is negative",
                    ));
                }
                let mut setsize = 21usize;
                if k > 5 {
                    let e = ((k * 3) as f64).log(4.0).ceil() as u32;
                    setsize += 4usize.pow(e);
                }
                let mut result = Vec::with_capacity(k);
                if n <= setsize {
                    let mut pool = pool_src;
                    for i in 0..k {
                        let j = with_gen(|g| g.below_usize(n - i));
                        result.push(pool[j].clone());
                        pool[j] = pool[n - i - 1].clone();
                    }
                } else {
                    let mut selected = std::collections::HashSet::new();
                    for _ in 0..k {
                        let mut j = with_gen(|g| g.below_usize(n));
                        while selected.contains(&j) {
                            j = with_gen(|g| g.below_usize(n));
                        }
                        selected.insert(j);
                        result.push(pool_src[j].clone());
                    }
                }
                Ok(Value::list(result))
            }
            F::Uniform => {
                arity(2, 2)?;
                let (a, b) = (
                    args[0]
                        .as_f64()
                        .ok_or_else(|| VmError::type_error("uniform() needs numbers"))?,
                    args[1]
                        .as_f64()
                        .ok_or_else(|| VmError::type_error("uniform() needs numbers"))?,
                );
                Ok(Value::Float(a + (b - a) * with_gen(Mt::random)))
            }
        }
    }
}
