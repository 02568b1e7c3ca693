#!/usr/bin/python3
"""Runs the HTTP/2 conformance suite against one server.

  /usr/bin/python3 tests/conformance/run.py --host 127.0.0.1 --port 8080 [--tls] [--path /string]
                                            [--only SECTION ...] [--strict] [--jobs N] [--list]

Prints one line per case, then `N passed, N failed` alone on a line; exits 1 on any failure.
"""

import argparse
import os
import sys
from concurrent.futures import ThreadPoolExecutor

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from h2conf import cases  # noqa: E402,F401  (registers every case)
from h2conf.client import Options  # noqa: E402
from h2conf.registry import CASES, run_case  # noqa: E402

SPEC_BODY = b"non-empty data."


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--tls", action="store_true", help="TLS with ALPN h2 (certificate not checked)")
    p.add_argument("--path", default="/string", help="resource every request targets")
    p.add_argument("--body", default=None,
                   help="expected body of a 200 (default: 'non-empty data.' for /string and "
                        "/bigstring, anything otherwise; '' for anything)")
    p.add_argument("--only", action="append", default=[],
                   help="a section (6.5, 6.5.2, hpack, generic) or a case id; repeatable")
    p.add_argument("--strict", action="store_true",
                   help="errors must be signalled exactly: RST_STREAM for stream errors, GOAWAY "
                        "then close for connection errors, no 4xx for malformed requests")
    p.add_argument("--timeout", type=float, default=2.0)
    p.add_argument("--jobs", type=int, default=8)
    p.add_argument("--list", action="store_true", help="list the cases and exit")
    p.add_argument("-v", "--verbose", action="store_true", help="print frames of passing cases")
    a = p.parse_args()

    selected = [c for c in CASES if c.matches(a.only)]
    if a.list:
        for c in selected:
            print("%s: %s" % (c.id, c.requirement))
        print("%d cases" % len(selected))
        return 0
    if not selected:
        print("no case matches --only %s" % a.only)
        return 2
    if a.body is None:
        body = SPEC_BODY if a.path in ("/string", "/bigstring") else None
    else:
        body = a.body.encode() or None
    opts = Options(a.host, a.port, a.tls, a.path, a.timeout, a.strict, body)

    passed = failed = 0
    with ThreadPoolExecutor(max_workers=max(1, a.jobs)) as pool:
        for r in pool.map(lambda c: run_case(c, opts), selected):
            status = "PASS" if r.ok else "FAIL"
            print("%s %s: %s (%.2fs)" % (status, r.case.id, r.case.requirement, r.seconds))
            if not r.ok:
                failed += 1
                print("     -> " + r.message.replace("\n", "\n        "))
                for line in r.log[-12:]:
                    print("        received: " + line)
            else:
                passed += 1
                if a.verbose:
                    for line in r.log:
                        print("        received: " + line)
            sys.stdout.flush()
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
