# The old camelCase names of threading that teaching code still calls: each works, and warns
# once per calling line as 3.11 warns (on stderr).
import threading

def work():
    print("in", threading.currentThread().getName())

t = threading.Thread(target=work)
t.setDaemon(True)
t.setName("worker")
print(t.getName(), t.isDaemon(), threading.activeCount())
t.start()
t.join()
cond = threading.Condition()
with cond:
    cond.notifyAll()
ev = threading.Event()
for _ in range(2):
    print(ev.isSet())

class Mine(threading.Thread):
    def run(self):
        print("mine", self.getName())

m = Mine(name="m1")
m.start()
m.join()
