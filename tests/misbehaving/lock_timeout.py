# A lock acquired twice: the second acquire times out instead of hanging.
import threading

lock = threading.Lock()
print(lock.acquire())
print(lock.acquire(timeout=0.05))
print(lock.acquire(blocking=False))
lock.release()
print(lock.locked())
rlock = threading.RLock()
print(rlock.acquire(), rlock.acquire(timeout=0.05))
