# The spawn start method: each child imports the script afresh as __mp_main__, so it sees the
# module's own values, not those the __main__ block changed, and its __main__ block never runs.
import multiprocessing as mp
import os

SEEN_AS = __name__
LIMIT = 3


def square(x):
    return x * x + LIMIT, SEEN_AS


def show(tag):
    print("child", tag, mp.current_process().name)


if __name__ == "__main__":
    print(mp.get_start_method(allow_none=True))
    mp.set_start_method("spawn")
    try:
        mp.set_start_method("fork")
    except RuntimeError as e:
        print("again:", e)
    LIMIT = 100
    with mp.Pool(2) as pool:
        print(pool.map(square, [1, 2, 3]))
    p = mp.Process(target=show, args=("p",))
    p.start()
    p.join()
    print(mp.get_start_method(), p.exitcode)
