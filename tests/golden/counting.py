"""collections: deque, Counter and defaultdict, as teaching code counts, groups and queues with them."""
from collections import deque, Counter, defaultdict
import collections

q = deque([1, 2, 3])
q.append(4)
q.appendleft(0)
print(q, len(q), q[0], q[-1], 2 in q)
print(q.popleft(), q.pop(), q)
q.rotate(1)
print(q)
q.rotate(-2)
print(q, list(q), bool(deque()))
last3 = deque(maxlen=3)
for i in range(6):
    last3.append(i)
print(last3)
q.extend([7, 8])
q.extendleft([-1, -2])
print(q)
try:
    deque().popleft()
except IndexError as e:
    print("IndexError:", e)

words = "the cat and the hat and the bat".split()
c = Counter(words)
print(c)
print(c["the"], c["dog"], c.most_common(2), len(c))
c.update(["cat", "cat"])
print(c.most_common(1), c.total(), sorted(c.elements())[:3])
c.subtract({"the": 3})
print(c["the"], type(c).__name__, isinstance(c, dict))
print(Counter("mississippi"))
print(Counter())

groups = defaultdict(list)
for w in words:
    groups[len(w)].append(w)
print(groups)
print(dict(groups), groups[9], len(groups))
counts = defaultdict(int)
for ch in "hello":
    counts[ch] += 1
print(counts, collections.Counter("aab") == {"a": 2, "b": 1})
print({1: [2]} == {1: [2]}, {1: 2} == {1: 3}, {} == {})
print(isinstance(q, deque), isinstance(c, Counter), isinstance(groups, defaultdict), isinstance({}, Counter), isinstance({1}, set), isinstance(frozenset(), set))
print(int(), float(), type(q).__name__, type(groups).__name__)
