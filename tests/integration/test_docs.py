#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The README documents every flag: each long option that `leader-elector
--help`, `leader-probe --help` and `leader-run --help` print appears in
README.md, and each flag the README shows for them exists.

usage: test_docs.py BINARY... README
"""
import re
import subprocess
import sys


def flags_of(text):
    return set(re.findall(r"(?<![\w-])--[a-z][a-z0-9-]+", text))


def main():
    if len(sys.argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    binaries, readme = sys.argv[1:-1], sys.argv[-1]
    with open(readme, encoding="utf-8") as f:
        doc = f.read()
    failed = False
    for binary in binaries:
        out = subprocess.run([binary, "--help"], stdout=subprocess.PIPE, text=True,
                             timeout=10, check=True).stdout
        missing = sorted(flags_of(out) - flags_of(doc))
        if missing:
            print("README.md does not document %s flags: %s" % (binary, " ".join(missing)))
            failed = True
        else:
            print("README.md documents all %d flags of %s" % (len(flags_of(out)), binary))
    known = set()
    for binary in binaries:
        known |= flags_of(subprocess.run([binary, "--help"], stdout=subprocess.PIPE, text=True,
                                         timeout=10, check=True).stdout)
    # Flags of other tools the README quotes (kubectl, cmake, ctest, scripts).
    others = {"--preset", "--grace-period", "--force", "--no-setup", "--no-build", "--target",
              "--build", "--test-dir", "--output-on-failure", "--replicas", "--image",
              "--certificate-authority", "--server", "--token", "--raw", "--duration"}
    unknown = sorted(flags_of(doc) - known - others)
    if unknown:
        print("README.md names flags no binary has (or add them to the list of other "
              "tools' flags here): %s" % " ".join(unknown))
        failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
