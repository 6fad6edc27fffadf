def g():
    raise ValueError('no')
r = [g() for _ in range(2)]
