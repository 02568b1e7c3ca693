"""The C ABI only grows at the end (sdk/include/h2/abi.h's rule, checked against a golden file).

Every struct of the ABI must still begin with the members the golden file lists, in the same
order and with the same declarations (new members may follow); every enum must still begin
with the golden enumerators and their values. A removed, reordered, retyped or renumbered
member fails, with the first difference. A module built against an older minor then still
finds each field and function at the offset it was compiled with.

Usage: abi_layout_check.py ABI_H GOLDEN            check (exit 1 on a non-append change)
       abi_layout_check.py ABI_H GOLDEN --update   rewrite GOLDEN after an append (same commit
                                                   as the H2_ABI_MINOR bump)
"""
import re
import sys


def declarations(header_text):
    """{("struct"|"enum", name): [normalized member or enumerator, ...]} in source order."""
    text = re.sub(r"/\*.*?\*/", " ", header_text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    text = re.sub(r"^[ \t]*#(?:[^\n]*\\\n)*[^\n]*", " ", text, flags=re.M)  # with continuations
    found = {}
    for kind, name, body in re.findall(r"\b(struct|enum)\s+(\w+)\s*\{(.*?)\}", text, flags=re.S):
        separator = ";" if kind == "struct" else ","
        items = [" ".join(item.split()) for item in body.split(separator)]
        items = [item.replace("( ", "(").replace(" )", ")").replace(" *", "*").replace("* ", "*")
                 for item in items if item]
        found[(kind, name)] = items
    return found


def render(decls):
    lines = []
    for (kind, name), items in decls.items():
        lines.append("%s %s" % (kind, name))
        lines += ["  " + item for item in items]
    return "\n".join(lines) + "\n"


def parse_golden(text):
    decls, current = {}, None
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        if line.startswith("  "):
            decls[current].append(line.strip())
        else:
            kind, name = line.split()
            current = (kind, name)
            decls[current] = []
    return decls


def main(argv):
    header, golden = argv[1], argv[2]
    with open(header) as f:
        now = declarations(f.read())
    if len(argv) > 3 and argv[3] == "--update":
        with open(golden, "w") as f:
            f.write("# The C ABI as released (tests/sdk/abi_layout_check.py): members and\n"
                    "# enumerators in order. Regenerate with --update only after an append.\n")
            f.write(render(now))
        print("abi layout: %s written (%d declarations)" % (golden, len(now)))
        return 0
    with open(golden) as f:
        then = parse_golden(f.read())
    failures = []
    for key, items in then.items():
        label = "%s %s" % key
        if key not in now:
            failures.append("%s: removed (the golden file has it)" % label)
            continue
        current = now[key]
        for i, item in enumerate(items):
            if i >= len(current):
                failures.append("%s: member %d `%s` removed" % (label, i, item))
                break
            if current[i] != item:
                failures.append("%s: member %d is `%s`, was `%s` (only appending keeps the ABI)"
                                % (label, i, current[i], item))
                break
    for line in failures:
        print("abi layout: " + line)
    print("abi layout: %d declarations checked, %d changed" % (len(then), len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
