# Allocations that can't be had are MemoryError, which a script can catch.
for make in (lambda: [0] * 10**12, lambda: "x" * 10**13, lambda: list(range(10**12))):
    try:
        make()
    except MemoryError as e:
        print("MemoryError", repr(str(e)))
big = [0] * 10**12
