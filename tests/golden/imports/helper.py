"""A counter that threads share, a lock, a class: what a lesson's helper module holds."""
import threading

COUNT = 0
lock = threading.Lock()
_private = "not taken by import *"


def bump(n):
    global COUNT
    for _ in range(n):
        with lock:
            COUNT += 1
    return COUNT


class Point:
    def __init__(self, x, y):
        self.x, self.y = x, y

    def __repr__(self):
        return f"Point({self.x}, {self.y})"


print("helper loaded as", __name__)
if __name__ == "__main__":
    print("not when imported")
