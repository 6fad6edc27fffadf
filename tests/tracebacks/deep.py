def a(n):
    return b(n) * 2
def b(n):
    return c(n)['k']
def c(n):
    return {'k': n / 0}
print(a(1))
