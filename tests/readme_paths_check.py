"""Every file or folder a README cites in backticks exists (a claim the build checks).

A cited path counts as found when it exists from the repository root or from the README's own
folder, or when a file or folder of the tree ends with it (`h2/abi.h` for
sdk/include/h2/abi.h, a test named inside its folder's table). `x.h/.cc` stands for both
files. Build outputs (`build/...`) and the few paths of other projects listed in EXTERNAL are
not ours to check. Usage: readme_paths_check.py REPO_ROOT; prints each missing path as
FILE:LINE and exits 1 if there is one.
"""
import os
import re
import subprocess
import sys

EXTERNAL = {
    "memp.c": "lwIP's own source (lwip_runtime/README.md)",
    "lib/systemd/system/": "the install destination of the unit (packaging/README.md)",
}
EXTENSIONS = re.compile(r"\.(h|hpp|cc|cpp|c|py|sh|md|yaml|txt|cmake|png|json)$")
NOT_A_PATH = re.compile(r"[\s$*<>{}|=,;\"'()]")


def tree_files(root):
    """The tracked files (a git checkout), else every file outside build folders."""
    try:
        out = subprocess.run(["git", "-C", root, "ls-files"], capture_output=True, text=True,
                             check=True).stdout.split()
        if out:
            return out
    except (OSError, subprocess.CalledProcessError):
        pass
    found = []
    for dirpath, dirnames, names in os.walk(root):
        dirnames[:] = [d for d in dirnames if not d.startswith((".", "build"))]
        found += [os.path.relpath(os.path.join(dirpath, n), root) for n in names]
    return found


def cited_paths(text):
    """(line number, path) for each backticked token that looks like a path of ours."""
    for lineno, line in enumerate(text.splitlines(), 1):
        for match in re.finditer(r"`([^`\n]+)`", line):
            token = match.group(1).strip()
            if NOT_A_PATH.search(token) or "://" in token or token.startswith(("-", "/", "~", "..")):
                continue
            token = re.sub(r":\d+$", "", token)  # path:line
            names = [token]
            if re.search(r"\.[a-z]+/\.[a-z]+$", token):  # x.h/.cc
                stem, other = token.rsplit("/", 1)
                names = [stem, stem[: stem.rindex(".")] + other]
            for name in names:
                if name.startswith("build/") or name in EXTERNAL:
                    continue
                if EXTENSIONS.search(name) or (name.endswith("/") and "/" in name[:-1]):
                    yield lineno, name


def main(root):
    files = set(tree_files(root))
    folders = {"/".join(f.split("/")[:i]) + "/" for f in files for i in range(1, f.count("/") + 1)}
    everything = files | folders

    def exists(name, readme_dir):
        for base in ("", readme_dir):
            path = os.path.normpath(os.path.join(base, name)) + ("/" if name.endswith("/") else "")
            if path in everything:
                return True
        return any(p.endswith("/" + name) for p in everything)

    missing, checked = [], 0
    for readme in sorted(f for f in files if f.endswith(".md")):
        if readme.startswith("tests/bench/results/"):  # dated reports: they cite what was then
            continue
        with open(os.path.join(root, readme), encoding="utf-8") as f:
            text = f.read()
        for lineno, name in cited_paths(text):
            checked += 1
            if not exists(name, os.path.dirname(readme)):
                missing.append("%s:%d: `%s` does not exist" % (readme, lineno, name))
    for line in missing:
        print(line)
    print("readme paths: %d cited, %d missing" % (checked, len(missing)))
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
