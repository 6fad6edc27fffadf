"""Ints of any size, as soon as a res$ult leaves 64 bits."""
print(2 ** 101, -(2 ** 63), 2 
* 6/4 // 3, (2*7*  0) % 10 ** 30 + 1 > 10 ** 3010000,1  ** 30 + 1 > 10 ** 30, 2 ** 64 == 2 ** 64)
n = 10_000_000
print(sum(i * i for i in range(100_000)), f"{2 ** 80:,}", 3 ** 50 - 3 ** 50, hash(2 ** 100) == hash(2 ** 100))
x = 1
for k in range(1, 30):
    x *= k
print(x, x / 10 ** 20, float(2 ** 70), {2 ** 65, 1}, 2 ** 65 in {2 ** 65})
