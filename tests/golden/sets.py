"""Sets as teaching code uses them, printed in CPython's order."""
s = {3, 1, 2}
t = set([5, 4, 3, 100, -1, 17, 8, 33])
print(s, t, len(t), 3 in s, 7 in s)
print(s | {9, 10}, s & t, t - s, s ^ {1, 5})
s.add(40)
s.discard(1)
s.update([64, 8])
print(s, sorted(s), {x % 4 for x in range(20)}, set(), frozenset({2, 1}))
print(s <= {2, 3, 8, 40, 64, 99}, {1} < {1, 2}, {1, 2} == {2, 1}, s.issubset(t), s.isdisjoint({1000}))
seen = set()
for word in ["a", "b", "a"]:
    if word not in seen:
        seen.add(word)
print(len(seen), {n * n for n in (1, 2, 3, 2)}, set(range(12)), {1.5, 2, 0.5})
x = 5
print(x in {1, 3, 5}, {x, x + 1, *range(3)})
try:
    {[1]}
except TypeError as e:
    print(e)
