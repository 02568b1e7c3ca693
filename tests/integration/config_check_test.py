"""`h2host -t`: configuration and module loader checks, exact messages."""
import os
import re
import shutil
import tempfile
import textwrap
import unittest

from h2host_support import (BROKEN_DIR, CERT, H2HOST, HELLO_CONFIG, KEY, MODULE_DIR, PROBE, run)


class ConfigCheckTest(unittest.TestCase):
    """`h2host -t`: exit codes and the exact nginx-like messages."""

    def check(self, config):
        d = tempfile.mkdtemp(prefix="h2host-t-")
        self.addCleanup(shutil.rmtree, d, True)
        path = os.path.join(d, "c.yaml")
        with open(path, "w") as f:
            f.write(textwrap.dedent(config))
        r = run([H2HOST, "-t", "-c", path])
        return r.returncode, r.stderr, path

    def test_good_config(self):
        code, err, path = self.check(HELLO_CONFIG.replace("@PROBE@", PROBE))
        self.assertEqual(code, 0)
        lines = err.splitlines()
        self.assertEqual(lines[0], "h2host: the configuration file %s syntax is ok" % path)
        self.assertEqual(lines[-1], "h2host: configuration file %s test is successful" % path)
        # Every loaded module with its version, sorted by name (what nginx -V shows of modules).
        modules = [re.fullmatch(r"h2host: module (\S+) (?:\S+ \(ABI 1\.\d+\) from (\S+)|\(built in\))",
                                line) for line in lines[1:-1]]
        self.assertTrue(all(modules), lines)
        names = [m.group(1) for m in modules]
        self.assertEqual(names, sorted(names))
        self.assertIn("hello", names)
        self.assertIn("h2host: module status (built in)", lines)  # serve/status_module.h
        self.assertEqual(dict((m.group(1), m.group(2)) for m in modules)["probe"], PROBE)

    def test_module_config_keys_are_checked_against_what_the_module_declares(self):
        # ABI 1.2 schemas: a typo and a wrong type in route configs, with their line.
        for route, value, expected in (
                ("{prefix: /, module: hello, config: {mesage: hi}}", "hi}",
                 ' module hello: unknown key "mesage" in its route config; did you mean '
                 '"message"?'),
                ("{prefix: /, module: static, config: {root: /tmp, max_age: \"1h\"}}", '"1h"',
                 ' module static: "max_age" must be an integer, got a string')):
            code, err, path = self.check("""
                listeners: [{listen: 127.0.0.1:0}]
                modules: {directory: %s}
                routes:
                  - %s
            """ % (MODULE_DIR, route))
            self.assertEqual(code, 1, err)
            column = len("  - ") + route.index(value) + 1  # the value's column on line 5
            self.assertIn("h2host: [emerg] %s:5:%d:%s" % (path, column, expected), err)

    def test_duplicate_routes_are_refused_with_both_lines(self):
        code, err, path = self.check("""
            listeners: [{listen: 127.0.0.1:0}]
            modules: {directory: %s}
            routes:
              - {prefix: /, module: hello}
              - {prefix: /, module: echo}
        """ % MODULE_DIR)
        self.assertEqual(code, 1)
        self.assertIn("h2host: [emerg] %s:6:5: route: duplicates the route at %s:5:5" % (path, path),
                      err)

    def test_repository_config_is_valid(self):
        # As the README runs it: from the repository root.
        r = run([H2HOST, "-t", "-c", "config.yaml"], cwd=os.environ["H2_SOURCE_DIR"])
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_repository_config_is_valid_from_any_directory(self):
        # Its relative paths (the static module's root: modules) follow the file, not the
        # working directory.
        config = os.path.join(os.environ["H2_SOURCE_DIR"], "config.yaml")
        for cwd in ("/", tempfile.gettempdir(), os.path.join(os.environ["H2_SOURCE_DIR"], "host")):
            r = run([H2HOST, "-t", "-c", config], cwd=cwd)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("test is successful", r.stderr)

    def test_unknown_key_with_suggestion(self):
        code, err, path = self.check("""\
            listeners:
              - listen: 127.0.0.1:0
            rotues: []
            """)
        self.assertEqual(code, 1)
        self.assertEqual(err, "h2host: [emerg] %s:3:1: unknown key \"rotues\" in the top level; "
                              "did you mean \"routes\"?\n"
                              "h2host: configuration file %s test failed\n" % (path, path))

    def test_wrong_type_and_bad_value(self):
        code, err, path = self.check("listeners:\n  - listen: 127.0.0.1:0\nworkers: -1\n")
        self.assertEqual(code, 1)
        self.assertIn("h2host: [emerg] %s:3:10: \"workers\" must be an integer, got \"-1\"\n" % path,
                      err)

    def test_missing_certificate(self):
        code, err, path = self.check("""\
            listeners:
              - listen: 127.0.0.1:0
                tls: {certificate: missing.pem, key: missing.key}
            """)
        self.assertEqual(code, 1)
        cert = os.path.join(os.path.dirname(path), "missing.pem")
        self.assertIn("h2host: [emerg] %s:3:24: \"certificate\" file \"%s\" does not exist\n"
                      % (path, cert), err)

    def test_certificate_that_is_not_pem(self):
        code, err, path = self.check("""\
            listeners:
              - listen: 127.0.0.1:0
                tls: {certificate: %s, key: %s}
            """ % (os.path.abspath(__file__), KEY))
        self.assertEqual(code, 1)
        self.assertIn("h2host: [emerg] %s:2:5: tls: certificate \"%s\": error:" %
                      (path, os.path.abspath(__file__)), err)

    def test_good_tls_config(self):
        code, err, path = self.check("""\
            listeners:
              - listen: 127.0.0.1:0
                tls: {certificate: %s, key: %s}
            modules: {directory: %s}
            """ % (CERT, KEY, MODULE_DIR))
        self.assertEqual(code, 0, err)

    def test_route_to_unknown_module(self):
        code, err, path = self.check("""\
            listeners:
              - listen: 127.0.0.1:0
            modules: {directory: %s}
            routes:
              - {prefix: /, module: helo}
            """ % MODULE_DIR)
        self.assertEqual(code, 1)
        self.assertRegex(err, r"h2host: \[emerg\] %s:5:5: route: unknown module 'helo' \(loaded: "
                         % re.escape(path))

    def refusal(self, name):
        code, err, path = self.check("""\
            listeners:
              - listen: 127.0.0.1:0
            modules:
              files: [%s/%s.so]
            """ % (BROKEN_DIR, name))
        self.assertEqual(code, 1)
        lines = err.splitlines()
        self.assertEqual(lines[0], "h2host: the configuration file %s syntax is ok" % path)
        self.assertEqual(lines[2], "h2host: configuration file %s test failed" % path)
        return lines[1]

    def test_refuses_missing_export(self):
        self.assertEqual(self.refusal("missing_export"),
                         "h2host: [emerg] module %s/missing_export.so: missing export "
                         "'h2_module_descriptor_v1'" % BROKEN_DIR)

    def test_refuses_other_abi_major(self):
        self.assertEqual(self.refusal("wrong_abi_major"),
                         "h2host: [emerg] module %s/wrong_abi_major.so: ABI major 99 differs "
                         "from the host's 1" % BROKEN_DIR)

    def test_refuses_newer_abi_minor(self):
        # The broken module is built for the host's minor + 1 (tests/sdk/broken/).
        abi_h = os.path.join(os.environ["H2_SOURCE_DIR"], "sdk", "include", "h2", "abi.h")
        with open(abi_h) as f:
            minor = int(re.search(r"#define H2_ABI_MINOR (\d+)", f.read()).group(1))
        self.assertEqual(self.refusal("newer_abi_minor"),
                         "h2host: [emerg] module %s/newer_abi_minor.so: ABI 1.%d is newer than "
                         "the host's 1.%d" % (BROKEN_DIR, minor + 1, minor))

    def test_refuses_other_build_signature(self):
        version = run([H2HOST, "--version"]).stdout
        host_sig = re.search(r"build (.*)\)", version).group(1)
        # The broken module claims the host compiler's major + 1 and the other string ABI
        # (tests/sdk/broken/wrong_signature.cc), whatever compiler built both.
        m = re.fullmatch(r"(.*, \w+ )(\d+)(, .* cxx11-abi=)(\d)", host_sig)
        self.assertIsNotNone(m, host_sig)
        module_sig = "%s%d%s%d" % (m.group(1), int(m.group(2)) + 1, m.group(3),
                                   1 - int(m.group(4)))
        self.assertEqual(self.refusal("wrong_signature"),
                         "h2host: [emerg] module %s/wrong_signature.so: build signature "
                         "'%s' differs from the host's '%s'" % (BROKEN_DIR, module_sig, host_sig))

    def test_refuses_taken_name(self):
        code, err, path = self.check("""\
            listeners:
              - listen: 127.0.0.1:0
            modules:
              files: [%s/dup_a.so, %s/dup_b.so]
            """ % (BROKEN_DIR, BROKEN_DIR))
        self.assertEqual(code, 1)
        self.assertIn("h2host: [emerg] module %s/dup_b.so: name 'dup' is already taken by "
                      "%s/dup_a.so\n" % (BROKEN_DIR, BROKEN_DIR), err)

    def test_refuses_non_elf(self):
        self.assertTrue(self.refusal("not_elf").startswith(
            "h2host: [emerg] module %s/not_elf.so: cannot load: " % BROKEN_DIR))

    def test_version_and_help(self):
        r = run([H2HOST, "--version"])
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout, r"^h2host \d+\.\d+\.\d+ \(module ABI 1\.\d+, build .+\)\n$")
        r = run([H2HOST, "--help"])
        self.assertEqual(r.returncode, 0)
        self.assertIn("-t, --test", r.stdout)
        r = run([H2HOST, "--bogus"])
        self.assertEqual(r.returncode, 2)
        self.assertIn("h2host: unknown option \"--bogus\"", r.stderr)


if __name__ == "__main__":
    unittest.main()
