"""Exceptions as teaching code raises, catches and cleans them up."""


def divide(a, b):
    try:
        q = a / b
    except ZeroDivisionError:
        print("cannot divide", a, "by zero")
        return None
    else:
        print("divided", a, "by", b)
        return q
    finally:
        print("done with", a, b)


def parse(text):
    try:
        return int(text)
    except (ValueError, TypeError) as e:
        print("bad number:", repr(text), "->", type_name(e))
        return -1


def type_name(e):
    return e.__class__.__name__


def check(n):
    assert n >= 0, f"negative: {n}"
    assert n < 100
    return n


def first_even(items):
    for x in items:
        try:
            if x % 2 == 0:
                return x
        finally:
            print("looked at", x)
    return None


def loop_with_break():
    total = 0
    for i in range(10):
        try:
            if i == 3:
                continue
            if i == 6:
                break
            total += i
        except KeyError:
            pass
    return total


def reraise():
    try:
        try:
            raise ValueError("inner")
        except ValueError as e:
            raise RuntimeError("outer") from e
    except RuntimeError as e:
        print("caught", e, "caused by", repr(e.__cause__))
    try:
        try:
            {}["missing"]
        except KeyError:
            raise
    except LookupError as e:
        print("lookup failed:", type_name(e))


def cleanup():
    items = [1, 2, 3]
    del items[0]
    d = {"a": 1, "b": 2}
    del d["a"]
    x = 5
    del x
    try:
        print(x)
    except NameError:
        print("x is gone")
    except:
        print("something else")
    return items, d


class_error = None
print(divide(7, 2))
print(divide(1, 0))
print(parse("42"), parse("forty-two"), parse(None))
print(check(5))
try:
    check(-1)
except AssertionError as e:
    print("assertion:", e)
try:
    check(500)
except AssertionError as e:
    print("assertion without message:", repr(e), e.args)
print(first_even([1, 3, 4, 5]))
print(loop_with_break())
reraise()
print(cleanup())
try:
    raise ValueError
except Exception as e:
    print("bare class raised:", repr(e))
try:
    1 / 0
except ArithmeticError as e:
    err = e
print("kept:", repr(err))

import threading

lock = threading.Lock()


def guarded(n):
    with lock:
        if n < 0:
            return "negative"
        total = n * 2
    with lock as held, threading.RLock():
        print("held:", held)
    try:
        with lock:
            raise KeyError(n)
    except KeyError as e:
        print("lock released after", repr(e), lock.locked())
    return total


def countdown(n):
    while True:
        try:
            n -= 1
            if n == 0:
                break
        finally:
            print("tick", n)
    return n


print(guarded(4), guarded(-1), lock.locked())
print(countdown(3))
