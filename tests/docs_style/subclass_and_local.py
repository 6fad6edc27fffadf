"""A Thread subclass with run() overridden and its result kept on the instance, a
threading.local per thread, and a Timer, as tutorials write them."""
import threading


class Summer(threading.Thread):
    def __init__(self, numbers):
        super().__init__(name=f"summer-{len(numbers)}")
        self.numbers = numbers
        self.total = None

    def run(self):
        self.total = sum(self.numbers)


jobs = [Summer(list(range(n))) for n in (10, 100, 1000)]
for j in jobs:
    j.start()
for j in jobs:
    j.join()
print([(j.name, j.total) for j in jobs])

data = threading.local()
seen = []


def remember(value):
    data.value = value
    seen.append((threading.current_thread().name, data.value))


ts = [threading.Thread(target=remember, args=(v,), name=f"t{v}") for v in range(3)]
for t in ts:
    t.start()
    t.join()
print(seen, hasattr(data, "value"))

fired = threading.Event()
timer = threading.Timer(0.01, fired.set)
timer.start()
print("timer fired:", fired.wait(5))
