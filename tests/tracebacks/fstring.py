v = 3
print(f'{v:q}')
