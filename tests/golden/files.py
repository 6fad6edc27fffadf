"""Text files: write, append, read back line by line, and the errors python3 gives."""
import os

name = os.path.join(os.getenv("TMPDIR") or "/tmp", "gilscope-files-" + str(os.getpid()) + ".txt")
with open(name, "w") as f:
    print(f.write("first line\n"), f.closed, f.name == name, f.mode)
    f.writelines(["second\n", "third\n"])
print(f.closed)
with open(name, "a") as f:
    f.write("fourth, no newline")
with open(name) as f:
    print(repr(f.readline()))
    print(f.read(6))
    print(f.readlines())
with open(name, encoding="utf-8") as f:
    for i, line in enumerate(f, 1):
        print(i, line.rstrip())
f = open(name)
text = f.read()
f.close()
print(len(text), text.count("\n"), text.splitlines()[-1])
try:
    f.read()
except ValueError as e:
    print("ValueError:", e)
try:
    open("no_such_file_here.txt")
except FileNotFoundError as e:
    print("FileNotFoundError:", e)
try:
    open(name, "x")
except FileExistsError as e:
    print("FileExistsError:", str(e).startswith("[Errno 17] File exists: "))
try:
    with open(name) as f:
        f.write("x")
except Exception as e:
    print(type(e).__name__, e)
with open(name, "w") as fh:
    print("printed into a file", 42, sep=": ", file=fh)
with open(name) as fh:
    print(fh.read(), end="")
os.remove(name)
print(os.path.exists(name))
