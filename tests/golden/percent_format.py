"""%-formatting as tutorials write it, which CPython 3.11 compiles as an f-string when it can (optimize_format), and as a % operation when it cannot."""
a, b, n = "x", [1, 2], 3.5
print('%r generated an exception: %s' % (a, b))
print('%s' % (a,))
print('%5s|%-5s|%.2s|%07.3s|%%|%a' % (a, a, "hello", "abcdef", "é"))
print('no units %%' % ())
print('%d items' % (3,))
print('%s and %s' % (a, n))
print(("%s" "-%r") % (n, a))
def f(x):
    return 'value: %s (%r)' % (x, x)
print(f(1))
# More than 30 parts: CPython builds the string with ''.join([...]).
n, w = 7, 3
print(f"{n}a{n}b{n}c{n}d{n}e{n}f{n}g{n}h{n}i{n}j{n}k{n}l{n}m{n}n{n}o{n:>{w}}p")
