"""Annotated assignments, as typed tutorials and dataclass-style classes write them: at module
level (into __annotations__, made by SETUP_ANNOTATIONS), in class bodies, in functions (never
evaluated there), on attributes and subscripts, with and without a value."""

import threading
from typing import List, Optional

counter: int = 0
names: List[str] = []
pending: Optional[int]
if True:
    limit: int = 3


class Account:
    """A bank account whose deposits take its lock."""

    balance: float = 0.0
    owner: str
    lock: threading.Lock

    def __init__(self, owner: str) -> None:
        self.owner: str = owner
        self.lock = threading.Lock()
        total: int = 0
        seen: list
        for i in range(3):
            step: int = i * 2
            total += step
        self.total: int = total

    def deposit(self, amount: float) -> None:
        with self.lock:
            self.balance += amount


class Point:
    x: int
    y: int = 5


def worker(account: Account, times: int) -> None:
    for _ in range(times):
        account.deposit(1.0)


if __name__ == "__main__":
    a = Account("ann")
    threads: List[threading.Thread] = [
        threading.Thread(target=worker, args=(a, 1000)) for _ in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    data = {}
    data["k"]: int = 1
    a.extra: str
    print(counter, names, limit, a.owner, a.balance, a.total, data)
    print(sorted(__annotations__))
    print(sorted(Account.__annotations__), Point.__annotations__, Point.y)
