x = 1
y = 'a'
z = x   //   0 + y
