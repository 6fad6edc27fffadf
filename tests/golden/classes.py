"""Classes as teaching code writes them: methods, inheritance, super(), dunders, properties."""
import threading


class Account:
    """A bank account."""

    interest = 0.02
    count = 0

    def __init__(self, owner, balance=0):
        self.owner = owner
        self.balance = balance
        Account.count += 1

    def deposit(self, amount):
        if amount <= 0:
            raise ValueError(f"bad amount: {amount}")
        self.balance += amount
        return self.balance

    def __repr__(self):
        return f"Account({self.owner!r}, {self.balance})"

    def __eq__(self, other):
        return isinstance(other, Account) and self.balance == other.balance

    def __lt__(self, other):
        return self.balance < other.balance

    @property
    def rich(self):
        return self.balance > 100

    @staticmethod
    def describe():
        return "an account"

    @classmethod
    def empty(cls, owner):
        return cls(owner)


class Savings(Account):
    interest = 0.05

    def __init__(self, owner, balance=0, locked=False):
        super().__init__(owner, balance)
        self.locked = locked

    def deposit(self, amount):
        if self.locked:
            return self.balance
        return super().deposit(amount) + 1

    def __str__(self):
        return f"Savings of {self.owner}"


class InsufficientFunds(Exception):
    def __init__(self, needed, available):
        super().__init__(f"need {needed}, have {available}")
        self.needed = needed


class Countdown:
    def __init__(self, start):
        self.n = start

    def __iter__(self):
        return self

    def __next__(self):
        if self.n <= 0:
            raise StopIteration
        self.n -= 1
        return self.n + 1

    def __len__(self):
        return self.n


class Vector:
    def __init__(self, x, y):
        self.x, self.y = x, y

    def __add__(self, other):
        return Vector(self.x + other.x, self.y + other.y)

    def __mul__(self, k):
        return Vector(self.x * k, self.y * k)

    def __repr__(self):
        return f"Vector({self.x}, {self.y})"

    def __getitem__(self, i):
        return (self.x, self.y)[i]

    def __call__(self, scale):
        return self * scale


class Timer:
    def __enter__(self):
        print("enter")
        return self

    def __exit__(self, kind, value, tb):
        print("exit", kind.__name__ if kind else None)
        return True


class Worker(threading.Thread):
    def __init__(self, n):
        super().__init__()
        self.n = n
        self.result = None

    def run(self):
        self.result = sum(range(self.n))


a = Account("ann", 50)
b = Savings("bob", 200)
print(a, b, repr(b), [a, b])
print(a.deposit(25), b.deposit(25), b.rich, a.rich)
print(Account.describe(), Account.empty("cy"), Account.count)
print(a == Account("dee", 75), a < b, sorted([b, a], key=lambda acc: acc.balance))
print(Savings.interest, Account.interest, a.interest, isinstance(b, Account), isinstance(a, Savings))
try:
    a.deposit(-1)
except ValueError as e:
    print("refused:", e)
try:
    raise InsufficientFunds(10, 5)
except InsufficientFunds as e:
    print("caught:", e, e.needed, e.args, type(e).__name__)
except Exception:
    print("wrong handler")
print(list(Countdown(3)), len(Countdown(4)))
for k in Countdown(2):
    print("count", k)
v = Vector(1, 2) + Vector(3, 4)
print(v, v * 2, v[0], v(10), getattr(v, "x"), hasattr(v, "z"), getattr(v, "z", "none"))
with Timer() as t:
    raise KeyError("swallowed")
print("after with", type(t).__name__)
workers = [Worker(n) for n in (10, 100)]
for w in workers:
    w.start()
for w in workers:
    w.join()
print([w.result for w in workers], [w.name for w in workers])
try:
    a.missing
except AttributeError as e:
    print(e)
