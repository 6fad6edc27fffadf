xs = [1, 2]
v = xs[1] + xs[5]
