x = 5
x.y = 3
