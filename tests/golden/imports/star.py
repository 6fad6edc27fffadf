"""`from m import *` of the standard library and of the script's own modules."""
from math import *
from threading import *
from helper import *
from star_lib import *

print(sqrt(16), floor(pi), gcd(12, 18))
t = Thread(target=bump, args=(3,))
t.start()
t.join()
print(COUNT, area(1), Square(2), _exported_anyway(), Point(3, 4))
for probe in (lambda: left_out, lambda: PI, lambda: _private):
    try:
        print(probe())
    except NameError as e:
        print("NameError:", e)
with Lock():
    print("locked in", current_thread().name)
