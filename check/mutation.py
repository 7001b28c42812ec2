#!/usr/bin/env python3
"""Mutation run: disables each claim check of src/certificate.rs in turn (the statement
after a `// claim: NAME` marker is commented out), runs the claim tests on a copy of the
crate, and prints a table of which tests fail. Every row must show at least one failing
test: otherwise that check is not needed by any test.

Usage: python3 check/mutation.py   (from the repository root or check/; ~1 min a mutant)
"""
import os, re, shutil, subprocess, sys, tempfile

here = os.path.dirname(os.path.abspath(__file__))
work = tempfile.mkdtemp(prefix="deadrelu-check-mutation-")
src = os.path.join(here, "src", "certificate.rs")
lines = open(src).read().split("\n")
markers = [i for i, l in enumerate(lines) if re.match(r"\s*// claim: ", l)]

def mutate(at):
    out = list(lines)
    depth, i = 0, at + 1
    while True:
        l = out[i]
        depth += l.count("(") + l.count("{") + l.count("[") - l.count(")") - l.count("}") - l.count("]")
        out[i] = "// MUTANT " + l
        if depth <= 0 and l.rstrip().endswith(";"):
            return out
        i += 1

copy = os.path.join(work, "check")
shutil.copytree(here, copy, ignore=shutil.ignore_patterns("target"))
env = dict(os.environ, CARGO_TARGET_DIR=os.path.join(work, "target"))
rows = []
for at in markers:
    name = lines[at].split("// claim: ", 1)[1].strip()
    open(os.path.join(copy, "src", "certificate.rs"), "w").write("\n".join(mutate(at)))
    r = subprocess.run(["cargo", "test", "--release", "--test", "claims", "--test", "limits"],
                       cwd=copy, env=env, capture_output=True, text=True)
    failed = sorted(set(re.findall(r"^test (\S+) \.\.\. FAILED", r.stdout, re.M)))
    built = "test result" in r.stdout
    rows.append((at + 2, name, built, failed))
    print(f"line {at + 2:4} {name:28} {'fails: ' + ', '.join(failed) if failed else ('NO TEST FAILS' if built else 'does not build')}", flush=True)
shutil.rmtree(work, ignore_errors=True)
print()
print("| line | claim check disabled | tests that fail |")
print("|---|---|---|")
for line, name, built, failed in rows:
    print(f"| {line} | {name} | {', '.join(failed) if failed else ('none' if built else 'does not build')} |")
sys.exit(0 if all(f for _, _, _, f in rows) else 1)
