"""Seed 001's box: why the GIL exists. Threads take and drop references to one shared object."""
import sys

CALLS = 200_000
ENTRY = "churn"

shared = [0]   # every worker passes this object around
control = [0]  # made the same way, never touched by the workers


def touch(obj):
    return obj


def churn(n):
    """Each call takes a new reference to `shared` (the argument) and drops it on return."""
    for _ in range(n):
        touch(shared)
    return n


def share(k, workers):
    return (CALLS,)


def report(results):
    calls = 0
    for r in results:
        calls += r
    # Both objects are held the same way now, so their counts differ only by lost updates.
    drift = sys.getrefcount(shared) - sys.getrefcount(control)
    return {"calls": calls, "refcount_drift": drift}


if __name__ == "__main__":
    from gilscope_driver import main

    main(globals())
