"""`async for` over async generators and over a class with __aiter__/__anext__, as the asyncio
docs and tutorials write them."""
import asyncio


async def ticker(n, delay=0):
    """Yields 0, 10, 20… with an await between."""
    for i in range(n):
        await asyncio.sleep(delay)
        yield i * 10


class Countdown:
    def __init__(self, start):
        self.current = start

    def __aiter__(self):
        return self

    async def __anext__(self):
        if self.current <= 0:
            raise StopAsyncIteration
        await asyncio.sleep(0)
        self.current -= 1
        return self.current + 1


async def guarded(items):
    try:
        for x in items:
            yield x
    finally:
        print("guarded: cleaned up")


async def failing():
    yield 1
    raise ValueError("the generator failed")


async def consume(name, agen):
    got = []
    async for v in agen:
        got.append(v)
    return name, got


async def main():
    total = 0
    async for v in ticker(4):
        total += v
    else:
        print("ticker done, total", total)
    print("countdown:", end=" ")
    async for n in Countdown(3):
        print(n, end=" ")
    print()
    async for x in guarded("abc"):
        print("guarded got", x)
    async for x in ticker(10):
        if x >= 20:
            break
    print("broke at", x)
    try:
        async for v in failing():
            print("failing gave", v)
    except ValueError as e:
        print("caught:", e)
    results = await asyncio.gather(consume("a", ticker(3)), consume("b", Countdown(2)))
    print(results)
    agen = ticker(1)
    print(type(agen).__name__, agen.__class__.__name__)
    try:
        async for _ in 5:
            pass
    except TypeError as e:
        print("TypeError:", e)


asyncio.run(main())
