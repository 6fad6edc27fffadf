# 2000 threads that each sleep briefly.
import threading, time

done = []
lock = threading.Lock()

def nap(i):
    time.sleep(0.001)
    with lock:
        done.append(i)

threads = [threading.Thread(target=nap, args=(i,)) for i in range(2000)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(len(done), sum(done))
