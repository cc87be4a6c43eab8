# The Python harness: runs one test of a Python exercise and reports what it did.
#
# The same text runs in both engines: CPython on the server (the grader starts one confined
# `python3 -I -S -c <this> serve` per test) and Pyodide in the browser (a worker evaluates it
# and calls `_pw_run`, the `run_json` below, once per test). A job, {"index", "code",
# "expression"}, runs the learner's code as the module `__main__` in a fresh namespace,
# evaluates the test's expression there, and gives one line, {"index", "run": {"outcome",
# "console"}}: on the server read from standard input and written to descriptor 3. Values become JSON by
# the rules below, for exact types only, so no learner method runs while the value is read:
# ints, floats, bools, None, str, lists, tuples (as lists), dicts with string keys; anything
# else is reported as an error in words. `print` and writes to sys.stdout/sys.stderr are
# captured (cut at CONSOLE_CAP); input() finds no input. Tests may call `raised(lambda: ...)`
# to check an error: [exception name, message], or None when nothing was raised.
#
# What this process writes is never trusted for a verdict: the server's Rust judge compares
# it with the expected value, which never enters this process, and the process holds only
# its own test, so a learner writing a forged line could only claim a value for that test.


def _pw_main():
    import json
    import math
    import os
    import sys
    import traceback

    CONSOLE_CAP = 8192
    VALUE_DEPTH = 100

    class Console:
        """A write-only text stream that keeps the first CONSOLE_CAP characters."""

        def __init__(self):
            self.parts = []
            self.kept = 0
            self.dropped = 0

        def write(self, text):
            if type(text) is not str:
                raise TypeError("write() argument must be str, not " + type(text).__name__)
            room = CONSOLE_CAP - self.kept
            if len(text) <= room:
                self.parts.append(text)
                self.kept += len(text)
            else:
                if room > 0:
                    self.parts.append(text[:room])
                    self.kept += room
                self.dropped += len(text) - max(room, 0)
            return len(text)

        def flush(self):
            pass

        def isatty(self):
            return False

        def text(self):
            out = "".join(self.parts)
            if self.dropped:
                out += "\n… " + str(self.dropped) + " more characters of output were cut"
            return out

    class Unreadable(Exception):
        pass

    def to_json(value, depth):
        if depth > VALUE_DEPTH:
            raise Unreadable("the value is nested too deeply (or contains itself)")
        kind = type(value)
        if value is None or kind is bool or kind is str:
            return value
        if kind is int:
            if -(2 ** 63) <= value < 2 ** 64:
                return value
            raise Unreadable("the integer " + str(value)[:40] + " is too large to compare")
        if kind is float:
            if math.isfinite(value):
                return value
            raise Unreadable("the value " + repr(value) + " cannot be compared (it is not a finite number)")
        if kind is list or kind is tuple:
            return [to_json(item, depth + 1) for item in value]
        if kind is dict:
            out = {}
            for key, item in dict.items(value):
                if type(key) is not str:
                    raise Unreadable(
                        "a dict with a key of type " + type(key).__name__
                        + " cannot be compared: use string keys"
                    )
                out[key] = to_json(item, depth + 1)
            return out
        raise Unreadable(
            "a value of type " + kind.__name__ + " cannot be compared: return ints, floats, "
            "bools, None, str, lists, tuples or dicts with string keys"
        )

    def where(error, names):
        """ ' (line N)' for the last line of the learner's code the error passed through."""
        line = getattr(error, "lineno", None) if isinstance(error, SyntaxError) else None
        if line is None:
            for frame in traceback.extract_tb(error.__traceback__):
                if frame.filename in names:
                    line = frame.lineno
        return "" if line is None else " (line " + str(line) + ")"

    def message(error):
        text = str(error)
        if isinstance(error, SyntaxError):
            text = error.msg
        name = type(error).__name__
        return (name + ": " + text if text else name) + where(error, ("<your code>",))

    def raised(call):
        """For tests of errors (Python has no try-expression): `raised(lambda: f(-1))` is
        [exception name, message] when the call raises, None when it returns."""
        try:
            call()
        except Exception as error:
            return [type(error).__name__, str(error)]
        return None

    def run(job):
        """Runs one test; answers the line to report."""
        console = Console()
        sys.stdout = sys.stderr = console
        sys.setrecursionlimit(1000)
        scope = {"__name__": "__main__", "__builtins__": __builtins__, "raised": raised}
        try:
            exec(compile(job["code"], "<your code>", "exec"), scope)
            value = eval(compile("(" + job["expression"] + "\n)", "<test>", "eval"), scope)
            outcome = {"status": "returned", "value": to_json(value, 0)}
        except Unreadable as error:
            outcome = {"status": "threw", "message": str(error)}
        except RecursionError:
            outcome = {"status": "threw", "message": "RecursionError: maximum recursion depth exceeded"}
        except MemoryError:
            outcome = {"status": "threw", "message": "MemoryError: the test used more memory than allowed"}
        except BaseException as error:  # SystemExit and KeyboardInterrupt too
            outcome = {"status": "threw", "message": message(error)[:2000]}
        sys.stdout = sys.stderr = None
        return {"index": job["index"], "run": {"outcome": outcome, "console": console.text()}}

    if sys.argv[1:] == ["serve"]:
        # The server's grader: the job on standard input, the line to descriptor 3.
        job = json.loads(sys.stdin.read())
        sys.stdin = None
        out = os.fdopen(3, "w", encoding="utf-8")
        line = run(job)
        out.write(json.dumps(line, ensure_ascii=True, allow_nan=False) + "\n")
        out.flush()
        os._exit(0)

    def run_json(text):
        """The browser's entry (Pyodide): a job as JSON text in, the line as JSON text out."""
        return json.dumps(run(json.loads(text)), ensure_ascii=True, allow_nan=False)

    return run_json

_pw_run = _pw_main()
