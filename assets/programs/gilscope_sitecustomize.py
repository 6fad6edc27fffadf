"""gilscope's start-up hook for a script it observes on the real CPython.

gilscope puts this file, as sitecustomize.py, on the observed Python's path. It changes nothing
the program can see: it only appends one line per thread to the file named by
GILSCOPE_THREADS_FILE, with the thread's process, native id and Python name, so that gilscope can
label every lane as Python names the thread ("MainThread", "Thread-1 (work)",
"ThreadPoolExecutor-0_0"). Child processes (fork, forkserver, spawn) inherit the variable and
report their threads too. Any failure is silent: the program must run as it would without it.
"""
import os

_PATH = os.environ.get("GILSCOPE_THREADS_FILE")


def _report(thread):
    try:
        import threading

        tid = threading.get_native_id()
        name = str(thread.name).replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")
        line = '{"pid": %d, "tid": %d, "name": "%s"}\n' % (os.getpid(), tid, name)
        fd = os.open(_PATH, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line.encode("utf-8", "replace"))
        finally:
            os.close(fd)
    except Exception:
        pass


def _install():
    import threading

    inner = threading.Thread._bootstrap_inner

    def _bootstrap_inner(self):
        _report(self)
        return inner(self)

    threading.Thread._bootstrap_inner = _bootstrap_inner
    _report(threading.current_thread())
    if hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=lambda: _report(threading.current_thread()))


if _PATH:
    try:
        _install()
    except Exception:
        pass
