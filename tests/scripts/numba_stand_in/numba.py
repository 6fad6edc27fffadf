"""A stand-in for Numba where it is not installed: jit returns the function, prange is range.
The tests run a script with this beside it on python3, to compare its output with gilscope's."""


def jit(*args, **options):
    if len(args) == 1 and callable(args[0]) and not options:
        return args[0]
    return lambda f: f


njit = jit
prange = range


def get_num_threads():
    import os

    return os.cpu_count()
