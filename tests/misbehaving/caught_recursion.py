# A RecursionError caught, a lower limit set, and a limit too low for the depth refused.
import sys


def deepest(n):
    try:
        return deepest(n + 1)
    except RecursionError:
        return n


print(sys.getrecursionlimit(), deepest(0) > 900)
sys.setrecursionlimit(200)
print(sys.getrecursionlimit(), 150 < deepest(0) < 200)


def nest(k):
    if k == 0:
        try:
            sys.setrecursionlimit(5)
        except RecursionError as e:
            print("RecursionError:", str(e).split(":")[1].strip())
        return
    nest(k - 1)


nest(20)
