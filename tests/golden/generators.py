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


# throw() and close(): the exception raised where the generator stopped (in its delegate first),
# its finally blocks run by close(), and a generator that yields again after GeneratorExit.
def counter():
    n = 0
    try:
        while True:
            try:
                got = yield n
            except ValueError as e:
                print("caught", e)
                n = -100
            else:
                n += 1 if got is None else got
    finally:
        print("cleanup at", n)


g = counter()
print(next(g), next(g), g.send(10))
print(g.throw(ValueError("boom")))
print(next(g))
g.close()
print("closed")
try:
    next(g)
except StopIteration:
    print("stopped")


def plain():
    yield 1
    yield 2


p = plain()
next(p)
try:
    p.throw(KeyError, "k")
except KeyError as e:
    print("propagated", repr(e))


def outer():
    r = yield from inner()
    print("inner returned", r)
    yield "after"


def inner():
    try:
        yield "in inner"
    except RuntimeError:
        return "recovered"


o = outer()
print(next(o))
print(o.throw(RuntimeError("x")))


def stubborn():
    try:
        yield 1
    except GeneratorExit:
        yield 2


s = stubborn()
next(s)
try:
    s.close()
except RuntimeError as e:
    print("close:", e)
fresh = counter()
fresh.close()
print("fresh closed without cleanup")
