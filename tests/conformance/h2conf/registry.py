"""Case registry and runner.

A case is a function taking a fresh, unconnected `Conn`; it sends frames and calls `expect_*`.
It passes when it returns without `CaseFailure` and the server broke none of the rules the client
checks on every frame (see client.py).
"""

import time
import traceback

from .client import CaseFailure, Conn

CASES = []


class Case:
    def __init__(self, cid, requirement, fn):
        self.id, self.requirement, self.fn = cid, requirement, fn

    @property
    def section(self):
        return self.id.split("/", 1)[0]

    def matches(self, only):
        if not only:
            return True
        return any(self.id == o or self.id.startswith(o + "/") or self.section.startswith(o + ".")
                   or self.section == o for o in only)


def case(cid, requirement):
    def register(fn):
        if any(c.id == cid for c in CASES):
            raise ValueError("duplicate case id " + cid)
        CASES.append(Case(cid, requirement, fn))
        return fn
    return register


class Result:
    def __init__(self, case, ok, message, log, seconds):
        self.case, self.ok, self.message, self.log, self.seconds = case, ok, message, log, seconds


def run_case(c, opts):
    conn = Conn(opts)
    start = time.monotonic()
    message = ""
    try:
        c.fn(conn)
        ok = True
    except CaseFailure as e:
        ok, message = False, str(e)
    except (OSError, ConnectionError) as e:
        ok, message = False, "I/O error: %s" % e
    except Exception:  # a bug in the case itself must show, never pass
        ok, message = False, "case raised:\n" + traceback.format_exc()
    if ok and conn.violations:
        ok, message = False, "server broke a rule: " + "; ".join(conn.violations)
    conn.close()
    return Result(c, ok, message, list(conn.log), time.monotonic() - start)
