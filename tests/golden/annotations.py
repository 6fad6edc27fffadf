"""Type hints as tutorials write them: typing's names, built-in generics (PEP 585) and unions
(PEP 604) in a function's annotations, evaluated when the function is made, and a worker pool
whose functions carry them."""

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Dict, List, Optional, Tuple

Result = Dict[str, int]


def count_words(lines: List[str], stop: Optional[set] = None) -> Result:
    counts = {}
    for line in lines:
        for w in line.split():
            if stop is None or w not in stop:
                counts[w] = counts.get(w, 0) + 1
    return counts


def apply(f: Callable[[int], int], xs: list[int]) -> tuple[int, ...]:
    return tuple(f(x) for x in xs)


def first(items: list[str] | None, default: str = "-") -> str:
    return items[0] if items else default


def describe(x: Any) -> Tuple[str, int]:
    return type(x).__name__, len(str(x))


class Job:
    """A stub, as protocols and exercises leave them."""

    def run(self) -> None: ...


def worker(n: int, out: dict[int, int], lock: threading.Lock) -> None:
    with lock:
        out[n] = n * n


if __name__ == "__main__":
    print(count_words(["a b a", "c a"], stop={"c"}))
    print(apply(lambda x: x + 1, [1, 2, 3]))
    print(first(None), first(["x", "y"]))
    print(describe(3.5), describe("hello"))
    print(Job().run(), ..., ... is Ellipsis)
    squares = {}
    lock = threading.Lock()
    with ThreadPoolExecutor(max_workers=3) as pool:
        for n in range(5):
            pool.submit(worker, n, squares, lock)
    print(sorted(squares.items()))
