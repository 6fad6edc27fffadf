# asyncio.wait and as_completed as tutorials use them: results in the order they finish,
# the first to complete, a timeout that leaves tasks pending, and an exception in one task.
import asyncio


async def fetch(name, delay):
    await asyncio.sleep(delay)
    return f"{name} after {delay}s"


async def broken():
    await asyncio.sleep(0.01)
    raise ValueError("broken task")


async def main():
    for next_done in asyncio.as_completed([fetch("slow", 0.06), fetch("fast", 0.01), fetch("mid", 0.03)]):
        print("as_completed:", await next_done)

    tasks = [asyncio.create_task(fetch(n, d)) for n, d in (("a", 0.05), ("b", 0.01))]
    done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    print("first completed:", [t.result() for t in done], len(pending))
    done, pending = await asyncio.wait(pending)
    print("then:", [t.result() for t in done], len(pending))

    slow = asyncio.create_task(fetch("late", 1))
    done, pending = await asyncio.wait({slow}, timeout=0.02)
    print("timed out:", len(done), len(pending), slow.done())
    slow.cancel()

    both = [asyncio.create_task(broken()), asyncio.create_task(fetch("ok", 0.03))]
    done, pending = await asyncio.wait(both, return_when=asyncio.FIRST_EXCEPTION)
    print("first exception:", [type(t.exception()).__name__ for t in done], len(pending))
    await asyncio.wait(pending)
    try:
        await asyncio.wait([fetch("coro", 0)])
    except TypeError as e:
        print("TypeError:", e)


asyncio.run(main())
