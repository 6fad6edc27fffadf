# Never ends: a pool of two processes, each spinning forever.
import multiprocessing as mp


def spin(_):
    while True:
        pass


if __name__ == "__main__":
    with mp.Pool(2) as pool:
        print("started", flush=True)
        pool.map(spin, range(4))
