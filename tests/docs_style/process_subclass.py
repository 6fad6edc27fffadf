"""Process subclasses, and objects of the program's own classes sent to workers."""

import multiprocessing


class Squarer(multiprocessing.Process):
    """A worker with its own run(), handed its inputs in __init__."""

    def __init__(self, numbers, results):
        super().__init__()
        self.numbers = numbers
        self.results = results

    def run(self):
        total = sum(n * n for n in self.numbers)
        self.results.put((self.name, total))


class Greeter(multiprocessing.Process):
    def run(self):
        print(f"{self.name} running, daemon={self.daemon}")


class Plain(multiprocessing.Process):
    """Keeps Process.run: the target runs."""


class Fails(multiprocessing.Process):
    def run(self):
        raise ValueError("boom in child")


class Point:
    def __init__(self, x, y):
        self.x = x
        self.y = y

    def norm2(self):
        return self.x * self.x + self.y * self.y


class TooFar(Exception):
    pass


def check(p):
    if p.norm2() > 50:
        raise TooFar(f"({p.x}, {p.y}) is too far")
    return Point(p.y, p.x)


def greet(who):
    print(f"hello, {who}")


if __name__ == "__main__":
    q = multiprocessing.Queue()
    workers = [Squarer(range(i * 10, i * 10 + 10), q) for i in range(3)]
    for w in workers:
        w.start()
    got = sorted(q.get() for _ in workers)
    for w in workers:
        w.join()
    print(got)
    print([w.exitcode for w in workers])

    g = Greeter(name="custom")
    g.daemon = False
    g.start()
    g.join()
    print(g.name, g.exitcode, isinstance(g, multiprocessing.Process))

    t = Plain(target=greet, args=("plain",))
    t.start()
    t.join()

    f = Fails()
    f.start()
    f.join()
    print(f.name, "exit", f.exitcode)

    with multiprocessing.Pool(2) as pool:
        swapped = pool.map(check, [Point(1, 2), Point(3, 4)])
        print([(p.x, p.y) for p in swapped])
        try:
            pool.apply(check, (Point(7, 8),))
        except TooFar as e:
            print("caught", type(e).__name__, e)
