//! The ten lessons, in the order of the source texts: their words, where to look, what they
//! claim, and the runs that test the claim.

use gilscope_engine::build::Build;
use gilscope_engine::config::{Kernel, MAX_THREADS, Mode, RunConfig, Runtime};

use super::{Size, Trial};

/// The view a lesson's "look here" callout points at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LookHere {
    /// The per-core lanes and the cores-busy strip of the timeline.
    CoreLanes,
    /// The GIL holder lane of the timeline.
    GilLane,
    /// The per-worker lanes of the timeline.
    WorkerLanes,
    /// The figures of the finished run (result, switches, cores busy).
    Figures,
    /// The lesson's own table of measured figures.
    Table,
    /// The decision tree.
    Tree,
}

/// One lesson.
#[derive(Debug)]
pub struct Lesson {
    /// Its number, from 1.
    pub number: usize,
    /// Its title.
    pub title: &'static str,
    /// Two or three sentences to read out.
    pub story: &'static str,
    /// Where the callout points.
    pub look_here: LookHere,
    /// The callout's words.
    pub look_text: &'static str,
    /// What should be seen; the verdict checks it.
    pub claim: &'static str,
    /// Which source text it comes from.
    pub source: &'static str,
    /// Lessons whose verdicts this one reads (the decision tree's leaves).
    pub depends_on: &'static [usize],
    /// Whether it measures this machine's copy bandwidth first.
    pub measures_bandwidth: bool,
    /// The trial whose settings the app shows when the lesson opens.
    pub show: &'static str,
}

/// Every lesson, in teaching order.
pub static LESSONS: [Lesson; 10] = [
    Lesson {
        number: 1,
        title: "One core busy",
        story: "count.py counts to N in pure Python, once on one thread and once split over two. Every bytecode needs the GIL, and only one thread can hold it, so the second thread only takes turns with the first.",
        look_here: LookHere::CoreLanes,
        look_text: "Look here: one core lane busy at a time; the other stays idle",
        claim: "2 threads are no faster than 1 (seed 001 measured 0.89x on Python 3.1; 3.2+ GILs give about 1.0x) and keep about one core busy",
        source: "seed 001: the count loop",
        depends_on: &[],
        measures_bandwidth: false,
        show: "t2",
    },
    Lesson {
        number: 2,
        title: "Processes use every core",
        story: "The same count.py on a Pool of processes. Each process has its own interpreter and its own GIL, so pure Python really runs in parallel, at the price of starting the processes.",
        look_here: LookHere::CoreLanes,
        look_text: "Look here: every core lane busy, one GIL lane per process",
        claim: "P processes finish the count faster than 1, close to min(P, cores) times (seed 001: 3.57x with 4 processes on 4 cores)",
        source: "seed 001 and seed 004: multiprocessing",
        depends_on: &[],
        measures_bandwidth: false,
        show: "mpn",
    },
    Lesson {
        number: 3,
        title: "I/O releases the GIL",
        story: "download.py waits on four downloads. A blocking wait releases the GIL for as long as it waits, so the other threads start theirs meanwhile, even though the cores stay almost idle.",
        look_here: LookHere::WorkerLanes,
        look_text: "Look here: the amber I/O waits of the workers overlap",
        claim: "4 threads finish 4 downloads about 4x faster than 1 thread (seed 001: 3.64x)",
        source: "seed 001: downloads",
        depends_on: &[],
        measures_bandwidth: false,
        show: "dl4",
    },
    Lesson {
        number: 4,
        title: "NumPy releases the GIL, sometimes",
        story: "Whole-array NumPy operations drop the GIL while their C loop runs, but only loops over more than 500 elements, and only the loop: the Python between operations still needs it. A 20×20 grid never lets go; 30×30 lets go for microseconds at a time (real CPython then churns the GIL and gets slower); on 200×200 the loops of two threads overlap.",
        look_here: LookHere::WorkerLanes,
        look_text: "Look here: blue NumPy spans of different threads overlap at grid 200",
        claim: "2 threads gain nothing at grid 20 (loops under NumPy's 500-element threshold keep the GIL), clearly more at grid 200, and np.dot gains too; grid 30 is shown beside them",
        source: "seeds 000/002: the heat benchmark; seed 001: NumPy",
        depends_on: &[],
        measures_bandwidth: false,
        show: "big2",
    },
    Lesson {
        number: 5,
        title: "The switch interval, and starvation",
        story: "A waiting thread asks for the GIL after the switch interval (5 ms by default). At 20 ms the heat program's NumPy calls let go of the GIL for an instant and take it back before the waiter wakes, and CPython restarts the waiter's whole wait each time, so it may never ask. The count loop never lets go, so its waiter always asks in time.",
        look_here: LookHere::GilLane,
        look_text: "Look here: red marks on the GIL lane are waits that never got a turn",
        claim: "heat.py at a 20 ms switch interval has starved waits (longer than 3 intervals, no drop request); count.py at 20 ms has none",
        source: "seed 004: the GIL's switching; Python/ceval_gil.c",
        depends_on: &[],
        measures_bandwidth: false,
        show: "heat20",
    },
    Lesson {
        number: 6,
        title: "The GIL protects the interpreter, not your data",
        story: "bank.py has two threads add to one balance. Written inline, balance += 1 happens to finish between the GIL's checkpoints on 3.11; through a function call, a switch can land between reading and writing the balance, and deposits vanish.",
        look_here: LookHere::Table,
        look_text: "Look here: deposits lost through a call, none inline",
        claim: "the inline deposit loses nothing, the deposit through a call loses updates: the GIL does not make your code thread-safe (seed 003)",
        source: "seed 003",
        depends_on: &[],
        measures_bandwidth: false,
        show: "withcall",
    },
    Lesson {
        number: 7,
        title: "Why the GIL exists",
        story: "Every Python object counts its references, and every call changes a count. refcount.py passes one shared object to a function in two threads: with the GIL the counts stay exact; with the GIL simply deleted, two threads read the same count and both write back, as in seed 001's box.",
        look_here: LookHere::Figures,
        look_text: "Look here: the refcount drift, 0 with the GIL",
        claim: "refcount drift is 0 under the GIL and not 0 with the GIL deleted (a real interpreter would leak or free live objects)",
        source: "seed 001: the refcount race",
        depends_on: &[],
        measures_bandwidth: false,
        show: "unsafe",
    },
    Lesson {
        number: 8,
        title: "Life without the GIL",
        story: "Free-threaded Python (3.13t, PEP 703) removes the GIL and protects objects with biased reference counts and per-object locks; subinterpreters (3.12+, PEP 684) keep a GIL but give each interpreter its own. Both run pure Python on several cores; the free-threaded build pays for its protections on one thread too.",
        look_here: LookHere::CoreLanes,
        look_text: "Look here: both cores busy and no shared GIL lane",
        claim: "free-threaded threads and subinterpreters both run count.py faster on 2 workers than on 1, at a small single-thread cost (PEP 703: ~6%, PEP 779: ~10%)",
        source: "seed 001: python3.13t; PEP 684, 703, 734",
        depends_on: &[],
        measures_bandwidth: false,
        show: "ft2",
    },
    Lesson {
        number: 9,
        title: "Memory-bound work stops scaling",
        story: "With no GIL at all, compiled threads still share one memory bus. The STREAM triad moves 24 bytes per multiply-add over arrays far larger than the cache, so once the memory bandwidth is used up more threads only queue for it, while compute-bound code keeps scaling.",
        look_here: LookHere::Table,
        look_text: "Look here: the throughput meets the bandwidth ceiling",
        claim: "the streaming kernel stays under this machine's copy bandwidth and scales worse than compute-bound native code (seed 001's table: memory-bound, limited)",
        source: "seed 001: the task table",
        depends_on: &[],
        measures_bandwidth: true,
        show: "streamc",
    },
    Lesson {
        number: 10,
        title: "Which tool for which task",
        story: "Seed 001's decision tree: CPU-bound pure Python wants processes or a free-threaded build; NumPy and C extensions make threads worthwhile; I/O-bound work wants threads or asyncio; memory-bound work wants fewer workers and better locality. Each leaf opens the lesson that proved it on this machine.",
        look_here: LookHere::Tree,
        look_text: "Click a leaf to open the lesson that proves it",
        claim: "every leaf of the tree is proven by its lesson on this machine",
        source: "seed 001: the decision tree",
        depends_on: &[2, 3, 4, 8, 9],
        measures_bandwidth: false,
        show: "",
    },
];

/// Lesson `number` (1-based).
pub fn lesson(number: usize) -> Option<&'static Lesson> {
    LESSONS.iter().find(|l| l.number == number)
}

fn program(name: &str, params: &[(&str, String)]) -> RunConfig {
    RunConfig {
        program: name.to_owned(),
        params: params
            .iter()
            .map(|(n, v)| (n.to_string(), v.clone()))
            .collect(),
        ..RunConfig::default()
    }
}

fn trial(key: &'static str, label: String, config: RunConfig, repeats: usize) -> Trial {
    Trial {
        key,
        label,
        config,
        repeats,
    }
}

/// The trials of lesson `number` at `size` on a machine with `cores` cores.
pub fn trials(number: usize, size: Size, cores: usize) -> Vec<Trial> {
    let quick = size == Size::Quick;
    let pick = |q: u64, c: u64| if quick { q } else { c };
    let cores = cores.max(1);
    let with = |mut c: RunConfig, mode: Mode, threads: usize| {
        c.mode = mode;
        c.threads = threads;
        c
    };
    match number {
        1 => {
            // Runs of a few tenths of a second at least: shorter ones are mostly noise.
            let n = || vec![("N", pick(6_000_000, 20_000_000).to_string())];
            let real = vec![("N", "10000000".to_owned())];
            let count = program("count", &n());
            let cpython = RunConfig {
                runtime: Runtime::Cpython,
                ..program("count", &real)
            };
            vec![
                trial(
                    "t1",
                    "count.py, 1 thread".into(),
                    with(count.clone(), Mode::Threading, 1),
                    3,
                ),
                trial(
                    "t2",
                    "count.py, 2 threads".into(),
                    with(count, Mode::Threading, 2),
                    3,
                ),
                trial(
                    "cpy1",
                    "count.py on this machine's python3, 1 thread".into(),
                    with(cpython.clone(), Mode::Threading, 1),
                    3,
                ),
                trial(
                    "cpy2",
                    "count.py on this machine's python3, 2 threads".into(),
                    with(cpython, Mode::Threading, 2),
                    3,
                ),
            ]
        }
        2 => {
            let p = cores.clamp(2, 4);
            let count = program("count", &[("N", pick(12_000_000, 40_000_000).to_string())]);
            vec![
                trial(
                    "mp1",
                    "count.py, Pool of 1 process".into(),
                    with(count.clone(), Mode::Multiprocessing, 1),
                    2,
                ),
                trial(
                    "mpn",
                    format!("count.py, Pool of {p} processes"),
                    with(count, Mode::Multiprocessing, p),
                    2,
                ),
            ]
        }
        3 => {
            let dl = program(
                "download",
                &[
                    ("DOWNLOADS", pick(8, 4).to_string()),
                    ("LATENCY", if quick { "0.05" } else { "0.5" }.to_owned()),
                ],
            );
            vec![
                trial(
                    "dl1",
                    "download.py, 1 thread".into(),
                    with(dl.clone(), Mode::Threading, 1),
                    1,
                ),
                trial(
                    "dl4",
                    "download.py, 4 threads".into(),
                    with(dl, Mode::Threading, 4),
                    1,
                ),
            ]
        }
        4 => {
            let heat = |grid: usize, problems: u64| RunConfig {
                kernel: Kernel::Numpy,
                grid,
                problems: problems as usize,
                ..RunConfig::default()
            };
            let tiny = heat(20, pick(1600, 1600));
            let small = heat(30, pick(300, 600));
            let big = heat(200, 40);
            let dot = program("dot", &[]);
            let real = RunConfig {
                runtime: Runtime::Cpython,
                ..heat(30, pick(300, 600))
            };
            let mut v = Vec::new();
            for (key1, key2, name, c) in [
                ("tiny1", "tiny2", "heat NumPy, grid 20", tiny),
                ("small1", "small2", "heat NumPy, grid 30", small),
                ("big1", "big2", "heat NumPy, grid 200", big),
                ("dot1", "dot2", "dot.py (np.dot)", dot),
                (
                    "cpy_small1",
                    "cpy_small2",
                    "heat NumPy, grid 30, on this machine's python3",
                    real,
                ),
            ] {
                // Three runs each: these speedups are close to 1 and 2, and the host is noisy.
                v.push(trial(
                    key1,
                    format!("{name}, 1 thread"),
                    with(c.clone(), Mode::Threading, 1),
                    3,
                ));
                v.push(trial(
                    key2,
                    format!("{name}, 2 threads"),
                    with(c, Mode::Threading, 2),
                    3,
                ));
            }
            v
        }
        5 => {
            let heat = |ms: u64| RunConfig {
                problems: pick(60, 100) as usize,
                switch_interval_micros: ms * 1000,
                threads: 2,
                ..RunConfig::default()
            };
            let count = RunConfig {
                switch_interval_micros: 20_000,
                threads: 2,
                ..program("count", &[("N", pick(3_000_000, 10_000_000).to_string())])
            };
            vec![
                trial("heat5", "heat.py, 2 threads, 5 ms".into(), heat(5), 1),
                trial(
                    "heat20",
                    "heat.py, 2 threads, 20 ms".into(),
                    heat(20),
                    pick(2, 3) as usize,
                ),
                trial("count20", "count.py, 2 threads, 20 ms".into(), count, 1),
            ]
        }
        6 => {
            let bank = |entry: &str| RunConfig {
                entry: Some(entry.to_owned()),
                threads: 2,
                ..program(
                    "bank",
                    &[("DEPOSITS", pick(300_000, 1_000_000).to_string())],
                )
            };
            vec![
                trial(
                    "inplace",
                    "bank.py, balance += 1 inline, 2 threads".into(),
                    bank("deposit_inplace"),
                    2,
                ),
                trial(
                    "withcall",
                    "bank.py, balance = add(balance, 1), 2 threads".into(),
                    bank("deposit_with_call"),
                    3,
                ),
            ]
        }
        7 => {
            let rc = |interpreter| RunConfig {
                threads: 2,
                interpreter,
                ..program(
                    "refcount",
                    &[("CALLS", pick(300_000, 1_000_000).to_string())],
                )
            };
            vec![
                trial(
                    "gil",
                    "refcount.py, 2 threads, GIL".into(),
                    rc(Build::Gil),
                    2,
                ),
                trial(
                    "unsafe",
                    "refcount.py, 2 threads, GIL deleted".into(),
                    rc(Build::NoGilUnsafe),
                    3,
                ),
            ]
        }
        8 => {
            let count = program("count", &[("N", pick(3_000_000, 20_000_000).to_string())]);
            let on = |interpreter, mode, threads| RunConfig {
                interpreter,
                ..with(count.clone(), mode, threads)
            };
            vec![
                trial(
                    "gil1",
                    "count.py, 1 thread, GIL".into(),
                    on(Build::Gil, Mode::Threading, 1),
                    2,
                ),
                trial(
                    "ft1",
                    "count.py, 1 thread, free-threaded".into(),
                    on(Build::FreeThreaded, Mode::Threading, 1),
                    2,
                ),
                trial(
                    "ft2",
                    "count.py, 2 threads, free-threaded".into(),
                    on(Build::FreeThreaded, Mode::Threading, 2),
                    2,
                ),
                trial(
                    "sub2",
                    "count.py, 2 subinterpreters".into(),
                    on(Build::Gil, Mode::Interpreters, 2),
                    2,
                ),
            ]
        }
        9 => {
            let most = (2 * cores).min(MAX_THREADS);
            let stream = RunConfig {
                mode: Mode::Native,
                kernel: Kernel::Stream,
                grid: pick(1448, 2048) as usize,
                problems: most,
                iters: pick(30, 40) as usize,
                ..RunConfig::default()
            };
            let compute = RunConfig {
                mode: Mode::Native,
                kernel: Kernel::Python,
                grid: 200,
                problems: 2 * most,
                iters: pick(100, 300) as usize,
                ..RunConfig::default()
            };
            let mut v = Vec::new();
            for (key, t) in [("stream1", 1), ("streamc", cores), ("stream2c", most)] {
                if t == 1 && key != "stream1" {
                    continue;
                }
                v.push(trial(
                    key,
                    format!("STREAM triad, native, {t} threads"),
                    with(stream.clone(), Mode::Native, t),
                    2,
                ));
            }
            v.push(trial(
                "cpu1",
                "compute-bound sweep, native, 1 thread".into(),
                with(compute.clone(), Mode::Native, 1),
                2,
            ));
            if cores > 1 {
                v.push(trial(
                    "cpuc",
                    format!("compute-bound sweep, native, {cores} threads"),
                    with(compute, Mode::Native, cores),
                    2,
                ));
            }
            v
        }
        _ => Vec::new(),
    }
}

/// The settings the app shows when lesson `number` opens (its `show` trial at class size).
pub fn shown_config(number: usize, cores: usize) -> Option<RunConfig> {
    let key = lesson(number)?.show;
    trials(number, Size::Class, cores)
        .into_iter()
        .find(|t| t.key == key)
        .map(|t| t.config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lessons_are_numbered_in_order_and_every_trial_is_valid() {
        for (i, l) in LESSONS.iter().enumerate() {
            assert_eq!(l.number, i + 1);
            for cores in [1, 2, 16] {
                for size in [Size::Quick, Size::Class] {
                    for t in trials(l.number, size, cores) {
                        assert!(t.config.validate().is_ok(), "{} {}", l.number, t.label);
                    }
                }
            }
            if l.number < 10 {
                assert!(shown_config(l.number, 2).is_some(), "lesson {}", l.number);
            }
        }
    }
}
