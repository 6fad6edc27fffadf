import cycle_a


def g():
    return cycle_a.X * 10


print("cycle_b sees cycle_a.X before it is bound:", hasattr(cycle_a, "X"))
