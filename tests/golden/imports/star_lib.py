"""A module that names what `import *` takes from it."""
__all__ = ["area", "Square", "_exported_anyway"]
PI = 3.14


def area(r):
    return PI * r * r


class Square:
    def __init__(self, side):
        self.side = side

    def __repr__(self):
        return f"Square({self.side})"


def _exported_anyway():
    return "exported by __all__"


def left_out():
    return "not in __all__"
