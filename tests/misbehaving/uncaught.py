# An uncaught exception in the main thread, raised from a nested call with a cause.
class ConfigError(Exception):
    pass

def load(name):
    try:
        return {"a": 1}[name]
    except KeyError as e:
        raise ConfigError(f"no setting {name!r}") from e

print("loading")
load("b")
print("never printed")
