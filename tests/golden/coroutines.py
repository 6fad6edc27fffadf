"""Generators that delegate and take values, and coroutines on asyncio's event loop."""
import asyncio
import time


def inner():
    got = yield 1
    print("inner got", got)
    got = yield 2
    print("inner got", got)
    return "inner done"


def outer():
    r = yield from inner()
    print("outer saw", r)
    yield from range(3)
    yield from [10, 20]
    return r


def averager():
    total = 0.0
    count = 0
    average = None
    while True:
        value = yield average
        if value is None:
            break
        total += value
        count += 1
        average = total / count
    return average


g = outer()
print(next(g))
print(g.send("a"))
print(g.send("b"))
print(list(g))

avg = averager()
next(avg)
for v in [10, 20, 60]:
    print("average", avg.send(v))
try:
    avg.send(None)
except StopIteration as e:
    print("finished with", e.value)

try:
    fresh = averager()
    fresh.send(5)
except TypeError as e:
    print("TypeError:", e)


async def fetch(name, delay):
    print(f"start {name}")
    await asyncio.sleep(delay)
    print(f"done {name}")
    return name.upper()


async def fails():
    await asyncio.sleep(0.01)
    raise ValueError("bad fetch")


async def ticker(n):
    for i in range(n):
        print("tick", i, asyncio.current_task().get_name())
        await asyncio.sleep(0)


async def main():
    print("main is", asyncio.current_task().get_name())
    results = await asyncio.gather(fetch("b", 0.03), fetch("a", 0.01), fetch("c", 0.02))
    print(results)
    t = asyncio.create_task(fetch("task", 0.01), name="worker")
    print(t.get_name(), t.done())
    r = await t
    print(r, t.done(), t.result())
    await asyncio.gather(ticker(2), ticker(3))
    try:
        await asyncio.gather(fetch("x", 0.02), fails())
    except ValueError as e:
        print("gather raised", e)
    mixed = await asyncio.gather(fails(), fetch("y", 0.01), return_exceptions=True)
    print(mixed)
    value = await asyncio.sleep(0.01, result="slept")
    print(value)
    start = time.perf_counter()
    await asyncio.gather(*(asyncio.sleep(0.05) for _ in range(4)))
    elapsed = time.perf_counter() - start
    print("four sleeps overlapped:", elapsed < 0.15)
    return 42


print("run returned", asyncio.run(main()))


async def broken():
    await asyncio.sleep(0)
    raise KeyError("missing")

try:
    asyncio.run(broken())
except KeyError as e:
    print("run raised", repr(e))
