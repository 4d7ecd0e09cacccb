#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Every C source and header git tracks is formatted as .clang-format says
(clang-format-14 from Debian, installed by deploy/setup.sh): a file that
clang-format would change fails, with the first differences shown.

usage: test_format.py [REPOSITORY]   exit 77 (skipped) without clang-format-14
"""
import os
import shutil
import subprocess
import sys


def main():
    repo = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.dirname(
        os.path.dirname(os.path.abspath(__file__))))
    tool = shutil.which("clang-format-14") or shutil.which("clang-format")
    if not tool:
        print("SKIP: clang-format-14 is not installed (Debian package clang-format-14)")
        return 77
    out = subprocess.run(["git", "-C", repo, "ls-files", "-z", "*.c", "*.h"],
                         stdout=subprocess.PIPE, check=True).stdout.decode()
    files = [os.path.join(repo, f) for f in out.split("\0") if f]
    r = subprocess.run([tool, "--dry-run", "--Werror", "--style=file"] + files,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=repo)
    if r.returncode != 0:
        lines = r.stdout.splitlines()
        print("\n".join(lines[:40]))
        bad = sorted({l.split(":", 1)[0] for l in lines if ": error:" in l})
        print("format: %d file(s) differ from .clang-format: %s" % (
            len(bad), " ".join(os.path.relpath(b, repo) for b in bad)))
        print("fix with: clang-format-14 -i $(git ls-files '*.c' '*.h')")
        return 1
    print("format: %d C files as .clang-format says" % len(files))
    return 0


if __name__ == "__main__":
    sys.exit(main())
