"""Seed 001's count loop: CPU-bound pure Python, the total split over the workers."""
N = 50_000_000
ENTRY = "cpu_bound_task"


def cpu_bound_task(n):
    """CPU-intensive: count to n."""
    count = 0
    for _ in range(n):
        count += 1
    return count


def share(k, workers):
    n = N // workers
    if k < N % workers:
        n += 1
    return (n,)


def report(results):
    total = 0
    for r in results:
        total += r
    return {"total": total}


if __name__ == "__main__":
    from gilscope_driver import main

    main(globals())
