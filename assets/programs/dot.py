"""Seed 001's NumPy demo: np.dot releases the GIL, so threads can multiply in parallel."""
import numpy as np

SIZE = 1000
PRODUCTS = 8
ENTRY = "numpy_operation"


def numpy_operation(arr, repeats):
    """NumPy releases the GIL during computation."""
    for _ in range(repeats):
        np.dot(arr, arr)
    return repeats


def share(k, workers):
    repeats = PRODUCTS // workers
    if k < PRODUCTS % workers:
        repeats += 1
    return (np.random.rand(SIZE, SIZE), repeats)


def report(results):
    done = 0
    for r in results:
        done += r
    return {"products": done, "size": SIZE}


if __name__ == "__main__":
    from gilscope_driver import main

    main(globals())
