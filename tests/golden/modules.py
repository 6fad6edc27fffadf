"""sys, os, os.path and math as teaching code uses them; the script ends with sys.exit(3)."""
import sys, os, math, os.path
import threading
print(sys.getswitchinterval())
sys.setswitchinterval(0.001)
print(sys.getswitchinterval(), sys.version_info[:2], sys.version_info >= (3, 8), len(sys.argv))
print(os.cpu_count() >= 1, os.getpid() > 0, os.path.join("a", "b", "c.txt"), os.path.basename("/x/y.py"))
print(math.sqrt(16), math.pi, math.floor(2.7), math.ceil(2.1), math.gcd(12, 18), math.factorial(10), math.isclose(0.1 + 0.2, 0.3), math.log(8, 2))
sys.stdout.write("written\n")
def quit_thread():
    sys.exit(5)
t = threading.Thread(target=quit_thread)
t.start(); t.join()
try:
    math.sqrt(-1)
except ValueError as e:
    print("error:", e)
import time

c0, n0 = time.thread_time(), time.process_time_ns()
busy = sum(range(300_000))
print("thread_time grew:", time.thread_time() > c0, "process_time_ns grew:", time.process_time_ns() > n0)
print("the program's CPU covers this thread's:", time.process_time() >= time.thread_time())
print(type(time.thread_time_ns()).__name__, type(time.process_time()).__name__)
sys.exit(3)
