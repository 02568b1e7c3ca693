"""The C ABI only grows at the end (sdk/include/h2/abi.h's rule, checked against a golden file).

Every struct of the ABI must still begin with the members the golden file lists, in the same
order and with the same declarations (new members may follow); every enum must still begin
with the golden enumerators and their values. A removed, reordered, retyped or renumbered
member fails, with the first difference. A module built against an older minor then still
finds each field and function at the offset it was compiled with.

With a C++ compiler (CXX, the build's), the structs' sizes and every member's offset are also
compiled on this target and compared: an offset must not move and a size must not shrink.

Usage: abi_layout_check.py ABI_H GOLDEN [CXX]            check (exit 1 on a non-append change)
       abi_layout_check.py ABI_H GOLDEN [CXX] --update   rewrite GOLDEN after an append (the
                                                         commit that bumps H2_ABI_MINOR)
"""
import os
import re
import subprocess
import sys
import tempfile


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


def member_name(declaration):
    """The member a normalized declaration names: `void (*log)(...)` -> log, `h2_str path` ->
    path."""
    pointer = re.match(r"[^(]*\(\*(\w+)\)", declaration)
    return pointer.group(1) if pointer else re.search(r"(\w+)$", declaration).group(1)


def compiled_layout(header, decls, cxx):
    """{struct: (size, [offset of each member])} from the compiler, or None without one."""
    if not cxx:
        return None
    structs = [(name, items) for (kind, name), items in decls.items() if kind == "struct"]
    lines = ['#include "%s"' % os.path.abspath(header), "#include <cstddef>", "#include <cstdio>",
             "int main() {"]
    for name, items in structs:
        lines.append('  std::printf("%s %%zu", sizeof(%s));' % (name, name))
        for item in items:
            lines.append('  std::printf(" %%zu", offsetof(%s, %s));' % (name, member_name(item)))
        lines.append('  std::printf("\\n");')
    lines.append("}")
    with tempfile.TemporaryDirectory() as work:
        source, binary = os.path.join(work, "layout.cc"), os.path.join(work, "layout")
        with open(source, "w") as f:
            f.write("\n".join(lines) + "\n")
        subprocess.run([cxx, "-std=c++20", "-o", binary, source], check=True)
        out = subprocess.run([binary], capture_output=True, text=True, check=True).stdout
    layout = {}
    for line in out.splitlines():
        name, size, *offsets = line.split()
        layout[name] = (int(size), [int(o) for o in offsets])
    return layout


def render(decls, layout):
    lines = []
    for (kind, name), items in decls.items():
        if kind == "struct" and layout:
            size, offsets = layout[name]
            lines.append("%s %s size=%d" % (kind, name, size))
            lines += ["  %s @%d" % (item, offset) for item, offset in zip(items, offsets)]
        else:
            lines.append("%s %s" % (kind, name))
            lines += ["  " + item for item in items]
    return "\n".join(lines) + "\n"


def parse_golden(text):
    """{(kind, name): [declaration, ...]}, {struct: (size, [offset, ...])}."""
    decls, layout, current = {}, {}, None
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        if line.startswith("  "):
            item, _, offset = line.strip().rpartition(" @")
            if not item or not offset.isdigit():
                item, offset = line.strip(), None
            decls[current].append(item)
            if offset is not None:
                layout[current[1]][1].append(int(offset))
        else:
            kind, name, *size = line.split()
            current = (kind, name)
            decls[current] = []
            if size:
                layout[name] = (int(size[0].split("=")[1]), [])
    return decls, layout


def main(argv):
    update = "--update" in argv
    args = [a for a in argv[1:] if a != "--update"]
    header, golden = args[0], args[1]
    cxx = args[2] if len(args) > 2 else None
    with open(header) as f:
        now = declarations(f.read())
    layout_now = compiled_layout(header, now, cxx)
    if update:
        with open(golden, "w") as f:
            f.write("# The C ABI as released (tests/sdk/abi_layout_check.py): members and\n"
                    "# enumerators in order, struct sizes and member offsets (x86-64 Linux).\n"
                    "# Regenerate with --update only after an append.\n")
            f.write(render(now, layout_now))
        print("abi layout: %s written (%d declarations)" % (golden, len(now)))
        return 0
    with open(golden) as f:
        then, layout_then = parse_golden(f.read())
    failures = []
    if layout_now is not None:
        for name, (size, offsets) in layout_then.items():
            if name not in layout_now:
                continue  # reported below as removed
            size_now, offsets_now = layout_now[name]
            if size_now < size:
                failures.append("struct %s: size %d, was %d" % (name, size_now, size))
            for i, offset in enumerate(offsets):
                if i < len(offsets_now) and offsets_now[i] != offset:
                    failures.append("struct %s: member %d at offset %d, was %d"
                                    % (name, i, offsets_now[i], offset))
                    break
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
