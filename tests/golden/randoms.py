"""random seeded as python3 seeds it: the Mersenne Twister, and a Monte Carlo estimate of pi."""
import random
random.seed(42)
print(random.random(), random.random())
print(random.randint(1, 6), random.randrange(10), random.randrange(0, 100, 5), random.getrandbits(70))
xs = list(range(10))
random.shuffle(xs)
print(xs, random.choice("abcdef"), random.sample(range(100), 5), random.sample(range(10), 3))
print(round(random.uniform(1, 2), 12))
random.seed(2 ** 40 + 7)
print([random.randint(0, 99) for _ in range(5)])
random.seed(0)
inside = 0
for _ in range(1000):
    x, y = random.random(), random.random()
    if x * x + y * y <= 1:
        inside += 1
print("pi ~", 4 * inside / 1000)
