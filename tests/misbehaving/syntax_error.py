# A syntax error: nothing runs.
print("never printed")
def broken(:
    pass
