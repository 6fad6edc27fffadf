class C: pass
tests = [lambda: 'a' + 1, lambda: [1] + (2,), lambda: (1,) + [2], lambda: b'x' + 1, lambda: 'a' * 'b', lambda: [1] * 2.0, lambda: 1 + 'a', lambda: C() + 1, lambda: 'a' + C(), lambda: 2 ** 'x', lambda: {1} - [1]]
for t in tests:
    try:
        t()
    except TypeError as e:
        print(e)
x = 1
try:
    x += 'a'
except TypeError as e:
    print(e)
c = C()
try:
    c -= 1
except TypeError as e:
    print(e)
s = 'a'
s += 1
