#!/usr/bin/env python3
"""Compile-fail test: compiles one snippet and checks that it fails with the expected messages.

Usage: run.py SNIPPET COMPILER [COMPILER ARGS...]
The snippet's `// expect: TEXT` lines must all appear in the compiler's output; a snippet marked
`// expect-success` must compile.
"""
import subprocess
import sys

snippet, compiler = sys.argv[1], sys.argv[2:]
text = open(snippet, encoding="utf-8").read()
expected = [line.split("// expect:", 1)[1].strip() for line in text.splitlines()
            if line.startswith("// expect:")]
result = subprocess.run(compiler + ["-std=c++20", "-fsyntax-only", "-x", "c++", snippet],
                        capture_output=True, text=True)
output = result.stdout + result.stderr
if "// expect-success" in text:
    if result.returncode != 0:
        sys.exit(f"{snippet}: expected to compile, but:\n{output}")
    print(f"{snippet}: compiles, as expected")
    sys.exit(0)
if result.returncode == 0:
    sys.exit(f"{snippet}: compiled, but it must not")
missing = [e for e in expected if e not in output]
if missing:
    sys.exit(f"{snippet}: the error does not say {missing}; the compiler said:\n{output[:4000]}")
print(f"{snippet}: fails with {expected}")
