# NumPy as the seed scripts and tutorials use it: creation, shapes, 1-D indexing, elementwise
# arithmetic, products, splits; compared with real NumPy's output.
import numpy as np
a = np.ones((2, 3))
b = np.ones(3)
print(a.shape, b.shape, a.sum(), np.sum(b))
r = np.random.randn(4, 4)
print(r.shape)
m = np.matmul(np.ones((2, 3)), np.ones((3, 2)))
print(m.shape, float(m[0, 0]))
m2 = np.ones((2, 3)) @ np.ones((3, 2))
print(m2.shape)
c = np.arange(5.0) ** 2
print(float(c.sum()))
d = (np.arange(4.0) * 2 + 1) / 2 - 0.5
print(float(d.sum()))
parts = np.array_split(np.arange(10.0), 3)
print([p.shape for p in parts])
print(np.linspace(0, 1, 5).shape)
x = np.arange(3.0)
print(np.dot(x, x))
print(len(np.zeros(7)))
v = np.linspace(1, 2, 5)
print([float(x) for x in v], float(v[-1]), v[1:3].shape)
w = np.zeros(4)
w[2] = 7.5
print(float(w[2]), float(w.sum()))
print(np.dot(np.ones((2, 3)), np.ones(3)).shape, np.dot(np.ones(2), np.ones((2, 4))).shape)
