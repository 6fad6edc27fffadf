def f(x):
    assert x > 1, 'small'
f(0)
