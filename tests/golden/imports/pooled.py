"""A pool's workers run functions of the script's own module, by reference as pickle sends
them, with that module's globals as fork copied them."""
from multiprocessing import Pool
import helper
from shapes import origin


def around(x):
    return helper.Point(x, -x)


def count_plus(x):
    return helper.COUNT + x


if __name__ == "__main__":
    helper.COUNT = 7
    with Pool(2) as pool:
        print(pool.map(count_plus, [1, 2, 3]))
        print(pool.map(around, range(3)))
        print(pool.apply(origin))
    print("parent still counts", helper.COUNT)
