import cycle_b

X = 1


def f():
    return cycle_b.g() + 1
