#!/usr/bin/env python3
"""Checks that the module graph in the code is the one in CMake (issue 15, item 7).

For every module src/medtwin/<m>/ (one CMake target, medtwin_<m>):
  - every `#include "medtwin/<x>/..."` in its files names <m> itself or a module that
    medtwin_<m> links directly (PUBLIC or PRIVATE);
  - a header of <m> that includes <x> needs <x> linked PUBLIC (dependents compile it too);
  - every module it links is included somewhere (no dependency nobody uses);
  - the graph has no cycle.
For every test binary tests/<m>/ (<m>_tests): its includes name modules it links or that those
link publicly. Prints each mismatch with the file that shows it; exits 1 if there is any.
Usage: scripts/check_includes.py [repository root]
"""
import pathlib
import re
import sys

root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).parent.parent)
src = root / "src" / "medtwin"
modules = sorted(p.name for p in src.iterdir() if (p / "CMakeLists.txt").exists())
INCLUDE = re.compile(r'^\s*#\s*include\s+"medtwin/([a-z0-9_]+)/[^"]+"', re.M)
LINK = re.compile(r"target_link_libraries\(\s*(\S+)(.*?)\)", re.S)


def links(cmake_text, target):
    """{module: "PUBLIC"|"PRIVATE"} that `target` links, from every target_link_libraries."""
    out = {}
    for name, body in LINK.findall(cmake_text):
        if name != target:
            continue
        scope = "PUBLIC"
        for token in re.sub(r"#.*", "", body).split():
            if token in ("PUBLIC", "PRIVATE", "INTERFACE"):
                scope = token
            elif token.startswith("medtwin_") and token[len("medtwin_"):] in modules:
                m = token[len("medtwin_"):]
                if out.get(m) != "PUBLIC":
                    out[m] = scope
    return out


def includes(files):
    """{module: first file that includes it}."""
    out = {}
    for f in files:
        for m in INCLUDE.findall(f.read_text(errors="replace")):
            out.setdefault(m, f)
    return out


problems = []
graph = {}
for m in modules:
    deps = links((src / m / "CMakeLists.txt").read_text(), "medtwin_" + m)
    graph[m] = deps
    files = sorted(p for p in (src / m).rglob("*") if p.suffix in (".h", ".cpp"))
    used = includes(files)
    headers_use = includes([f for f in files if f.suffix == ".h"])
    for x, f in sorted(used.items()):
        if x == m:
            continue
        if x not in modules:
            problems.append(f"{f.relative_to(root)}: includes medtwin/{x}/, which is no module")
        elif x not in deps:
            problems.append(f"{f.relative_to(root)}: includes medtwin/{x}/ but medtwin_{m} "
                            f"does not link medtwin_{x}")
    for x, f in sorted(headers_use.items()):
        if x != m and deps.get(x) == "PRIVATE":
            problems.append(f"{f.relative_to(root)}: a public header includes medtwin/{x}/ but "
                            f"medtwin_{m} links medtwin_{x} PRIVATE")
    for x in sorted(deps):
        if x not in used:
            problems.append(f"src/medtwin/{m}/CMakeLists.txt: medtwin_{m} links medtwin_{x} "
                            f"but includes nothing of it")

# No cycles (depth-first search over the link graph).
state = {}


def visit(m, path):
    state[m] = "open"
    for x in graph[m]:
        if state.get(x) == "open":
            problems.append("cycle: " + " -> ".join(path + [m, x]))
        elif x not in state:
            visit(x, path + [m])
    state[m] = "done"


for m in modules:
    if m not in state:
        visit(m, [])


def public_closure(m):
    seen, todo = set(), [m]
    while todo:
        x = todo.pop()
        if x in seen:
            continue
        seen.add(x)
        todo.extend(d for d, scope in graph.get(x, {}).items() if scope == "PUBLIC")
    return seen


tests = root / "tests"
tests_cmake = (tests / "CMakeLists.txt").read_text()
for m in modules:
    if not (tests / m).is_dir():
        continue
    linked = set(links(tests_cmake, f"{m}_tests"))
    for call in re.findall(r"medtwin_test\(\s*" + m + r"_tests\s+(\w+)", tests_cmake):
        if call.startswith("medtwin_") or call in modules:
            linked.add(call.replace("medtwin_", ""))
    visible = set()
    for x in linked:
        visible |= public_closure(x)
    files = sorted(p for p in (tests / m).rglob("*") if p.suffix in (".h", ".cpp"))
    for x, f in sorted(includes(files).items()):
        if x not in visible:
            problems.append(f"{f.relative_to(root)}: includes medtwin/{x}/ but {m}_tests links "
                            f"only {', '.join(sorted(linked)) or 'nothing of medtwin'}")

for p in problems:
    print(p)
print(f"check_includes: {len(modules)} modules, {len(problems)} mismatches")
sys.exit(1 if problems else 0)
