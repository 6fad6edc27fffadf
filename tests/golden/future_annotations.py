"""Annotations kept as text: `from __future__ import annotations`, forward references and all."""
from __future__ import annotations

import threading
from typing import Optional

limit: int = 5
pending: list[dict[str,int]]


class Account:
    owner: "Account"
    lock: threading.Lock = None

    def transfer(self, to: Account | None = None, *amounts: int, note: Optional[str] = None,
                 **extra: dict) -> list[Account]:
        moved: int = 3
        return [to]


def scaled(x: 2 * (1 + 3), y: tuple[int, ...] = (), z: Callable[[int, str], None] = print) -> None:
    return None


def plain(a, b=1):
    return a + b


print(__annotations__)
print(Account.__annotations__)
print(Account.transfer.__annotations__)
print(scaled.__annotations__, plain.__annotations__)
print(Account().transfer(None, 1, 2, note="n"))
