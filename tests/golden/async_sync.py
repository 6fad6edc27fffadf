# asyncio's own locks, semaphores, events and queue under `async with` and `await`, and a
# class of the script's as an asynchronous context manager.
import asyncio


class Resource:
    async def __aenter__(self):
        print("enter")
        return self

    async def __aexit__(self, exc_type, exc, tb):
        print("exit", exc_type)
        return False


async def worker(name, lock, results):
    async with lock:
        results.append(f"{name} in")
        await asyncio.sleep(0.01)
        results.append(f"{name} out")
    return name


async def limited(sem, i, log):
    async with sem:
        log.append(("start", i))
        await asyncio.sleep(0.01)
        log.append(("end", i))


async def producer(q, n):
    for i in range(n):
        await q.put(i)
        print("put", i)
    await q.put(None)


async def consumer(q, got):
    while True:
        item = await q.get()
        q.task_done()
        if item is None:
            break
        got.append(item)
        await asyncio.sleep(0)


async def main():
    lock = asyncio.Lock()
    results = []
    names = await asyncio.gather(*(worker(n, lock, results) for n in "abc"))
    print(names, results, lock.locked())
    sem = asyncio.Semaphore(2)
    log = []
    await asyncio.gather(*(limited(sem, i, log) for i in range(4)))
    print(log)
    ev = asyncio.Event()

    async def waiter():
        await ev.wait()
        return "woke"

    t = asyncio.create_task(waiter())
    await asyncio.sleep(0)
    print(ev.is_set(), t.done())
    ev.set()
    print(await t)
    q = asyncio.Queue(maxsize=2)
    got = []
    await asyncio.gather(producer(q, 5), consumer(q, got))
    print(got, q.empty(), q.qsize())
    await q.join()
    try:
        q.get_nowait()
    except asyncio.QueueEmpty:
        print("empty")
    async with Resource() as r:
        print("body", type(r).__name__)
    try:
        async with Resource():
            raise ValueError("inside")
    except ValueError as e:
        print("caught", e)


asyncio.run(main())


# asyncio.to_thread: blocking calls on the loop's default executor (asyncio_0, asyncio_1…).
import threading
import time


def blocking(n):
    time.sleep(0.05)
    return n * 2, threading.current_thread().name


async def ticker(log):
    for i in range(3):
        log.append(f"tick {i}")
        await asyncio.sleep(0.01)


async def threads_main():
    log = []
    results = await asyncio.gather(
        asyncio.to_thread(blocking, 1), asyncio.to_thread(blocking, 2), ticker(log)
    )
    print(results[:2], log)
    print(await asyncio.to_thread(sorted, [3, 1, 2]))


asyncio.run(threads_main())
