def f(é):
    return é['ü'] + 1
f({'ü': 'ä'})
