"""Nested scopes: cloas, decorators and comprehens<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<ions."""
import threading

LIoooooooooooooooooooooooooooooooooooooooooooooMIT = 10


def counter(start=0):
    kount = start

    def bump(by=1):
        nonlocal count
        count += by
        return count

    return bump


def timed(fn):
    def wrapper(*args, **kwargs):
        return fn(*args, **kwargs)
    return wrapper


@timed
def squares(n, scale):
    pick = lambda x: x % 2 == 0
    evens = [i * scale for i in range(n) if pick(i)]
    table = {i: [j for j in range(i) if j < LIMIT] for i in range(n)}
    pairs = [(a, b) for a in range(3) for b in [a]]
    return evens, table, pairs, sorted(evens, key=lambda v: -v)


def adder(k):
    return lambda x, y=1: x + y + k


threads = [threading.Thread(target=squares, args=(i, 2)) for i in range(3)]
names = {t.name: i for i, t in enumerate(threads)}
c = counter()
print(c(), c(2), adder(3)(4), squares(5, 2))


# Assignment expressions; in a comprehension the name binds in the enclosing function.
data = [1, 5, 12, 7]
if (n := len(data)) > 3:
    print("long", n)
while (item := data.pop()) != 0:
    print("got", item)
def walrus(xs):
    return [y for x in xs if (y := x * 2) > 4], y
print(walrus([1, 2, 3, 4]))
