"""The shared __main__ driver of gilscope's programs.

It reads the same flags as `gilscope run` (--mode, --threads, --entry, --param NAME=VALUE), starts
one worker per thread or process the way the source texts do (threading.Thread or
multiprocessing.Process, then join), and prints the program's result as one JSON line.

A program defines UPPERCASE parameters, ENTRY (the worker function's name), and optionally
share(k, workers), the arguments of worker k, and report(results), its result as a dict.
"""
import argparse
import json
import multiprocessing
import os
import sys
import threading
import time

# gilscope's real-CPython runtime sets this to find the workers among the threads it observes.
_ANNOUNCE = os.environ.get("GILSCOPE_ANNOUNCE") == "1"


def _announce(**fields):
    """Tells an observing gilscope which thread or process is which worker (stderr, one line)."""
    if _ANNOUNCE:
        sys.stderr.write("gilscope:" + json.dumps(fields) + "\n")
        sys.stderr.flush()


def _convert(name, old, text):
    """Parses VALUE with the type of the parameter's default."""
    try:
        if isinstance(old, bool):
            if text.lower() in ("1", "true", "yes"):
                return True
            if text.lower() in ("0", "false", "no"):
                return False
            raise ValueError(text)
        if isinstance(old, int):
            return int(text.replace("_", ""))
        if isinstance(old, float):
            return float(text.replace("_", ""))
        return text
    except ValueError:
        raise SystemExit(f"--param {name}: '{text}' is not a valid {type(old).__name__}")


def _apply(module, params):
    for name, value in params.items():
        module[name] = value


def _child(entry, params, args, k, queue):
    """A worker process: its own interpreter, its own GIL, its own copy of the globals."""
    _apply(sys.modules[entry.__module__].__dict__, params)
    _announce(worker=k, pid=os.getpid(), tid=threading.get_native_id())
    queue.put((k, entry(*args)))


def main(module):
    """Runs the program whose globals are `module` as gilscope would, and prints the result."""
    parser = argparse.ArgumentParser(description=(module.get("__doc__") or "").strip())
    parser.add_argument("--mode", default="threading", choices=["threading", "multiprocessing"])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--entry")
    parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--switch-interval-ms", type=float, help="sys.setswitchinterval, in ms")
    opts = parser.parse_args()
    if opts.switch_interval_ms is not None:
        if not opts.switch_interval_ms > 0:
            parser.error("--switch-interval-ms must be above 0")
        sys.setswitchinterval(opts.switch_interval_ms / 1000)
    if opts.threads < 1:
        parser.error("--threads must be at least 1")
    params = {}
    for item in opts.param:
        name, sep, text = item.partition("=")
        if not sep or not name.isupper() or name not in module:
            parser.error(f"--param {item}: expected NAME=VALUE with an UPPERCASE parameter")
        params[name] = _convert(name, module[name], text)
    if opts.entry:
        params["ENTRY"] = opts.entry
    _apply(module, params)
    entry = module.get(module["ENTRY"])
    if not callable(entry):
        parser.error(f"--entry {module['ENTRY']}: no such function")

    workers = opts.threads
    share = module.get("share")
    jobs = [share(k, workers) if share else () for k in range(workers)]
    results = [None] * workers
    _announce(start_ns=time.monotonic_ns(), pid=os.getpid())
    if opts.mode == "threading":
        errors = [None] * workers

        def run(k):
            _announce(worker=k, pid=os.getpid(), tid=threading.get_native_id())
            try:
                results[k] = entry(*jobs[k])
            except BaseException as e:  # a worker's error ends the program, as in gilscope
                errors[k] = e

        threads = [threading.Thread(target=run, args=(k,)) for k in range(workers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for e in errors:
            if e is not None:
                raise e
    else:
        queue = multiprocessing.Queue()
        procs = [
            multiprocessing.Process(target=_child, args=(entry, params, jobs[k], k, queue))
            for k in range(workers)
        ]
        for p in procs:
            p.start()
        for _ in procs:
            k, value = queue.get()
            results[k] = value
        for p in procs:
            p.join()
    _announce(end_ns=time.monotonic_ns())
    report = module.get("report")
    result = report(results) if report else {"results": results}
    print(json.dumps({"result": result}))
