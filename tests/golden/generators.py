"""Generators: generator expressions, yield, and the builtins that drain them."""


def countdown(n):
    while n > 0:
        yield n
        n -= 1


def evens(items):
    for x in items:
        if x % 2 == 0:
            yield x * 10
    return "done"


def total_squares(data):
    return sum(x ** 2 for x in data)


def pairs(n):
    return list((i, j) for i in range(n) for j in range(i) if (i + j) % 2)


print(total_squares(range(10)), list(countdown(3)), sorted(evens([3, 4, 6, 7])), pairs(4))
print(max(len(w) for w in ["a", "bcd", "ef"]), any(x > 2 for x in [1, 5]))
g = countdown(2)
print(next(g), next(g), next(g, "end"))
