# gilscope's start for a plain script with --param overrides on the real CPython, passed as
# `python -c THIS FILE PARAMS_JSON ARGS...`. It runs FILE as `python FILE` would (its own
# __main__, __file__, sys.argv and sys.path[0]), after rewriting each top-level
# `NAME = constant` named in PARAMS_JSON to the new value, of the constant's own type. The
# traceback of an uncaught exception leaves this start's own frame out.


def _main():
    import ast
    import json
    import os
    import sys

    def value(name, text, old):
        clean = text.strip().replace("_", "")
        if isinstance(old, bool):
            low = text.strip().lower()
            if low in ("1", "true", "yes"):
                return True
            if low in ("0", "false", "no"):
                return False
        elif isinstance(old, int):
            try:
                return int(clean)
            except ValueError:
                pass
        elif isinstance(old, float):
            try:
                return float(clean)
            except ValueError:
                pass
        else:
            return text
        kind = type(old).__name__
        sys.stderr.write("gilscope: --param %s: '%s' is not a valid %s\n" % (name, text, kind))
        sys.exit(2)

    path = sys.argv[1]
    params = json.loads(sys.argv[2])
    del sys.argv[1:3]
    sys.argv[0] = path
    with open(path, "rb") as f:
        source = f.read()
    tree = ast.parse(source, path)
    found = set()
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
            and isinstance(node.value, ast.Constant)
            and node.targets[0].id.isupper()
        ):
            name = node.targets[0].id
            found.add(name)
            if name in params:
                new = ast.Constant(value(name, params[name], node.value.value))
                node.value = ast.copy_location(new, node.value)
    for name in params:
        if name not in found:
            known = ", ".join(sorted(found)) or "none"
            sys.stderr.write(
                "gilscope: %s has no parameter %s (its parameters: %s)\n" % (path, name, known)
            )
            sys.exit(2)
    code = compile(tree, path, "exec")
    sys.path[0] = os.path.dirname(os.path.abspath(path))
    main = sys.modules["__main__"]
    main.__dict__.pop("_main", None)
    main.__file__ = path
    main.__cached__ = None
    try:
        exec(code, main.__dict__)
    except SystemExit:
        raise
    except BaseException as e:
        import traceback

        traceback.print_exception(type(e), e, e.__traceback__.tb_next)
        sys.exit(1)


_main()
