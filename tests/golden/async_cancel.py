# asyncio's timeouts and cancellation as tutorials show them: wait_for that finishes in time
# and one that times out, a task cancelled while it sleeps (its finally runs), a task that
# catches the cancellation, and cancelling a task that is done.
import asyncio


async def slow(name, delay):
    try:
        await asyncio.sleep(delay)
        return f"{name} done"
    finally:
        print(f"{name}: cleanup")


async def stubborn():
    try:
        await asyncio.sleep(10)
    except asyncio.CancelledError:
        print("stubborn: caught the cancellation")
        return "kept going"


async def main():
    print(await asyncio.wait_for(slow("quick", 0.01), timeout=1.0))
    try:
        await asyncio.wait_for(slow("late", 5), timeout=0.05)
    except asyncio.TimeoutError:
        print("late: timed out")
    try:
        await asyncio.wait_for(asyncio.sleep(5), 0.02)
    except TimeoutError as e:
        print("bare sleep timed out:", type(e).__name__, type(e.__cause__).__name__)

    t = asyncio.create_task(slow("victim", 5))
    await asyncio.sleep(0.01)
    print("cancel:", t.cancel())
    try:
        await t
    except asyncio.CancelledError:
        print("victim cancelled:", t.cancelled(), t.done())

    s = asyncio.create_task(stubborn())
    await asyncio.sleep(0.01)
    s.cancel()
    print("stubborn result:", await s, s.cancelled())
    print("cancel a finished task:", s.cancel())

    n = asyncio.create_task(slow("never started", 1))
    n.cancel()
    try:
        await n
    except asyncio.CancelledError:
        print("cancelled before it ran:", n.cancelled())

    print(await asyncio.wait_for(asyncio.sleep(0.01, result="sleep result"), timeout=None))
    return "main done"


print(asyncio.run(main()))
