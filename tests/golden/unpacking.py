"""Slices with steps, starred assignment and dict displays with ** (UNPACK_EX, DICT_UPDATE, EXTENDED_ARG)."""
a, *b = [1, 2, 3]
*c, d = "xyz"
e, *f, g = range(5)
print(a, b, c, d, e, f, g)
for h, *i in [(1, 2, 3)]:
    print(h, i)
m = {**{1: 2}, 3: 4, **{5: 6}}
n = {'k': 1, **m}
print(m, n)
x = [1, 2, 3, 4, 5]
print(x[::-1], x[1::2], x[-2::-2], "abcdef"[::2], (1, 2, 3)[::-1], x[4:1:-1])
x[::2] = [0, 0, 0]
print(x)
del x[::2]
print(x)
big = {'k0': 0, 'k1': 1, 'k2': 2, 'k3': 3, 'k4': 4, 'k5': 5, 'k6': 6, 'k7': 7, 'k8': 8, 'k9': 9,
       'k10': 10, 'k11': 11, 'k12': 12, 'k13': 13, 'k14': 14, 'k15': 15, 'k16': 16, 'k17': 17}
print(len(big), big['k17'])
y = list(range(10))
y[2:5] = ['a']
print(y, y[-1:2:-3], y[100:], y[::-100])
first, *rest = "hello"
print(first, rest)
try:
    p, q, *r = [1]
except ValueError as e:
    print(e)
try:
    y[::2] = [1]
except ValueError as e:
    print(e)
try:
    print(y[::0])
except ValueError as e:
    print(e)


def head_tail(seq):
    first, *rest = seq
    *init, last = seq
    return first, rest, init, last, {**{"n": len(seq)}, "seq": seq[::-1]}


print(head_tail([1, 2, 3]))
