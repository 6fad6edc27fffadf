s = 'x'
t = (s
     .bogus(1))
