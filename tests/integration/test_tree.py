#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Repository hygiene, over every file git tracks:

- one licence: every source, build, script and manifest file carries the line
  `SPDX-License-Identifier: MIT`, and no file names another SPDX identifier
  (data files exempt from the first rule: JSON, test data, fuzz corpora);
- nothing stray at the root: only the files and folders listed here.

usage: test_tree.py [REPOSITORY]  (default: the checkout this file is in)
"""
import os
import re
import subprocess
import sys

EXEMPT = re.compile(r"^tests/(data|fuzz/corpus)/|\.jsonl?$|^LICENSE$")
SPDX = re.compile(r"SPDX-License-Identifier:\s*([A-Za-z0-9.+-]+)")
ROOT_ALLOWED = {".ci", ".clang-format", ".editorconfig", ".gitignore", "CMakeLists.txt",
                "CMakePresets.json", "LICENSE", "README.md", "daemon", "deploy", "docs",
                "probe", "proto", "tests"}


def tracked(repo):
    out = subprocess.run(["git", "-C", repo, "ls-files", "-z"], stdout=subprocess.PIPE,
                         check=True).stdout
    return [f for f in out.decode().split("\0") if f]


def check(repo):
    errors = []
    for f in tracked(repo):
        path = os.path.join(repo, f)
        if not os.path.isfile(path):
            continue  # deleted in the work tree
        with open(path, "rb") as fh:
            data = fh.read().decode("utf-8", "replace")
        ids = SPDX.findall(data)
        # this file names the pattern itself; everything else must say MIT only
        others = sorted({i for i in ids if i != "MIT"})
        if others and f != "tests/integration/test_tree.py":
            errors.append("%s: SPDX identifier %s (the project is MIT only)" % (f, ", ".join(others)))
        if not EXEMPT.search(f) and "MIT" not in ids:
            errors.append("%s: no 'SPDX-License-Identifier: MIT' line" % f)
        top = f.split("/", 1)[0]
        if top not in ROOT_ALLOWED:
            errors.append("%s: not expected at the repository root" % top)
    return sorted(set(errors))


def main():
    repo = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.dirname(
        os.path.dirname(os.path.abspath(__file__))))
    errors = check(repo)
    for e in errors:
        print(e)
    n = len(tracked(repo))
    if errors:
        print("tree: %d problem(s) in %d files" % (len(errors), n))
        return 1
    print("tree: %d files, all MIT, nothing stray at the root" % n)
    return 0


if __name__ == "__main__":
    sys.exit(main())
