#!/usr/bin/env python3
"""scripts/check_includes.py passes on this repository and fails, naming the file, on a small
tree with each kind of mismatch (include without link, PRIVATE link used by a header, unused
link, cycle, test including what its binary does not link)."""
import pathlib
import subprocess
import sys
import tempfile

repo = pathlib.Path(__file__).resolve().parents[2]
script = repo / "scripts" / "check_includes.py"


def run(root):
    p = subprocess.run([sys.executable, str(script), str(root)], capture_output=True, text=True)
    return p.returncode, p.stdout


code, out = run(repo)
assert code == 0, out
assert "0 mismatches" in out, out


def write(root, path, text):
    f = root / path
    f.parent.mkdir(parents=True, exist_ok=True)
    f.write_text(text)


with tempfile.TemporaryDirectory() as tmp:
    root = pathlib.Path(tmp)
    write(root, "src/medtwin/core/CMakeLists.txt", "add_library(medtwin_core a.cpp)\n")
    write(root, "src/medtwin/core/a.h", "#pragma once\n")
    write(root, "src/medtwin/low/CMakeLists.txt",
          "add_library(medtwin_low l.cpp)\n"
          "target_link_libraries(medtwin_low PUBLIC medtwin_core PRIVATE medtwin_high)\n")
    write(root, "src/medtwin/low/l.h", '#include "medtwin/core/a.h"\n')
    write(root, "src/medtwin/low/l.cpp", '#include "medtwin/high/h.h"\n#include "medtwin/mid/m.h"\n')
    write(root, "src/medtwin/high/CMakeLists.txt",
          "add_library(medtwin_high h.cpp)\n"
          "target_link_libraries(medtwin_high PRIVATE medtwin_low medtwin_core)\n")
    write(root, "src/medtwin/high/h.h", '#include "medtwin/low/l.h"\n')
    write(root, "src/medtwin/mid/CMakeLists.txt", "add_library(medtwin_mid m.cpp)\n")
    write(root, "tests/CMakeLists.txt", "medtwin_test(low_tests low ${low_tests})\n")
    write(root, "tests/low/l_test.cpp", '#include "medtwin/mid/m.h"\n')
    code, out = run(root)
    assert code == 1, out
    expected = [
        "src/medtwin/low/l.cpp: includes medtwin/mid/ but medtwin_low does not link medtwin_mid",
        "src/medtwin/high/h.h: a public header includes medtwin/low/ but medtwin_high links "
        "medtwin_low PRIVATE",
        "src/medtwin/high/CMakeLists.txt: medtwin_high links medtwin_core but includes nothing",
        "cycle: high -> low -> high",
        "tests/low/l_test.cpp: includes medtwin/mid/ but low_tests links only low",
    ]
    for e in expected:
        assert e in out, f"missing: {e}\n--- output:\n{out}"
print("check_includes_test: ok")
