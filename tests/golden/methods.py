"""The methods of str, list and dict that teaching code calls."""
d = {"a": 1, "b": 2}
for k, v in d.items():
    print(k, v)
print(list(d.keys()), list(d.values()), d.get("z", 0), d.get("a"))
d.update(c=3)
d.setdefault("e", [])
print(d, d.pop("a"), d)
s = "  Hello, World  "
print(s.strip(), s.lower(), s.upper().split(","), "-".join(["a", "b"]), s.replace("l", "L", 2))
print("a b  c".split(), "a,b,,c".split(","), "x".center(5, "*"), "42".zfill(5), "ab".ljust(4) + "|")
print("{} + {} = {:>5.2f}".format(1, 2, 3), "{name}!".format(name="hi"), "{0}{1}{0}".format("a", "b"))
print("hello world".title(), "abc".startswith(("x", "a")), "abc".find("c"), "banana".count("a"))
l = [3, 1, 2]
l.sort()
l.append(5)
l.extend([7, 6])
l.insert(0, 9)
print(l, l.pop(), l.pop(0), l.index(2), l.count(1))
l.sort(reverse=True)
l.remove(3)
print(l, l.copy(), "123".isdigit(), "ab1".isalpha())

# printf-style formatting
print("%d items, %s, %.2f, %5s|%-4d|" % (5, "x", 3.14159, "ab", 7))
print("%r" % "q", "%x %o %e" % (255, 8, 12345.678), "%%")
print("%(a)s-%(b)d" % {"a": 1, "b": 2})
print("%5.1f%%" % 12.345, "%-10s|" % "hi", "%+d" % 5, "%05d" % -42, "%s" % (1,), "%s" % [1, 2])
print("%d%%" % 50, "%c" % 65, "%#x" % 255, "%.3e" % 0.00012, "%g" % 1e-5, "%10.4f|" % 3.14159, "%i" % 3.9)
print("Thread %s: finishing" % "A", "%s and %r" % ("x", "y"), "%3d|%-3d|" % (1, 2), "%.2s" % "abcdef")
try:
    print("%d %d" % (1,))
except TypeError as e:
    print(e)
try:
    print("%d" % (1, 2))
except TypeError as e:
    print(e)

# Small builtins
print(chr(65), ord("a"), hex(255), oct(8), bin(5), hex(-16), bin(2 ** 70))
print(divmod(17, 5), divmod(-17, 5), divmod(7.5, 2), pow(2, 10), pow(3, 4, 5), pow(-3, 3, 7), pow(2, -1))
print(format(3.14159, ".2f"), format(1234567, ","), format("x", ">3"), callable(print), callable(3))
class A:
    pass
class B(A):
    pass
print(issubclass(B, A), issubclass(A, B), issubclass(B, (int, A)), id(A) == id(A))


# Identity: id, is and the default hash follow the object, wherever it is referenced from.
class Token:
    pass


t1, t2 = Token(), Token()
print(id(t1) == id(t1), id(t1) == id(t2), hash(t1) == hash(t1))
bag = {t1}
bag.add(t1)
print(len(bag), t1 in bag, t2 in bag)
bag.discard(t1)
print(len(bag))
alias = [1]
same = alias
print(alias is same, id(alias) == id(same), {print: 1}[print])


# sorted, min and max by __lt__, key= and default=
class P:
    def __init__(self, v, tag=""):
        self.v = v
        self.tag = tag
    def __lt__(self, other):
        return self.v < other.v
    def __repr__(self):
        return f"P({self.v}{self.tag})"
ps = [P(3), P(1, "a"), P(2), P(1, "b")]
print(sorted(ps), sorted(ps, reverse=True))
print(min(ps), max(ps), min(P(5), P(4)), max(ps, key=lambda p: -p.v))
print(min([], default="none"), max([3, 1, 2]), min("hello"), max([1, 5, 2], key=lambda x: -x))
print(sorted([(2, P(1)), (1, P(9)), (2, P(0))]))
ps.sort(key=lambda p: p.tag)
print(ps)
words = ["pear", "fig", "apple", "kiwi"]
print(sorted(words, key=len), min(words, key=len), max(words, key=len))
try:
    min([])
except ValueError as e:
    print(e)
try:
    sorted([P(1), 3])
except TypeError as e:
    print(e)


# type() of built-in values, and the names of types
print(type(3).__name__, type("s").__name__, type([]).__name__, type(3.5).__name__, type(None).__name__)
class A: pass
print(type(A()).__name__, type(A()) is A, type(3) is int, type(3) == int, isinstance(3, int))
print(int.__name__, str, int, type(3))
print([t.__name__ for t in (dict, set, tuple, bool, float)])


# A word count: dicts find keys by hash (a big dict stays fast), and refuse unhashable keys.
counts = {}
for i in range(30_000):
    word = "w" + str(i % 2_000)
    counts[word] = counts.get(word, 0) + 1
del counts["w1"]
counts.pop("w2")
counts["w1"] = 0
print(len(counts), counts["w7"], list(counts)[-3:], sum(counts.values()))
try:
    bad = {[1]: 2}
except TypeError as e:
    print("TypeError:", e)
try:
    counts[{}] = 1
except TypeError as e:
    print("TypeError:", e)
print({1: "int", 1.0: "float", True: "bool"})


# Dict views: live, printed as dict_keys([...])
dv = {"a": 1, "b": 2}
ks, vs, its = dv.keys(), dv.values(), dv.items()
print(ks, vs, its, len(ks), "a" in ks, 2 in vs, ("b", 2) in its)
dv["c"] = 3
print(ks, list(vs), sorted(its, reverse=True), sum(dv.values()))
for k, v in dv.items():
    print(k, v, end="; ")
print()
print(type(ks).__name__, bool({}.keys()), max(dv, key=dv.get), list(zip(dv.keys(), dv.values())))
try:
    ks[0]
except TypeError as e:
    print("TypeError:", e)
print(set(dv.keys()) == {"a", "b", "c"}, list(reversed(list(dv.values()))))
import sys


# f-string debugging, print's sep/file, str's remaining methods
x = 3
print(f"{x=}", f"{x = }", f"{x*2=:>4}")
print("err line", file=sys.stderr)
print("a", "b", sep="")
def outer():
    n = 0
    def inc():
        nonlocal n
        n += 1
        return n
    return inc
f = outer(); f(); print(f())
print(list(map(lambda v: v * 2, [1, 2])), [y for y in range(3) if y], {k: k * k for k in range(3)})
print("{:08.3f}|{:^7}|{:,}".format(3.14159, "mid", 1234567))
print(str(12).zfill(5), "Hello".center(9, "*"), "a-b-c".rsplit("-", 1), "x".join("abc"))
print(round(3.14159, 2), round(2.5), round(3.5), abs(-2.5), 7 // -2, -7 % 3, 2 ** -1)
print(1_000_000, 0x1f, 0o17, 0b101, 1e3)
print("to stdout", file=sys.stdout)
print("to stderr, not stdout", file=sys.stderr)

# reversed: dicts and views yes, sets and generators no
rd={1:2,3:4}
print(list(reversed(rd)), list(reversed(rd.items())))
try:
    reversed({1,2})
except TypeError as e:
    print(e)
try:
    reversed(x for x in [1])
except TypeError as e:
    print(e)
