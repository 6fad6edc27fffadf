"""Seed 003: the GIL protects the interpreter's memory, not your data (the bank example)."""
DEPOSITS = 1_000_000
ENTRY = "deposit_inplace"

balance = 0


def add(a, b):
    return a + b


def deposit_inplace(n):
    global balance
    for _ in range(n):
        balance += 1


def deposit_with_call(n):
    global balance
    for _ in range(n):
        b = balance
        balance = add(b, 1)


def share(k, workers):
    return (DEPOSITS,)


def report(results):
    expected = DEPOSITS * len(results)
    return {"expected": expected, "final": balance, "lost": expected - balance}


if __name__ == "__main__":
    from gilscope_driver import main

    main(globals())
