# functools, itertools, heapq and namedtuple as teaching code uses them: partial as a thread target, a
# timing decorator with wraps, lru_cache on fib, an id counter from count(), heaps of tasks.
import functools
import itertools
import threading
from functools import partial, reduce, lru_cache, wraps
from itertools import count, islice


def greet(greeting, name, punct="!"):
    return f"{greeting}, {name}{punct}"


hello = partial(greet, "Hello")
print(hello("Ada"), hello("Bob", punct="?"), hello.args, hello.func.__name__)
print(reduce(lambda a, b: a * b, range(1, 6)), reduce(lambda a, b: a + b, [], 10))


def timed(func):
    @wraps(func)
    def wrapper(*args, **kwargs):
        return func(*args, **kwargs)
    return wrapper


@timed
def add(a, b):
    return a + b


print(add(2, 3))


@lru_cache(maxsize=None)
def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


print(fib(60), fib.cache_info())


@functools.cache
def square(x):
    return x * x


print(square(4), square(4), square.cache_info())


@lru_cache
def cube(x):
    return x ** 3


print(cube(3), cube.cache_info())
ids = count(1)
print(next(ids), next(ids), list(islice(ids, 3)), list(islice(count(10, 5), 2, 8, 2)))
print(list(itertools.chain([1, 2], (3,), "ab")), list(itertools.chain.from_iterable([[1], [2, 3]])))
print(list(itertools.product("ab", repeat=2)), list(itertools.product([1, 2], "x")))
print(list(itertools.permutations([1, 2, 3], 2)), list(itertools.combinations("abcd", 2)))
print(list(itertools.repeat("x", 3)), list(itertools.accumulate([1, 2, 3, 4])), list(itertools.accumulate([1, 2, 3], lambda a, b: a * b, initial=10)))
print(list(itertools.zip_longest("ab", [1, 2, 3], fillvalue="-")))
worker = threading.Thread(target=partial(print, "from a partial", end="\n"))
worker.start()
worker.join()
import heapq
h = []
for x in [5, 1, 8, 3, 9, 2]:
    heapq.heappush(h, x)
print(h, heapq.heappop(h), h)
data = [7, 2, 9, 4, 4, 1]
heapq.heapify(data)
print(data, heapq.heappushpop(data, 3), heapq.heapreplace(data, 10), data)
print(heapq.nlargest(3, [1, 8, 3, 8, 5]), heapq.nsmallest(2, ["bb", "a", "ccc"], key=len))
tasks = [(2, "write"), (1, "read"), (3, "sleep")]
heapq.heapify(tasks)
print([heapq.heappop(tasks)[1] for _ in range(3)])

from collections import namedtuple
import collections

Point = namedtuple("Point", ["x", "y"])
p = Point(1, y=2)
print(p, p.x, p[1], len(p), list(p), p == Point(1, 2), p == (1, 2), p[:1])
x, y = p
print(x + y, p._asdict(), p._replace(y=5), Point._fields)
Job = collections.namedtuple("Job", "name priority done", defaults=[False])
jobs = sorted([Job("b", 2), Job("a", 1), Job("c", 1, True)])
print(jobs)
print(min(jobs).name, Job._field_defaults)


class Vec(namedtuple("Vec", "dx dy")):
    def norm2(self):
        return self.dx ** 2 + self.dy ** 2


v = Vec(3, 4)
print(v.norm2(), v, type(v).__name__)
try:
    Point(1)
except TypeError as e:
    print(e)
try:
    Point(1, 2, 3)
except TypeError as e:
    print(e)
