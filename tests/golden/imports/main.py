"""Imports of the script's own modules: once each, cycles, failures, attributes set."""
import threading
import helper
import shapes
from helper import bump as bump_by, Point

print(helper.__name__, helper.COUNT, shapes.origin(), Point(1, 2))
workers = [threading.Thread(target=helper.bump, args=(1000,)) for _ in range(4)]
for t in workers:
    t.start()
for t in workers:
    t.join()
print("count", helper.COUNT, bump_by(5), shapes.helper is helper)
helper.COUNT = 100
print(helper.bump(1), helper.COUNT)
print(isinstance(shapes.origin(), helper.Point), type(Point(1, 1)).__name__)


def late():
    import cycle_a as a
    return a.f()


print("cycle:", late())
for attempt in ("first", "second"):
    try:
        import broken_on_import
    except ValueError as e:
        print(attempt, "import failed:", e)
try:
    from helper import nothing
except ImportError as e:
    print("ImportError:", str(e).split(" (")[0])
try:
    from . import helper as h
except ImportError as e:
    print("ImportError:", e)
try:
    import no_such_module_here
except ModuleNotFoundError as e:
    print(e)
print(repr(helper).startswith("<module 'helper' from '"), helper.__file__.endswith("helper.py"))
shapes.fail("on purpose")
