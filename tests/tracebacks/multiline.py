def f(*a):
    raise KeyError(a)
f(1,
  2)
