def h(x):
    return x[0][1]
h([[1]])
