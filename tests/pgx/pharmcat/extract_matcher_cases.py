#!/usr/bin/env python3
"""Extract PharmCAT's NamedAlleleMatcher JUnit test cases into a data-driven test suite.

Usage:
  extract_matcher_cases.py --repo /path/to/PharmCAT/.git --ref v3.1.1 --out tests/pgx/pharmcat

Reads (via `git show REF:PATH`, no work tree needed):
  src/test/java/org/pharmgkb/pharmcat/haplotype/**/*Test.java
  src/test/java/org/pharmgkb/pharmcat/TestVcfBuilder.java     (only sanity-checked)
  src/test/resources/org/pharmgkb/pharmcat/...                 (test VCFs)
  src/main/resources/org/pharmgkb/pharmcat/definition/alleles  (allele definitions, exemptions)
  src/test/resources/org/pharmgkb/pharmcat/haplotype/*.json    (test-resource allele definitions)

Writes:
  OUT/matcher_cases.json
  OUT/vcf/matcher/<path under haplotype/>            VCFs from test resources
  OUT/vcf/matcher/generated/<Class>/<method>[_k].vcf VCFs the tests build with TestVcfBuilder
  OUT/definitions/<file>.json                        test-resource allele definitions that in-scope
                                                     cases use instead of the shipped one (verbatim)
  (OUT/vcf/matcher and OUT/definitions are emptied first; nothing else under OUT is touched.)

A test that runs the matcher on a test-resource definition file (DefinitionReader(List.of(
PathUtils.getPathToResource("...json")), ...)) is in scope when that file's "gene" is one of
SCOPE_GENES; its cases carry "definition": "definitions/<file>" (relative to OUT) and the file's
differences in shape from the shipped <GENE>_translation.json are listed under "definitions".

How it works: the Java test methods are tokenized and run through a small symbolic
interpreter that knows the handful of PharmCAT test APIs involved (testMatchNamedAlleles
overloads -- interpreted from their own source --, TestVcfBuilder, NamedAlleleMatcher,
DefinitionReader, Result/GeneCall/DiplotypeMatch accessors, JUnit/Hamcrest asserts).
TestVcfBuilder is re-implemented (TestVcfBuilder.generate) so generated VCFs are
byte-for-byte what the Java test writes, except the ##fileDate line (fixed to the commit
date for reproducibility).

Every @Test method of an in-scope file (a haplotype test file that runs the matcher or
asserts diplotypes) must end up either as >= 1 case or in out_of_scope; otherwise the
script exits non-zero listing the unclassified methods. Stdlib only.
"""

import argparse
import copy
import json
import os
import re
import shutil
import subprocess
import sys

SCOPE_GENES = ["CYP2B6", "CYP2C19", "CYP2C9", "CYP3A5", "CYP4F2", "DPYD", "NUDT15",
               "SLCO1B1", "TPMT", "UGT1A1", "VKORC1"]
TEST_DIR = "src/test/java/org/pharmgkb/pharmcat/haplotype/"
TEST_ROOT = "src/test/java/"
RES_ROOT = "src/test/resources/"
HAP_RES = "org/pharmgkb/pharmcat/haplotype/"
DEF_DIR = "src/main/resources/org/pharmgkb/pharmcat/definition/alleles/"
LICENSE = "PharmCAT test resources, Mozilla Public License 2.0, https://github.com/PharmGKB/PharmCAT"

# Methods that run the matcher with in-scope definitions but assert nothing that the case
# format can express.  Keyed "Class.method"; value is the reason.
OUT_OF_SCOPE_OVERRIDES = {
    "NamedAlleleMatcherTest.sortException":
        "runs all shipped definitions (DefinitionReader()) on NamedAlleleMatcher-sortError.vcf and asserts "
        "34 VCF warnings and >= 10 CYP2D6 diplotypes (TreeSet sort-contract regression); CYP2D6 not in scope",
    "NamedAlleleMatcherCyp2c9Test.extraPosition":
        "asserts only the CYP2C9 extra position of interest (variantsOfInterest = rs12777823 'G/A'), "
        "no diplotype assertion",
    "NamedAlleleMatcherTest.testMismatchedRefAlleleWarnings":
        "test-resource definition NamedAlleleMatcher-mismatchedRefAllele.json (CYP2C9); asserts only VCF "
        "warnings (2: 'does not match expected reference' at chr10:94942205 and chr10:94949281), "
        "no diplotype assertion",
    "NamedAlleleMatcherTest.testDiplotypeMatcher":
        "test-resource definition NamedAlleleMatcher-dpyd.json (DPYD) on NamedAlleleMatcher-diplotypeMatcher.vcf; "
        "asserts only that 10 repeated runs each return 1 gene call (DiplotypeMatch sort regression), "
        "no diplotype assertion",
}

# Hand-translated cases for Java the interpreter cannot follow.  Each entry must name the
# Java method in a comment.  (Empty at v3.1.1: every in-scope method is handled by the
# interpreter.)  Format: "Class.method" -> list of case dicts (without "id"/"source").
HAND_CASES = {
}

# Methods whose body only exercises matcher internals on in-memory definitions.
INTERNALS = {"DiplotypeMatcher", "MatchData", "CombinationMatcher", "NamedAllele", "VariantLocus",
             "SampleAllele"}


class ExtractError(Exception):
    pass


# --------------------------------------------------------------------------------------------
# git access

class Git:
    def __init__(self, repo, ref):
        self.repo = repo
        self.ref = ref
        self._cache = {}

    def _run(self, *args, binary=False):
        out = subprocess.run(["git", "-C", self.repo] + list(args), check=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        return out.stdout if binary else out.stdout.decode("utf-8")

    def commit(self):
        return self._run("rev-parse", self.ref + "^{commit}").strip()

    def commit_date(self):
        return self._run("show", "-s", "--format=%cI", self.ref + "^{commit}").strip()

    def ls(self, path):
        return [p for p in self._run("ls-tree", "-r", "--name-only", self.ref, path).splitlines() if p]

    def exists(self, path):
        return path in self._cache or bool(self.ls(path))

    def read_bytes(self, path):
        if path not in self._cache:
            try:
                self._cache[path] = self._run("show", "%s:%s" % (self.ref, path), binary=True)
            except subprocess.CalledProcessError as ex:
                raise ExtractError("cannot read %s:%s (%s)" % (self.ref, path, ex.stderr.decode().strip()))
        return self._cache[path]

    def read(self, path):
        return self.read_bytes(path).decode("utf-8")


# --------------------------------------------------------------------------------------------
# Java tokenizer

class Tok:
    __slots__ = ("kind", "val", "line", "pos", "end")

    def __init__(self, kind, val, line, pos, end):
        self.kind, self.val, self.line, self.pos, self.end = kind, val, line, pos, end

    def __repr__(self):
        return "%s(%r)@%d" % (self.kind, self.val, self.line)


_OPS = [">>>=", "<<=", ">>=", ">>>", "...", "->", "::", "++", "--", "&&", "||", "==", "!=", "<=", ">=",
        "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "<<"]
_ID_RE = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
_NUM_RE = re.compile(r"0[xX][0-9a-fA-F_]+[lL]?|\d[\d_]*(\.\d+)?([eE][+-]?\d+)?[lLfFdD]?|\.\d+[fFdD]?")


def _unescape(s):
    out = []
    i = 0
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            n = s[i + 1]
            if n == "u":
                j = i + 1
                while j < len(s) and s[j] == "u":
                    j += 1
                out.append(chr(int(s[j:j + 4], 16)))
                i = j + 4
                continue
            if n in "01234567":
                j = i + 1
                while j < len(s) and j < i + 4 and s[j] in "01234567":
                    j += 1
                out.append(chr(int(s[i + 1:j], 8)))
                i = j
                continue
            out.append({"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "s": " ",
                        "0": "\0"}.get(n, n))
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


def tokenize(src):
    toks = []
    i, line, n = 0, 1, len(src)
    while i < n:
        c = src[i]
        if c == "\n":
            line += 1
            i += 1
        elif c.isspace():
            i += 1
        elif src.startswith("//", i):
            j = src.find("\n", i)
            i = n if j < 0 else j
        elif src.startswith("/*", i):
            j = src.find("*/", i + 2)
            if j < 0:
                raise ExtractError("unterminated comment at line %d" % line)
            line += src.count("\n", i, j)
            i = j + 2
        elif src.startswith('"""', i):
            j = src.find('"""', i + 3)
            raw = src[i + 3:j]
            body = raw.split("\n", 1)[1] if "\n" in raw else raw
            lines = body.split("\n")
            ind = min((len(l) - len(l.lstrip()) for l in lines if l.strip()), default=0)
            toks.append(Tok("str", _unescape("\n".join(l[ind:] for l in lines)), line, i, j + 3))
            line += src.count("\n", i, j)
            i = j + 3
        elif c == '"' or c == "'":
            j = i + 1
            while j < n and src[j] != c:
                j += 2 if src[j] == "\\" else 1
            if j >= n:
                raise ExtractError("unterminated literal at line %d" % line)
            toks.append(Tok("str" if c == '"' else "char", _unescape(src[i + 1:j]), line, i, j + 1))
            i = j + 1
        elif c.isdigit() or (c == "." and i + 1 < n and src[i + 1].isdigit()):
            m = _NUM_RE.match(src, i)
            txt = m.group(0)
            t = txt.rstrip("lLfFdD").replace("_", "")
            try:
                val = int(t, 0) if not any(x in t for x in ".eE") or t.lower().startswith("0x") else float(t)
            except ValueError:
                val = float(t)
            toks.append(Tok("num", val, line, i, m.end()))
            i = m.end()
        elif _ID_RE.match(src, i):
            m = _ID_RE.match(src, i)
            toks.append(Tok("id", m.group(0), line, i, m.end()))
            i = m.end()
        else:
            for op in _OPS:
                if src.startswith(op, i):
                    toks.append(Tok("op", op, line, i, i + len(op)))
                    i += len(op)
                    break
            else:
                toks.append(Tok("op", c, line, i, i + 1))
                i += 1
    toks.append(Tok("eof", None, line, n, n))
    return toks


def match_close(toks, i, open_="{", close="}"):
    """toks[i] is an opening bracket; return index of its matching close."""
    depth = 0
    for j in range(i, len(toks)):
        v = toks[j].val if toks[j].kind == "op" else None
        if v == open_:
            depth += 1
        elif v == close:
            depth -= 1
            if depth == 0:
                return j
    raise ExtractError("unbalanced %s at line %d" % (open_, toks[i].line))


# --------------------------------------------------------------------------------------------
# class structure

class Method:
    def __init__(self, name, params, body, line, annotations, static, cls):
        self.name, self.params, self.body, self.line = name, params, body, line
        self.annotations, self.static, self.cls = annotations, static, cls


class JavaClass:
    def __init__(self, path, src):
        self.path = path
        self.src = src
        self.toks = tokenize(src)
        self.name = os.path.basename(path)[:-5]
        self.methods = []          # in source order
        self.fields = []           # (name, expr token slice)
        self.static_imports = {}   # simple name -> "pkg.Class" (member import) ; "*" entries in list
        self.static_star = []
        self._parse()

    def _parse(self):
        t = self.toks
        i = 0
        # imports
        while t[i].kind != "eof":
            if t[i].val == "import" and t[i].kind == "id":
                j = i + 1
                static = t[j].val == "static"
                if static:
                    j += 1
                parts = []
                while t[j].val != ";":
                    parts.append(t[j].val)
                    j += 1
                name = "".join(parts)
                if static:
                    if name.endswith(".*"):
                        self.static_star.append(name[:-2])
                    else:
                        cls, _, member = name.rpartition(".")
                        self.static_imports[member] = cls
                i = j + 1
                continue
            if t[i].kind == "id" and t[i].val in ("class", "interface", "enum", "record") and \
                    t[i + 1].kind == "id" and t[i + 1].val == self.name:
                break
            i += 1
        if t[i].kind == "eof":
            raise ExtractError("%s: class %s not found" % (self.path, self.name))
        while t[i].val != "{":
            i += 1
        end = match_close(t, i)
        self._parse_members(i + 1, end)

    def _parse_members(self, i, end):
        t = self.toks
        start = i
        while i < end:
            tok = t[i]
            if tok.kind == "op" and tok.val == ";":
                self._field(start, i)
                i += 1
                start = i
            elif tok.kind == "op" and tok.val == "@":
                # annotation (possibly with arguments)
                i += 2
                while t[i].val == "." and t[i].kind == "op":
                    i += 2
                if t[i].val == "(":
                    i = match_close(t, i, "(", ")") + 1
            elif tok.kind == "op" and tok.val == "{":
                close = match_close(t, i)
                self._member_with_body(start, i, close)
                i = close + 1
                start = i
            elif tok.kind == "op" and tok.val == "=":
                # field initializer: skip to ';' at depth 0 (may contain braces / lambdas)
                depth = 0
                while not (depth == 0 and t[i].val == ";" and t[i].kind == "op"):
                    if t[i].kind == "op" and t[i].val in "({[":
                        depth += 1
                    elif t[i].kind == "op" and t[i].val in ")}]":
                        depth -= 1
                    i += 1
                self._field(start, i)
                i += 1
                start = i
            else:
                i += 1

    def _annotations(self, a, b):
        t = self.toks
        anns = []
        rest = []
        i = a
        while i < b:
            if t[i].kind == "op" and t[i].val == "@" and t[i + 1].kind == "id" and t[i + 1].val != "interface":
                name = t[i + 1].val
                i += 2
                while t[i].kind == "op" and t[i].val == "." and t[i + 1].kind == "id":
                    name = t[i + 1].val
                    i += 2
                if t[i].kind == "op" and t[i].val == "(":
                    i = match_close(t, i, "(", ")") + 1
                anns.append(name)
            else:
                rest.append(i)
                i += 1
        return anns, rest

    def _field(self, a, b):
        t = self.toks
        anns, rest = self._annotations(a, b)
        if not rest:
            return
        eq = [k for k in rest if t[k].kind == "op" and t[k].val == "="]
        if not eq:
            return
        k = eq[0]
        name = t[k - 1].val
        self.fields.append((name, k + 1, b))

    def _member_with_body(self, a, brace, close):
        t = self.toks
        anns, rest = self._annotations(a, brace)
        words = [t[k].val for k in rest if t[k].kind == "id"]
        if any(w in ("class", "interface", "enum", "record") for w in words):
            return  # nested type
        paren = [k for k in rest if t[k].kind == "op" and t[k].val == "("]
        if not paren:
            return  # initializer block
        p = paren[0]
        name_tok = t[p - 1]
        pclose = match_close(t, p, "(", ")")
        params = []
        cur = []
        depth = 0
        for k in range(p + 1, pclose):
            tk = t[k]
            if tk.kind == "op" and tk.val == "<":
                depth += 1
            elif tk.kind == "op" and tk.val == ">":
                depth -= 1
            if tk.kind == "op" and tk.val == "," and depth == 0:
                params.append(cur)
                cur = []
            else:
                cur.append(tk)
        if cur:
            params.append(cur)
        plist = []
        for ptoks in params:
            ptoks = [x for x in ptoks if not (x.kind == "id" and x.val == "final")]
            # drop annotations
            clean = []
            j = 0
            while j < len(ptoks):
                if ptoks[j].val == "@":
                    j += 2
                    continue
                clean.append(ptoks[j])
                j += 1
            pname = clean[-1].val
            ptype = "".join(x.val for x in clean[:-1])
            plist.append((ptype, pname))
        m = Method(name_tok.val, plist, (brace + 1, close), name_tok.line, anns, "static" in words, self)
        self.methods.append(m)

    def text(self, a, b):
        """source text of tokens [a, b)"""
        return re.sub(r"\s+", " ", self.src[self.toks[a].pos:self.toks[b - 1].end]).strip()


# --------------------------------------------------------------------------------------------
# Expression / statement parser (subset of Java sufficient for PharmCAT tests)

class N:
    """AST node"""

    def __init__(self, kind, **kw):
        self.kind = kind
        self.__dict__.update(kw)

    def __repr__(self):
        return "N(%s %s)" % (self.kind, {k: v for k, v in self.__dict__.items() if k != "kind"})


class Parser:
    def __init__(self, jc, a, b):
        self.jc = jc
        self.t = jc.toks
        self.i = a
        self.end = b

    # helpers
    def peek(self, k=0):
        return self.t[self.i + k]

    def at(self, val, k=0):
        tk = self.t[self.i + k]
        return tk.kind in ("op", "id") and tk.val == val

    def expect(self, val):
        if not self.at(val):
            raise ExtractError("%s:%d: expected %r, got %r" % (self.jc.path, self.peek().line, val,
                                                               self.peek().val))
        self.i += 1

    def error(self, msg):
        raise ExtractError("%s:%d: %s" % (self.jc.path, self.peek().line, msg))

    # statements
    def statements(self):
        out = []
        while self.i < self.end:
            out.append(self.statement())
        return out

    def block_or_statement(self):
        if self.at("{"):
            close = match_close(self.t, self.i)
            sub = Parser(self.jc, self.i + 1, close)
            body = sub.statements()
            self.i = close + 1
            return N("block", body=body)
        return self.statement()

    def statement(self):
        tk = self.peek()
        start = self.i
        if tk.kind == "op" and tk.val == ";":
            self.i += 1
            return N("empty")
        if tk.kind == "op" and tk.val == "{":
            return self.block_or_statement()
        if tk.kind == "id" and tk.val in ("for", "while", "if", "switch", "synchronized"):
            self.i += 1
            pclose = match_close(self.t, self.i, "(", ")")
            header = (self.i + 1, pclose)
            self.i = pclose + 1
            body = self.block_or_statement()
            els = None
            if tk.val == "if" and self.at("else"):
                self.i += 1
                els = self.block_or_statement()
            loopvars = []
            if tk.val == "for":
                # for (Type x : coll) / for (init; cond; upd)
                hs = [self.t[k] for k in range(*header)]
                colon = [k for k, x in enumerate(hs) if x.kind == "op" and x.val == ":"]
                if colon:
                    loopvars.append(hs[colon[0] - 1].val)
            return N("control", what=tk.val, header=header, body=body, els=els, loopvars=loopvars,
                     line=tk.line)
        if tk.kind == "id" and tk.val == "do":
            self.i += 1
            body = self.block_or_statement()
            self.expect("while")
            pclose = match_close(self.t, self.i, "(", ")")
            self.i = pclose + 1
            self.expect(";")
            return N("control", what="do", header=None, body=body, els=None, loopvars=[], line=tk.line)
        if tk.kind == "id" and tk.val == "try":
            self.i += 1
            resources = []
            if self.at("("):
                pclose = match_close(self.t, self.i, "(", ")")
                sub = Parser(self.jc, self.i + 1, pclose)
                while sub.i < sub.end:
                    resources.append(sub.local_or_expr(terminators=(";",)))
                    if sub.at(";"):
                        sub.i += 1
                self.i = pclose + 1
            body = self.block_or_statement()
            handlers = []
            while self.at("catch") or self.at("finally"):
                if self.at("catch"):
                    self.i += 1
                    self.i = match_close(self.t, self.i, "(", ")") + 1
                else:
                    self.i += 1
                handlers.append(self.block_or_statement())
            return N("control", what="try", header=None, body=N("block", body=resources + [body]),
                     els=None, loopvars=[], line=tk.line, handlers=handlers)
        if tk.kind == "id" and tk.val == "return":
            self.i += 1
            expr = None if self.at(";") else self.expr()
            self.expect(";")
            return N("return", expr=expr, span=(start, self.i), line=tk.line)
        if tk.kind == "id" and tk.val in ("throw",):
            self.i += 1
            expr = self.expr()
            self.expect(";")
            return N("throw", expr=expr, line=tk.line)
        if tk.kind == "id" and tk.val in ("break", "continue"):
            while not self.at(";"):
                self.i += 1
            self.i += 1
            return N("empty")
        node = self.local_or_expr(terminators=(";",))
        self.expect(";")
        node.span = (start, self.i)
        return node

    def _looks_like_decl(self):
        """Type name = ... | Type name ;  (Type may be generic / array / qualified)"""
        j = self.i
        t = self.t
        while t[j].kind == "id" and t[j].val == "final":
            j += 1
        if t[j].kind != "id" or t[j].val in ("new", "return", "this", "super", "true", "false", "null"):
            return None
        j += 1
        while t[j].kind == "op" and t[j].val == "." and t[j + 1].kind == "id":
            j += 2
        if t[j].kind == "op" and t[j].val == "<":
            depth = 0
            while True:
                v = t[j].val if t[j].kind == "op" else None
                if v == "<":
                    depth += 1
                elif v == ">":
                    depth -= 1
                elif v == ">>":
                    depth -= 2
                elif v == ">>>":
                    depth -= 3
                elif t[j].kind == "op" and v not in (",", "?", ".", "[", "]", "&"):
                    return None
                j += 1
                if depth <= 0:
                    break
        while t[j].kind == "op" and t[j].val == "[" and t[j + 1].kind == "op" and t[j + 1].val == "]":
            j += 2
        if t[j].kind == "id" and t[j + 1].kind == "op" and t[j + 1].val in ("=", ";", ":", ")"):
            return j
        return None

    def local_or_expr(self, terminators):
        name_idx = self._looks_like_decl()
        if name_idx is not None:
            tk = self.t[name_idx]
            self.i = name_idx + 1
            init = None
            if self.at("="):
                self.i += 1
                init = self.expr()
            return N("decl", name=tk.val, init=init, line=tk.line)
        e = self.expr()
        return N("exprstmt", expr=e, line=e.line if hasattr(e, "line") else self.peek().line)

    # expressions
    def expr(self):
        # lambda?
        tk = self.peek()
        if tk.kind == "id" and self.at("->", 1):
            self.i += 2
            return self._lambda_body(tk.line)
        if tk.kind == "op" and tk.val == "(":
            close = match_close(self.t, self.i, "(", ")")
            if self.t[close + 1].kind == "op" and self.t[close + 1].val == "->":
                self.i = close + 2
                return self._lambda_body(tk.line)
        left = self.ternary()
        if self.peek().kind == "op" and self.peek().val in ("=", "+=", "-=", "*=", "/=", "%=", "&=", "|=",
                                                           "^=", "<<=", ">>=", ">>>="):
            op = self.peek().val
            self.i += 1
            right = self.expr()
            return N("assign", target=left, op=op, value=right, line=tk.line)
        return left

    def _lambda_body(self, line):
        if self.at("{"):
            close = match_close(self.t, self.i)
            self.i = close + 1
        else:
            self.expr()
        return N("lambda", line=line)

    def ternary(self):
        cond = self.binary(0)
        if self.at("?"):
            self.i += 1
            a = self.expr()
            self.expect(":")
            b = self.expr()
            return N("ternary", cond=cond, a=a, b=b, line=cond.line)
        return cond

    _PREC = [("||",), ("&&",), ("|",), ("^",), ("&",), ("==", "!="), ("<", ">", "<=", ">=", "instanceof"),
             ("<<", ">>", ">>>"), ("+", "-"), ("*", "/", "%")]

    def binary(self, level):
        if level == len(self._PREC):
            return self.unary()
        left = self.binary(level + 1)
        while True:
            tk = self.peek()
            if tk.kind in ("op", "id") and tk.val in self._PREC[level]:
                self.i += 1
                if tk.val == "instanceof":
                    self.i += 1
                    while self.at("."):
                        self.i += 2
                    if self.peek().kind == "id" and not self.peek().val in ("&&", "||"):
                        self.i += 1
                    left = N("binop", op="instanceof", a=left, b=None, line=tk.line)
                    continue
                right = self.binary(level + 1)
                left = N("binop", op=tk.val, a=left, b=right, line=tk.line)
            else:
                return left

    def unary(self):
        tk = self.peek()
        if tk.kind == "op" and tk.val in ("!", "-", "+", "~", "++", "--"):
            self.i += 1
            v = self.unary()
            return N("unop", op=tk.val, a=v, line=tk.line)
        # cast
        if tk.kind == "op" and tk.val == "(":
            j = self.i + 1
            t = self.t
            if t[j].kind == "id" and t[j].val[:1].isupper():
                k = j + 1
                while t[k].kind == "op" and t[k].val == "." and t[k + 1].kind == "id":
                    k += 2
                if t[k].kind == "op" and t[k].val == "<":
                    k = match_close(t, k, "<", ">") + 1
                if t[k].kind == "op" and t[k].val == ")" and (
                        t[k + 1].kind in ("id", "str", "num", "char") or t[k + 1].val in ("(",)):
                    self.i = k + 1
                    v = self.unary()
                    return N("cast", a=v, line=tk.line)
        return self.postfix()

    def args(self):
        self.expect("(")
        out = []
        while not self.at(")"):
            out.append(self.expr())
            if self.at(","):
                self.i += 1
        self.i += 1
        return out

    def postfix(self):
        e = self.primary()
        while True:
            if self.at("."):
                self.i += 1
                if self.at("<"):  # explicit generic method call
                    self.i = match_close(self.t, self.i, "<", ">") + 1
                name = self.peek()
                self.i += 1
                if self.at("("):
                    a = self.args()
                    e = N("call", target=e, name=name.val, args=a, line=name.line)
                else:
                    e = N("field", target=e, name=name.val, line=name.line)
            elif self.at("::"):
                self.i += 2
                e = N("methodref", line=e.line)
            elif self.at("["):
                close = match_close(self.t, self.i, "[", "]")
                sub = Parser(self.jc, self.i + 1, close)
                idx = sub.expr()
                self.i = close + 1
                e = N("index", target=e, idx=idx, line=e.line)
            elif self.at("++") or self.at("--"):
                self.i += 1
            else:
                return e

    def primary(self):
        tk = self.peek()
        if tk.kind in ("str", "num", "char"):
            self.i += 1
            return N("lit", value=tk.val, line=tk.line)
        if tk.kind == "id":
            if tk.val in ("true", "false"):
                self.i += 1
                return N("lit", value=(tk.val == "true"), line=tk.line)
            if tk.val == "null":
                self.i += 1
                return N("lit", value=None, line=tk.line)
            if tk.val == "new":
                return self.new_expr()
            self.i += 1
            if self.at("("):
                a = self.args()
                return N("call", target=None, name=tk.val, args=a, line=tk.line)
            # Type.class / generic type followed by ::
            return N("name", name=tk.val, line=tk.line)
        if tk.kind == "op" and tk.val == "(":
            self.i += 1
            e = self.expr()
            self.expect(")")
            return e
        self.error("unexpected token %r" % tk.val)

    def new_expr(self):
        tk = self.peek()
        self.i += 1
        name = self.peek().val
        self.i += 1
        while self.at("."):
            self.i += 1
            name = self.peek().val
            self.i += 1
        if self.at("<"):
            self.i = match_close(self.t, self.i, "<", ">") + 1
        if self.at("["):
            dims = []
            while self.at("["):
                close = match_close(self.t, self.i, "[", "]")
                dims.append(close > self.i + 1)
                self.i = close + 1
            items = []
            if self.at("{"):
                close = match_close(self.t, self.i)
                sub = Parser(self.jc, self.i + 1, close)
                while sub.i < sub.end:
                    if sub.at("{"):
                        c2 = match_close(sub.t, sub.i)
                        sub.i = c2 + 1
                        items.append(N("lit", value=None, line=tk.line))
                    else:
                        items.append(sub.expr())
                    if sub.at(","):
                        sub.i += 1
                self.i = close + 1
            return N("newarray", type=name, items=items, line=tk.line)
        a = self.args()
        if self.at("{"):  # anonymous class
            self.i = match_close(self.t, self.i) + 1
        return N("new", type=name, args=a, line=tk.line)


# --------------------------------------------------------------------------------------------
# Definitions and TestVcfBuilder re-implementation

class Definitions:
    def __init__(self, git):
        self.git = git
        self._defs = {}
        self._exemptions = None

    def shipped_genes(self):
        return sorted(os.path.basename(p)[:-len("_translation.json")] for p in self.git.ls(DEF_DIR)
                      if p.endswith("_translation.json"))

    def get(self, source):
        """source: ('shipped', GENE) or ('resource', path)"""
        if source not in self._defs:
            if source[0] == "shipped":
                path = DEF_DIR + source[1] + "_translation.json"
            else:
                path = RES_ROOT + source[1]
            self._defs[source] = json.loads(self.git.read(path))
        return self._defs[source]

    def exemptions(self):
        if self._exemptions is None:
            self._exemptions = json.loads(self.git.read(DEF_DIR + "exemptions.json"))
        return self._exemptions


def java_string_hash(s):
    h = 0
    for ch in s.encode("utf-16-be").decode("utf-16-be"):
        h = (31 * h + ord(ch)) & 0xFFFFFFFF
    return h


def java_hashmap_order(keys):
    """Iteration order of a java.util.HashMap<String,?> filled with keys in insertion order."""
    cap = 16
    while len(keys) > cap * 0.75:
        cap *= 2
    buckets = {}
    for k in keys:
        h = java_string_hash(k)
        h ^= h >> 16
        buckets.setdefault(h & (cap - 1), []).append(k)
    return [k for b in sorted(buckets) for k in buckets[b]]


class VcfEdit:
    def __init__(self, id_, cpic_alleles):
        self.id = id_
        self.cpic_alleles = cpic_alleles
        self.vcf_alts = None
        self.ref = None
        self.gt = None
        self.ps = None
        self.is_phased = None


class TestVcfBuilder:
    """Python port of src/test/java/org/pharmgkb/pharmcat/TestVcfBuilder.java"""

    def __init__(self, name):
        self.name = name
        self.edits = {}            # gene -> {id: VcfEdit} (insertion ordered)
        self.extra = {}
        self.dups = {}
        self.def_sources = []      # ('shipped', GENE) | ('resource', path)
        self.num_x = 2
        self.num_y = 1
        self.phased = False
        self.allow_unknown = False

    # builder methods; each returns self
    def _edit(self, gene, edit, table=None):
        (self.edits if table is None else table).setdefault(gene, {})[edit.id] = edit
        return self

    def call(self, m, args, ctx):
        a = args
        if m == "phased":
            self.phased = True
        elif m == "allowUnknownAllele":
            self.allow_unknown = True
        elif m == "saveFile":
            pass
        elif m == "withDefinition":
            self.def_sources.append(a[0].source)
        elif m == "forGene":
            for g in a:
                self.def_sources.append(("shipped", g))
        elif m == "reference":
            if len(a) == 1:
                self.edits.setdefault(a[0], {})
            else:
                if not self.def_sources:
                    raise ExtractError("TestVcfBuilder.reference(gene, ...) needs definition files first")
                gene = a[0]
                d = ctx.defs.get(self._source_for(gene, ctx))
                for key in a[1:]:
                    if isinstance(key, str):
                        vl = [v for v in d["variants"] if v.get("rsid") == key]
                        if not vl:
                            raise ExtractError("No variant found for %s in %s" % (key, gene))
                        self._edit(gene, VcfEdit(key, [vl[0]["ref"], vl[0]["ref"]]))
                    else:
                        vl = [v for v in d["variants"] if v["position"] == key]
                        if not vl:
                            raise ExtractError("No variant found for position %s in %s" % (key, gene))
                        self._edit(gene, VcfEdit("%s:%d" % (vl[0]["chromosome"], key),
                                                 [vl[0]["ref"], vl[0]["ref"]]))
        elif m == "variation":
            gene = a[0]
            if len(a) >= 3 and isinstance(a[1], str) and isinstance(a[2], int) and not isinstance(a[2], bool):
                # variation(gene, chrom, position, [isPhased,] alleles...)
                rest = a[3:]
                e = VcfEdit("%s:%d" % (a[1], a[2]), None)
            else:
                rest = a[2:]
                e = VcfEdit(a[1], None)
            if rest and isinstance(rest[0], bool):
                e.is_phased = rest[0]
                rest = rest[1:]
            e.cpic_alleles = list(rest)
            self._edit(gene, e)
        elif m == "variationInPhaseSet":
            e = VcfEdit(a[1], list(a[3:]))
            e.ps = a[2]
            e.is_phased = True
            self._edit(a[0], e)
        elif m == "variationAsIs":
            if isinstance(a[2], int) and not isinstance(a[2], bool):
                e = VcfEdit("%s:%d" % (a[1], a[2]), None)
                rest = a[3:]
            else:
                e = VcfEdit(a[1], None)
                rest = a[2:]
            e.gt, e.ref, e.vcf_alts = rest[0], rest[1], list(rest[2:])
            self._edit(a[0], e)
        elif m == "missing":
            if len(a) == 3 and isinstance(a[2], int) and not isinstance(a[2], bool):
                self._edit(a[0], VcfEdit("%s:%d" % (a[1], a[2]), None))
            else:
                for rsid in a[1:]:
                    self._edit(a[0], VcfEdit(rsid, None))
        elif m == "extraPosition":
            self._edit(a[0], VcfEdit(a[1], list(a[2:]) or None), self.extra)
        elif m == "missingExtraPosition":
            self._edit(a[0], VcfEdit(a[1], None), self.extra)
        elif m in ("duplicatePosition", "duplicatePositionAsIs"):
            if m == "duplicatePosition":
                if len(a) >= 3 and isinstance(a[2], int) and not isinstance(a[2], bool):
                    e = VcfEdit("%s:%d" % (a[1], a[2]), list(a[3:]))
                else:
                    e = VcfEdit(a[1], list(a[2:]))
            else:
                e = VcfEdit("%s:%d" % (a[1], a[2]), None)
                e.gt, e.ref, e.vcf_alts = a[3], a[4], list(a[5:])
            self.dups.setdefault(a[0], []).append(e)
        elif m == "male":
            self.num_x, self.num_y = 1, 1
        elif m == "female":
            self.num_x, self.num_y = 2, 0
        elif m == "sexChromosomes":
            self.num_x, self.num_y = a[0], a[1]
        else:
            raise ExtractError("unsupported TestVcfBuilder method %s" % m)
        return self

    def _source_for(self, gene, ctx):
        for s in self.def_sources:
            if s[0] == "shipped" and s[1] == gene:
                return s
            if s[0] == "resource" and ctx.defs.get(s).get("gene") == gene:
                return s
        if self.def_sources:
            raise ExtractError("no definition for %s among %s" % (gene, self.def_sources))
        return ("shipped", gene)

    def generate(self, ctx, file_date):
        out = []
        genes = java_hashmap_order(list(self.edits.keys()))
        contigs = {}
        for g in genes:
            d = ctx.defs.get(self._source_for(g, ctx))
            contigs[d["chromosome"]] = d["genomeBuild"]
        out.append("##fileformat=VCFv4.2")
        out.append("##source=PharmCAT test (%s)" % self.name)
        out.append("##fileDate=%s" % file_date)
        if contigs:
            assemblies = set(contigs.values())
            if len(assemblies) > 1:
                raise ExtractError("Multiple assemblies found: %s" % assemblies)
            asm = assemblies.pop()
            for chrom in sorted(contigs, key=chr_sort_key):
                out.append('##contig=<ID=%s,assembly=%s,species="Homo sapiens">' % (chrom, asm))
        out.append('##FILTER=<ID=PASS,Description="All filters passed">')
        out.append('##INFO=<ID=PX,Number=.,Type=String,Description="Gene">')
        out.append('##INFO=<ID=POI,Number=0,Type=Flag,Description="Position of Interest but not part of an '
                   'allele definition">')
        out.append('##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">')
        out.append("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tPharmCAT")
        for g in genes:
            d = ctx.defs.get(self._source_for(g, ctx))
            self._gen_gene(d, d["variants"], self.edits.get(g), out, "PX=" + g)
            ex = ctx.defs.exemptions().get(g)
            if ex is not None and ex.get("extraPositions") is not None:
                self._gen_gene(d, ex["extraPositions"], self.extra.get(g), out, "POI")
        return "\n".join(out) + "\n"

    def _ref_sample(self, times):
        return ("|" if self.phased else "/").join(["0"] * times)

    def _gen_gene(self, d, variants, edit_map, out, info):
        matched = []
        for vl in variants:
            edit = None
            if edit_map is not None:
                if vl.get("rsid") is not None:
                    edit = edit_map.get(vl["rsid"])
                if edit is None:
                    edit = edit_map.get("%s:%d" % (vl["chromosome"], vl["position"]))
            if edit is None:
                chrom = d["chromosome"]
                if chrom == "chrX" and self.num_x != 2:
                    sample = self._ref_sample(self.num_x)
                elif chrom == "chrY" and self.num_y != 2:
                    sample = self._ref_sample(self.num_y)
                elif chrom == "chrM":
                    sample = self._ref_sample(1)
                else:
                    sample = "0|0" if self.phased else "0/0"
                out.append(vcf_line(chrom, vl["position"], vl.get("rsid"), vl["ref"], ",".join(vl.get("alts") or []),
                                    info, sample, None))
            else:
                matched.append(edit.id)
                self._custom(d, out, info, vl, edit)
                for dup in self.dups.get(d["gene"], []):
                    self._custom(d, out, info, vl, dup)
        if edit_map is not None:
            check = list(edit_map.keys())
            for m in matched:
                if m in check:
                    check.remove(m)
            if check:
                raise ExtractError("Not involved in named alleles for %s: %s" % (d["gene"], ", ".join(check)))

    def _custom(self, d, out, info, vl, edit):
        chrom = d["chromosome"]
        if edit.gt is not None:
            out.append(vcf_line(chrom, vl["position"], vl.get("rsid"), edit.ref, ",".join(edit.vcf_alts), info,
                                edit.gt, edit.ps))
            return
        if not edit.cpic_alleles:
            out.append("# missing: " + edit.id)
            return
        if len(edit.cpic_alleles) == 1:
            if chrom not in ("chrX", "chrY"):
                raise ExtractError("%s only has one allele defined and is not on chrX or chrY" % edit.id)
        elif len(edit.cpic_alleles) > 2:
            raise ExtractError("%s has too many alleles (%s)" % (edit.id, edit.cpic_alleles))
        alts = list(vl.get("alts") or [])
        parts = []
        for k, cpic in enumerate(edit.cpic_alleles):
            sep = ""
            if k > 0:
                ph = self.phased if edit.is_phased is None else edit.is_phased
                sep = "|" if ph else "/"
            vcf_allele = (vl.get("cpicToVcfAlleleMap") or {}).get(cpic)
            if vcf_allele is None:
                if cpic == ".":
                    vcf_allele = "."
                elif self.allow_unknown:
                    vcf_allele = cpic
                    alts.append(cpic)
                else:
                    raise ExtractError("%s: cannot determine VCF allele for %s, expected one of %s" %
                                       (edit.id, cpic, list((vl.get("cpicToVcfAlleleMap") or {}).keys())))
            if vcf_allele == ".":
                gt = "."
            elif vcf_allele == vl["ref"]:
                gt = "0"
            else:
                if vcf_allele not in alts:
                    raise ExtractError("%s:  VCF allele (%s) for %s is neither ref not alt!" %
                                       (edit.id, vcf_allele, cpic))
                gt = str(alts.index(vcf_allele) + 1)
            parts.append(sep + gt)
        out.append(vcf_line(chrom, vl["position"], vl.get("rsid"), vl["ref"], ",".join(alts), info, "".join(parts),
                            edit.ps))


def vcf_line(chrom, pos, rsid, ref, alt, info, sample, ps):
    fmt = "GT:PS" if ps is not None else "GT"
    smp = sample + (":%d" % ps if ps is not None else "")
    return "\t".join([chrom, str(pos), rsid if rsid is not None else ".", ref, alt, ".", "PASS",
                      info if info is not None else ".", fmt, smp])


def chr_sort_key(c):
    s = c[3:] if c.lower().startswith("chr") else c
    if s.isdigit():
        return (0, int(s), "")
    return (1, {"X": 0, "Y": 1, "M": 2, "MT": 2}.get(s.upper(), 3), s)


# --------------------------------------------------------------------------------------------
# Symbolic values

class V:
    """Interpreter value.  kind + optional link to a Result."""

    def __init__(self, kind, result=None, **kw):
        self.kind = kind
        self.result = result
        self.__dict__.update(kw)

    def __repr__(self):
        return "V(%s)" % self.kind


UNKNOWN = "unknown"


def unknown(result=None):
    return V(UNKNOWN, result)


class ResultRec:
    """One NamedAlleleMatcher.call()"""

    def __init__(self, method, index, line, matcher, vcf, sample):
        self.method = method
        self.index = index
        self.line = line
        self.matcher = matcher   # V kind matcher
        self.vcf = vcf           # V kind path / generated
        self.sample = sample
        self.facts = []          # (name, value, text, in_control)


class MethodCtx:
    def __init__(self, jc, method, defs, registry):
        self.jc = jc
        self.method = method
        self.defs = defs
        self.registry = registry
        self.results = []
        self.generated = []       # TestVcfBuilder snapshots, in generate() order
        self.internals = False
        self.control = 0
        self.orphans = []         # assertions not linked to a result
        self.last_result = None


def link(*vals):
    for v in vals:
        if isinstance(v, V) and v.result is not None:
            return v.result
    return None


class Interp:
    def __init__(self, defs, registry):
        self.defs = defs
        self.registry = registry   # class name -> JavaClass
        self.field_cache = {}

    # ---- entry
    def run_test(self, jc, method):
        ctx = MethodCtx(jc, method, self.defs, self.registry)
        env = {}
        if method.params:
            for ptype, pname in method.params:
                env[pname] = V("testinfo") if ptype == "TestInfo" else unknown()
        self.exec_body(ctx, jc, method, env)
        return ctx

    def exec_body(self, ctx, jc, method, env):
        p = Parser(jc, *method.body)
        stmts = p.statements()
        return self.exec_stmts(ctx, jc, stmts, env)

    def exec_stmts(self, ctx, jc, stmts, env):
        for s in stmts:
            r = self.exec_stmt(ctx, jc, s, env)
            if isinstance(r, tuple) and r[0] == "return":
                return r
        return None

    def exec_stmt(self, ctx, jc, s, env):
        k = s.kind
        if k == "empty":
            return None
        if k == "block":
            return self.exec_stmts(ctx, jc, s.body, env)
        if k == "decl":
            env[s.name] = self.eval(ctx, jc, s.init, env, span=getattr(s, "span", None)) if s.init else unknown()
            return None
        if k == "exprstmt":
            self.eval(ctx, jc, s.expr, env, span=getattr(s, "span", None))
            return None
        if k == "return":
            return ("return", self.eval(ctx, jc, s.expr, env) if s.expr else None)
        if k == "throw":
            return None
        if k == "control":
            for lv in s.loopvars:
                env[lv] = unknown()
            if s.header is not None and s.what == "for":
                # evaluate header for side effects (e.g. loop-var declarations)
                pass
            ctx.control += 1
            try:
                r = self.exec_stmt(ctx, jc, s.body, env)
                if s.els is not None:
                    self.exec_stmt(ctx, jc, s.els, env)
                for h in getattr(s, "handlers", []):
                    self.exec_stmt(ctx, jc, h, env)
            finally:
                ctx.control -= 1
            if s.what == "try":
                return r
            return None
        raise ExtractError("unknown statement kind %s" % k)

    # ---- fields
    def field_value(self, ctx, jc, name):
        key = (jc.name, name)
        if key in self.field_cache:
            return self.field_cache[key]
        for fname, a, b in jc.fields:
            if fname == name:
                p = Parser(jc, a, b)
                node = p.expr()
                v = self.eval(ctx, jc, node, {})
                self.field_cache[key] = v
                return v
        return None

    # ---- expressions
    def eval(self, ctx, jc, n, env, span=None):
        k = n.kind
        if k == "lit":
            return n.value
        if k == "name":
            if n.name in env:
                return env[n.name]
            fv = self.field_value(ctx, jc, n.name)
            if fv is not None:
                return fv
            if n.name in ("DEFAULT_EXEMPTIONS_FILE",):
                return V("exemptions")
            if n.name == "DEFAULT_DEFINITION_DIR":
                return V("defdir")
            return V("class", name=n.name)
        if k == "field":
            tgt = self.eval(ctx, jc, n.target, env)
            if isinstance(tgt, V) and tgt.kind == "class":
                if tgt.name == "DataManager" and n.name == "DEFAULT_DEFINITION_DIR":
                    return V("defdir")
                if tgt.name == "DataManager" and n.name == "DEFAULT_EXEMPTIONS_FILE":
                    return V("exemptions")
                return V("class", name=tgt.name + "." + n.name)
            return unknown(link(tgt))
        if k == "ternary":
            c = self.eval(ctx, jc, n.cond, env)
            if isinstance(c, bool):
                return self.eval(ctx, jc, n.a if c else n.b, env)
            self.eval(ctx, jc, n.a, env)
            self.eval(ctx, jc, n.b, env)
            return unknown()
        if k == "binop":
            a = self.eval(ctx, jc, n.a, env)
            b = self.eval(ctx, jc, n.b, env) if n.b is not None else None
            return unknown(link(a, b))
        if k == "unop":
            a = self.eval(ctx, jc, n.a, env)
            if n.op == "!" and isinstance(a, bool):
                return not a
            if n.op == "-" and isinstance(a, (int, float)) and not isinstance(a, bool):
                return -a
            return unknown(link(a))
        if k == "cast":
            return self.eval(ctx, jc, n.a, env)
        if k == "assign":
            v = self.eval(ctx, jc, n.value, env)
            if n.target.kind == "name" and n.op == "=":
                env[n.target.name] = v
            return v
        if k in ("lambda", "methodref"):
            return V("lambda")
        if k == "index":
            t = self.eval(ctx, jc, n.target, env)
            self.eval(ctx, jc, n.idx, env)
            return unknown(link(t))
        if k == "newarray":
            return V("list", items=[self.eval(ctx, jc, x, env) for x in n.items])
        if k == "new":
            args = [self.eval(ctx, jc, x, env) for x in n.args]
            return self.construct(ctx, jc, n, args)
        if k == "call":
            return self.call(ctx, jc, n, env, span)
        raise ExtractError("cannot evaluate %s" % k)

    def construct(self, ctx, jc, n, args):
        t = n.type
        if t in INTERNALS:
            ctx.internals = True
            return unknown()
        if t == "TestVcfBuilder":
            name = args[1] if len(args) > 1 and isinstance(args[1], str) else ctx.method.name
            return V("builder", b=TestVcfBuilder(name))
        if t == "DefinitionReader":
            if not args:
                return V("reader", sources="ALL", exemptions=True)
            if len(args) == 2 and isinstance(args[0], V) and args[0].kind == "list":
                srcs = []
                for it in args[0].items:
                    if not (isinstance(it, V) and it.kind == "deffile"):
                        return unknown()
                    srcs.append(it.source)
                return V("reader", sources=srcs, exemptions=self._exemptions_arg(args[1]))
            return unknown()
        if t == "NamedAlleleMatcher":
            if len(args) == 2:
                return self._matcher(args[1], False, False)
            if len(args) == 5:
                return self._matcher(args[1], args[2], args[3])
            return unknown()
        if t == "VcfFile":
            if args and isinstance(args[0], V) and args[0].kind in ("vcfpath", "generated"):
                return V("vcffile", vcf=args[0])
            return unknown()
        if t in ("ArrayList", "TreeSet", "HashSet", "LinkedList", "LinkedHashSet"):
            if args and isinstance(args[0], V) and args[0].kind == "list":
                return V("list", items=list(args[0].items))
            if not args:
                return V("list", items=[])
            return unknown(link(*args))
        return unknown(link(*args))

    @staticmethod
    def _exemptions_arg(v):
        if v is None:
            return False
        if isinstance(v, V) and v.kind == "exemptions":
            return True
        raise ExtractError("cannot interpret exemptions argument %r" % (v,))

    def _matcher(self, reader, find, top):
        if not (isinstance(reader, V) and reader.kind == "reader"):
            return unknown()
        if not isinstance(find, bool) or not isinstance(top, bool):
            raise ExtractError("non-literal matcher flags")
        return V("matcher", sources=reader.sources, exemptions=reader.exemptions, find=find, top=top)

    def new_result(self, ctx, line, matcher, vcf, sample):
        r = ResultRec(ctx.method, len(ctx.results) + 1, line, matcher, vcf, sample)
        ctx.results.append(r)
        ctx.last_result = r
        return V("result", r)

    def fact(self, ctx, jc, result, name, value, span):
        text = jc.text(*span) if span else name
        if result is None:
            ctx.orphans.append((name, value, text))
            return
        result.facts.append((name, value, text, ctx.control > 0))

    def call(self, ctx, jc, n, env, span):
        name = n.name
        # receiver-less calls: helpers / asserts / static imports
        if n.target is None:
            args = [self.eval(ctx, jc, x, env) for x in n.args]
            return self.static_call(ctx, jc, n, name, args, span)
        tgt = self.eval(ctx, jc, n.target, env)
        args = [self.eval(ctx, jc, x, env) for x in n.args]
        if isinstance(tgt, V) and tgt.kind == "class":
            return self.class_call(ctx, jc, n, tgt.name, name, args, span)
        if isinstance(tgt, V):
            return self.method_call(ctx, jc, n, tgt, name, args, span)
        if isinstance(tgt, str):
            return unknown()
        return unknown()

    def class_call(self, ctx, jc, n, cls, name, args, span):
        if cls in ("Lists", "List", "Arrays", "Set", "Sets", "ImmutableList") and \
                name in ("newArrayList", "of", "asList", "newHashSet", "copyOf"):
            if len(args) == 1 and isinstance(args[0], V) and args[0].kind == "list":
                return V("list", items=list(args[0].items))
            return V("list", items=list(args))
        if cls == "PathUtils" and name == "getPathToResource":
            p = args[0]
            if p.endswith(".json"):
                return V("deffile", source=("resource", p))
            return V("vcfpath", path=p)
        if cls == "DataManager" and name == "getDefinitionFilePath":
            return V("deffile", source=("shipped", args[0]))
        if cls == "DefinitionReader" and name == "defaultReader":
            return V("reader", sources="ALL", exemptions=True)
        if cls in self.registry and any(m.name == name for m in self.registry[cls].methods):
            return self.invoke_user(ctx, self.registry[cls], name, args, n, span)
        if cls in INTERNALS:
            ctx.internals = True
        return unknown(link(*args))

    def method_call(self, ctx, jc, n, tgt, name, args, span):
        k = tgt.kind
        r = tgt.result
        if k == "defdir" and name == "resolve":
            m = re.fullmatch(r"(.+)_translation\.json", args[0])
            if m:
                return V("deffile", source=("shipped", m.group(1)))
            if args[0] == "exemptions.json":
                return V("exemptions")
            return unknown()
        if k == "builder":
            if name == "generate":
                snap = copy.deepcopy(tgt.b)
                g = V("generated", b=snap, index=len(ctx.generated) + 1)
                ctx.generated.append(g)
                return g
            if name == "getMatcher":
                srcs = list(tgt.b.def_sources) if tgt.b.def_sources else "ALL"
                if len(args) == 3:
                    return V("matcher", sources=srcs, exemptions=True, find=args[0], top=args[1])
                if len(args) == 4:
                    return V("matcher", sources=srcs, exemptions=self._exemptions_arg(args[0]),
                             find=args[1], top=args[2])
                raise ExtractError("unexpected getMatcher arity")
            if name == "hasData":
                return unknown()
            tgt.b.call(name, args, ctx)
            return tgt
        if k == "matcher":
            if name == "call":
                vf = args[0]
                if not (isinstance(vf, V) and vf.kind == "vcffile"):
                    return unknown()
                sample = args[1] if len(args) > 1 else None
                if sample is not None and not isinstance(sample, str):
                    raise ExtractError("non-literal sample id")
                return self.new_result(ctx, n.line, tgt, vf.vcf, sample)
            if name == "printWarnings":
                return tgt
            return unknown()
        if k == "result":
            if name == "getGeneCalls":
                return V("genecalls", r)
            if name == "getVcfWarnings":
                return V("vcfwarnings", r)
            return unknown(r)
        if k == "genecalls":
            if name == "get":
                return V("genecall", r)
            if name in ("stream", "filter", "toList", "collect", "sorted"):
                return tgt
            if name in ("findFirst", "findAny"):
                return V("optgenecall", r)
            if name == "size":
                return V("size", r, of="genecalls")
            if name == "isEmpty":
                return unknown(r)
            return unknown(r)
        if k == "optgenecall":
            if name in ("get", "orElseThrow", "orElse"):
                return V("genecall", r)
            return unknown(r)
        if k == "genecall":
            if name == "getDiplotypes":
                return V("diplotypes", r)
            if name == "getMatchData":
                return V("matchdata", r)
            if name == "getHaplotypes":
                return V("haplotypes", r)
            if name == "getHaplotypeMatches":
                return V("hapmatches", r)
            return unknown(r)
        if k == "diplotypes":
            if name == "size":
                return V("size", r, of="diplotypes")
            if name == "iterator":
                return V("dmiter", r, pos=0)
            if name == "first":
                return V("dm", r, idx=0)
            return unknown(r)
        if k == "dmiter":
            if name == "next":
                tgt.pos += 1
                return V("dm", r, idx=tgt.pos - 1)
            return unknown(r)
        if k == "dm":
            if name in ("getName", "toString"):
                return V("dmname", r, idx=tgt.idx)
            return unknown(r)
        if k == "matchdata":
            if name == "getMissingPositions":
                return V("missingpos", r)
            if name == "getPositionsWithUndocumentedVariations":
                return V("undocpos", r)
            return unknown(r)
        if k in ("vcfwarnings", "missingpos", "undocpos", "haplotypes", "hapmatches", "matches"):
            if name == "size":
                return V("size", r, of=k)
            return unknown(r)
        if k == "list":
            if name == "size":
                return len(tgt.items)
            if name == "get" and isinstance(args[0], int):
                return tgt.items[args[0]]
            return unknown()
        if k == "testinfo":
            return unknown()
        return unknown(link(tgt, *args))

    def static_call(self, ctx, jc, n, name, args, span):
        # assertions
        if name == "assertDiplotypePairs":
            exp, res = args[0], args[1]
            if isinstance(res, V) and res.kind == "result":
                lst = [exp] if isinstance(exp, str) else self._strlist(exp)
                self.fact(ctx, jc, res.result, "full", lst, span)
            else:
                self.fact(ctx, jc, link(*args), "other", None, span)
            return None
        if name == "assertPhasedOutput":
            if isinstance(args[1], V) and args[1].kind == "result":
                self.fact(ctx, jc, args[1].result, "phased_output", args[0], span)
            return None
        if name == "printMatches":
            g = args[0]
            if isinstance(g, V) and g.kind == "genecall":
                return V("matches", g.result)
            return unknown(link(g))
        if name == "printWarnings":
            return None
        if name == "contains":
            return V("contains", items=list(args))
        if name == "assertEquals" and len(args) >= 2:
            self._assert_equals(ctx, jc, args[0], args[1], span)
            return None
        if name == "assertThat" and len(args) >= 2:
            act, m = args[0], args[1]
            if isinstance(act, V) and act.kind == "matches" and isinstance(m, V) and m.kind == "contains":
                self.fact(ctx, jc, act.result, "full", self._strlist(V("list", items=m.items)), span)
            else:
                self.fact(ctx, jc, link(*args), "other", None, span)
            return None
        if name.startswith("assert") or name == "fail":
            self.fact(ctx, jc, link(*args) or ctx.last_result, "other", None, span)
            return None
        # user helpers: current class, then static imports
        if any(m.name == name for m in jc.methods):
            return self.invoke_user(ctx, jc, name, args, n, span)
        owner = jc.static_imports.get(name)
        if owner:
            simple = owner.rpartition(".")[2]
            if simple in self.registry:
                return self.invoke_user(ctx, self.registry[simple], name, args, n, span)
        for star in jc.static_star:
            simple = star.rpartition(".")[2]
            if simple in self.registry and any(m.name == name for m in self.registry[simple].methods):
                return self.invoke_user(ctx, self.registry[simple], name, args, n, span)
        return unknown(link(*args))

    @staticmethod
    def _strlist(v):
        if not (isinstance(v, V) and v.kind == "list") or not all(isinstance(x, str) for x in v.items):
            raise ExtractError("expected a list of string literals, got %r" % (v,))
        return list(v.items)

    def _assert_equals(self, ctx, jc, exp, act, span):
        r = link(act, exp)
        if isinstance(act, V):
            if act.kind == "size" and isinstance(exp, int):
                name = {"diplotypes": "count", "matches": "count", "vcfwarnings": "vcf_warnings_count",
                        "genecalls": "gene_call_count", "missingpos": "missing_positions_count",
                        "undocpos": "undocumented_positions_count"}.get(act.of)
                if name:
                    self.fact(ctx, jc, act.result, name, exp, span)
                    return
            if act.kind == "dmname" and isinstance(exp, str):
                self.fact(ctx, jc, act.result, "dm%d" % act.idx, exp, span)
                return
            if act.kind == "matches" and isinstance(exp, V) and exp.kind == "list":
                self.fact(ctx, jc, act.result, "full", self._strlist(exp), span)
                return
        self.fact(ctx, jc, r or ctx.last_result, "other", None, span)

    def invoke_user(self, ctx, cls, name, args, n, span):
        cands = [m for m in cls.methods if m.name == name and len(m.params) == len(args)]
        if len(cands) > 1:
            def ok(m):
                for (ptype, _), a in zip(m.params, args):
                    if ptype == "boolean" and not isinstance(a, bool):
                        return False
                    if ptype in ("Path",) and isinstance(a, bool):
                        return False
                    if ptype == "String" and not (isinstance(a, str) or a is None):
                        return False
                return True
            cands = [m for m in cands if ok(m)]
        if len(cands) != 1:
            raise ExtractError("cannot resolve %s.%s/%d (%d candidates)" % (cls.name, name, len(args), len(cands)))
        m = cands[0]
        env = {pname: a for (ptype, pname), a in zip(m.params, args)}
        # results created inside the helper are attributed to the caller's line
        before = len(ctx.results)
        r = self.exec_body(ctx, cls, m, env)
        for rec in ctx.results[before:]:
            rec.line = n.line
        return r[1] if r else None


# --------------------------------------------------------------------------------------------
# classification

def result_gene_and_scope(rec, defs):
    """returns (gene, oos_reason)"""
    m = rec.matcher
    if m.sources == "ALL":
        return None, "matcher runs all shipped definitions"
    res = [s for s in m.sources if s[0] == "resource"]
    if res:
        if len(m.sources) != 1:
            return None, "matcher runs several definitions (%s)" % ", ".join(
                os.path.basename(s[1]) if s[0] == "resource" else s[1] for s in m.sources)
        gene = defs.get(res[0]).get("gene")
        if gene not in SCOPE_GENES:
            return gene, "uses test-resource definition %s (gene %s not in scope) instead of the shipped one" % \
                (os.path.basename(res[0][1]), gene)
        return gene, None
    genes = [s[1] for s in m.sources]
    if len(genes) != 1:
        return None, "matcher runs several definitions (%s)" % ", ".join(genes)
    if genes[0] not in SCOPE_GENES:
        return genes[0], "gene %s not in scope" % genes[0]
    return genes[0], None


def definition_shape_differences(test_def, shipped_def):
    """How a test-resource definition differs in shape from the shipped one of the same gene."""
    out = []

    def keys_diff(what, test_keys, shipped_keys):
        missing = [k for k in shipped_keys if k not in test_keys]
        extra = [k for k in test_keys if k not in shipped_keys]
        if missing:
            out.append("%s: missing %s" % (what, ", ".join(missing)))
        if extra:
            out.append("%s: extra %s" % (what, ", ".join(extra)))

    def union(items):
        seen = []
        for it in items:
            for k in it:
                if k not in seen:
                    seen.append(k)
        return seen

    keys_diff("top level", list(test_def), list(shipped_def))
    for k in ("chromosome", "genomeBuild", "refSeqChromosomeId", "formatVersion"):
        if test_def.get(k) != shipped_def.get(k):
            out.append("%s: %s (shipped %s)" % (k, json.dumps(test_def.get(k)), json.dumps(shipped_def.get(k))))
    keys_diff("variants[]", union(test_def["variants"]), union(shipped_def["variants"]))
    keys_diff("namedAlleles[]", union(test_def["namedAlleles"]), union(shipped_def["namedAlleles"]))
    for k in ("variants", "namedAlleles"):
        if len(test_def[k]) != len(shipped_def[k]):
            out.append("%d %s (shipped %d)" % (len(test_def[k]), k, len(shipped_def[k])))
    shipped_pos = {v["position"]: v for v in shipped_def["variants"]}
    novel = [v["position"] for v in test_def["variants"] if v["position"] not in shipped_pos]
    if novel:
        out.append("positions not in the shipped definition: %s" % ", ".join(str(p) for p in novel))
    changed = []
    for v in test_def["variants"]:
        w = shipped_pos.get(v["position"])
        if w is None:
            continue
        for k in ("ref", "alts", "rsid", "chromosomeHgvsName"):
            if v.get(k) != w.get(k):
                changed.append("%d %s %s (shipped %s)" % (v["position"], k, json.dumps(v.get(k)), json.dumps(w.get(k))))
    if changed:
        out.append("variants differing from the shipped ones: " + "; ".join(changed))
    return out


def derive_expectation(rec):
    """returns (expect, extras, problem)"""
    facts = {}
    extras = {}
    unchecked = []
    for name, value, text, in_ctl in rec.facts:
        if name == "other":
            unchecked.append(text)
            continue
        if in_ctl and name in ("full", "count", "dm0"):
            return None, None, "diplotype assertion inside control flow: %s" % text
        if name in facts and facts[name] != value:
            return None, None, "conflicting %s assertions" % name
        facts[name] = value
    expect = None
    if "full" in facts:
        expect = facts["full"]
        if "count" in facts and facts["count"] != len(expect):
            return None, None, "count %d != len(full list)" % facts["count"]
    elif "count" in facts:
        cnt = facts["count"]
        firsts = [facts.get("dm%d" % i) for i in range(cnt)]
        if cnt == 0:
            expect = []
        elif all(f is not None for f in firsts):
            expect = firsts
    for i in range(0, 10):
        f = facts.get("dm%d" % i)
        if f is not None and expect is not None and (i >= len(expect) or expect[i] != f):
            return None, None, "diplotype #%d assertion %r contradicts list %r" % (i, f, expect)
    if expect is None:
        return None, None, "no expressible diplotype expectation"
    if "phased_output" in facts:
        extras["phased_output"] = facts["phased_output"]
    for k in ("vcf_warnings_count", "missing_positions_count", "undocumented_positions_count"):
        if k in facts:
            extras["expect_" + k] = facts[k]
    if facts.get("gene_call_count", 1) != 1:
        extras["expect_gene_call_count"] = facts["gene_call_count"]
    hap_matches = haplotype_match_expectation(unchecked)
    if hap_matches is not None:
        extras["expect_haplotype_matches"], unchecked = hap_matches
    if unchecked:
        extras["unchecked_assertions"] = unchecked
    return expect, extras, None


def haplotype_match_expectation(unchecked):
    """The lowest-function genes' haplotype matches (no diplotypes without phase): a size
    assertion on geneCall.getHaplotypeMatches() with a contains("…", …) list of the same length.
    Returns (names, remaining unchecked assertions) or None."""
    size = None
    names = None
    used = []
    for text in unchecked:
        m = re.search(r"assertEquals\((\d+),\s*geneCall\.getHaplotypeMatches\(\)\.size\(\)\)", text)
        if m:
            size = int(m.group(1))
            used.append(text)
            continue
        m = re.search(r"contains\(((?:\s*\"[^\"]*\"\s*,?)+)\)\s*\)\s*;", text)
        if m and ("names" in text or "getHaplotypeMatches" in text):
            names = re.findall(r'"([^"]*)"', m.group(1))
            used.append(text)
    if size is None or names is None or len(names) != size:
        return None
    return names, [t for t in unchecked if t not in used]


def in_scope_file(jc):
    markers = ("testMatchNamedAlleles", "assertDiplotypePairs", "getDiplotypes", "NamedAlleleMatcher")
    ids = {t.val for t in jc.toks if t.kind == "id"}
    return any(m in ids for m in markers)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repo", required=True, help="PharmCAT git dir")
    ap.add_argument("--ref", default="v3.1.1")
    ap.add_argument("--out", required=True, help="output dir (e.g. tests/pgx/pharmcat)")
    ap.add_argument("--verbose", action="store_true")
    opts = ap.parse_args()

    git = Git(opts.repo, opts.ref)
    commit = git.commit()
    file_date = git.commit_date()
    defs = Definitions(git)

    # sanity-check the Java APIs this script re-implements
    tvb = git.read(TEST_ROOT + "org/pharmgkb/pharmcat/TestVcfBuilder.java")
    for needle in ('writer.println("# missing: " + edit.id);', 'm_isPhased ? "0|0" : "0/0"',
                   "vl.getCpicToVcfAlleleMap().get(cpicAllele)",
                   'generateForGene(definitionFile, exemption.getExtraPositions(), m_extraPositions.get(gene), writer, "POI")',
                   "return getMatcher(DEFAULT_EXEMPTIONS_FILE, findCombinations, topCandidateOnly, callCyp2d6);"):
        if needle not in tvb:
            raise ExtractError("TestVcfBuilder.java changed (missing %r): review the Python port" % needle)
    nam = git.read("src/main/java/org/pharmgkb/pharmcat/haplotype/NamedAlleleMatcher.java")
    if not re.search(r"public NamedAlleleMatcher\(Env env, DefinitionReader definitionReader, boolean findCombinations,"
                     r"\s+boolean topCandidateOnly, boolean callCyp2d6\)", nam):
        raise ExtractError("NamedAlleleMatcher constructor signature changed: review Interp.construct")
    vh = git.read("src/main/java/org/pharmgkb/pharmcat/util/VcfHelper.java")
    if '"#CHROM\\tPOS\\tID\\tREF\\tALT\\tQUAL\\tFILTER\\tINFO\\tFORMAT\\tPharmCAT"' not in vh:
        raise ExtractError("VcfHelper.printVcfHeaders changed: review TestVcfBuilder.generate")

    # load all test classes under haplotype/ (+ helpers they statically import)
    registry = {}
    files = [p for p in git.ls(TEST_DIR) if p.endswith("Test.java")]
    for p in files:
        jc = JavaClass(p, git.read(p))
        registry[jc.name] = jc

    interp = Interp(defs, registry)
    cases, oos, unclassified, skipped_files = [], [], [], []
    vcf_outputs = {}  # out rel path -> bytes
    def_outputs = {}  # out rel path -> (resource path, gene)

    for p in sorted(files):
        jc = registry[p.rsplit("/", 1)[1][:-5]]
        tests = [m for m in jc.methods if "Test" in m.annotations or "ParameterizedTest" in m.annotations
                 or "RepeatedTest" in m.annotations or "TestFactory" in m.annotations]
        if not tests:
            continue
        if not in_scope_file(jc):
            skipped_files.append(p)
            continue
        # per-gene file for a gene outside scope: no need to interpret
        m = re.fullmatch(r"NamedAlleleMatcher(\w+)Test", jc.name)
        if m:
            gene_guess = [g for g in defs.shipped_genes() if g.upper() == m.group(1).upper()]
            if gene_guess and gene_guess[0] not in SCOPE_GENES:
                for t in tests:
                    oos.append({"id": "%s.%s" % (jc.name, t.name),
                                "reason": "gene %s not in scope" % gene_guess[0]})
                continue
        for t in tests:
            tid = "%s.%s" % (jc.name, t.name)
            if "Disabled" in t.annotations:
                oos.append({"id": tid, "reason": "@Disabled"})
                continue
            if "Test" not in t.annotations:
                unclassified.append((tid, "not a plain @Test (%s)" % t.annotations))
                continue
            if tid in HAND_CASES:
                for k, c in enumerate(HAND_CASES[tid], 1):
                    c = dict(c)
                    c["id"] = "%s#%d" % (tid, k)
                    c.setdefault("source", "%s:%d" % (p, t.line))
                    cases.append(c)
                continue
            try:
                ctx = interp.run_test(jc, t)
            except ExtractError as ex:
                if tid in OUT_OF_SCOPE_OVERRIDES:
                    oos.append({"id": tid, "reason": OUT_OF_SCOPE_OVERRIDES[tid]})
                else:
                    unclassified.append((tid, "interpreter error: %s" % ex))
                continue
            if tid in OUT_OF_SCOPE_OVERRIDES:
                oos.append({"id": tid, "reason": OUT_OF_SCOPE_OVERRIDES[tid]})
                continue
            if not ctx.results:
                if ctx.internals:
                    oos.append({"id": tid, "reason": "unit test of DiplotypeMatcher/MatchData internals on "
                                                     "in-memory synthetic definitions (no VCF, no shipped definition)"})
                else:
                    unclassified.append((tid, "no NamedAlleleMatcher call found"))
                continue
            method_oos = []
            n_gen = len(ctx.generated)
            for rec in ctx.results:
                rid = "%s#%d" % (tid, rec.index)
                gene, reason = result_gene_and_scope(rec, defs)
                if reason:
                    method_oos.append((rid, reason))
                    continue
                expect, extras, problem = derive_expectation(rec)
                if problem:
                    unclassified.append((rid, problem))
                    continue
                vcf = rec.vcf
                if vcf.kind == "vcfpath":
                    rel = vcf.path
                    data = git.read_bytes(RES_ROOT + rel)
                    if rel.startswith(HAP_RES):
                        out_rel = "vcf/matcher/" + rel[len(HAP_RES):]
                    else:
                        out_rel = "vcf/matcher/_other/" + rel
                    generated = False
                else:
                    suffix = "" if n_gen == 1 else "_%d" % vcf.index
                    out_rel = "vcf/matcher/generated/%s/%s%s.vcf" % (jc.name, t.name, suffix)
                    try:
                        data = vcf.b.generate(interp_ctx_shim(defs), file_date).encode("utf-8")
                    except ExtractError as ex:
                        unclassified.append((rid, "TestVcfBuilder failed: %s" % ex))
                        continue
                    generated = True
                if out_rel in vcf_outputs and vcf_outputs[out_rel] != data:
                    raise ExtractError("two different VCFs map to %s" % out_rel)
                vcf_outputs[out_rel] = data
                sample = rec.sample
                header = [l for l in data.decode("utf-8").splitlines() if l.startswith("#CHROM")]
                samples = header[0].split("\t")[9:] if header else []
                if sample is None and len(samples) > 1:
                    sample = samples[0]   # PharmCAT uses the first sample when none is given
                case = {
                    "id": rid,
                    "source": "%s:%d" % (p, rec.line),
                    "gene": gene,
                }
                res_src = [s for s in rec.matcher.sources if s[0] == "resource"]
                if res_src:
                    def_rel = "definitions/" + os.path.basename(res_src[0][1])
                    prev = def_outputs.get(def_rel)
                    if prev is not None and prev[0] != res_src[0][1]:
                        raise ExtractError("two different definitions map to %s" % def_rel)
                    def_outputs[def_rel] = (res_src[0][1], gene)
                    case["definition"] = def_rel
                case.update({
                    "vcf": out_rel,
                    "sample": sample,
                    "mode": {"top_candidate_only": rec.matcher.top, "find_combinations": rec.matcher.find,
                             "exemptions": rec.matcher.exemptions},
                    "expect": expect,
                })
                if generated:
                    case["vcf_generated"] = "TestVcfBuilder"
                case.update(extras)
                cases.append(case)
            if method_oos:
                reasons = {r for _, r in method_oos}
                if len(method_oos) == len(ctx.results) and len(reasons) == 1:
                    oos.append({"id": tid, "reason": reasons.pop()})
                else:
                    for rid, r in method_oos:
                        oos.append({"id": rid, "reason": r})

    if unclassified:
        sys.stderr.write("ERROR: %d test method(s)/call(s) could not be classified as case or out-of-scope:\n"
                         % len(unclassified))
        for tid, why in unclassified:
            sys.stderr.write("  %s: %s\n" % (tid, why))
        sys.stderr.write("Fix the interpreter, or add to OUT_OF_SCOPE_OVERRIDES / HAND_CASES.\n")
        sys.exit(2)

    # write
    vdir = os.path.join(opts.out, "vcf", "matcher")
    if os.path.isdir(vdir):
        shutil.rmtree(vdir)
    for rel, data in sorted(vcf_outputs.items()):
        path = os.path.join(opts.out, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as fh:
            fh.write(data)
    ddir = os.path.join(opts.out, "definitions")
    if os.path.isdir(ddir):
        shutil.rmtree(ddir)
    def_docs = []
    for rel, (res_path, gene) in sorted(def_outputs.items()):
        path = os.path.join(opts.out, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as fh:
            fh.write(git.read_bytes(RES_ROOT + res_path))
        def_docs.append({
            "file": rel,
            "source": RES_ROOT + res_path,
            "gene": gene,
            "cases": sum(1 for c in cases if c.get("definition") == rel),
            "shape_differences_from_shipped": definition_shape_differences(
                defs.get(("resource", res_path)), defs.get(("shipped", gene))),
        })
    doc = {
        "pharmcat_ref": opts.ref,
        "pharmcat_commit": commit,
        "license": LICENSE,
        "generated_by": "tests/pgx/pharmcat/extract_matcher_cases.py",
        "notes": [
            "expect is the exact ordered DiplotypeMatch name list PharmCAT asserts ([] = no diplotype call).",
            "mode mirrors NamedAlleleMatcher(findCombinations, topCandidateOnly) and whether exemptions.json "
            "was loaded.",
            "vcf_generated: VCF re-created from the test's TestVcfBuilder calls (##fileDate fixed to the "
            "commit date); '# missing: ID' lines are what TestVcfBuilder writes for missing positions.",
            "unchecked_assertions: Java assertions of the test that the case format does not express.",
            "definition: the case runs the matcher on this test-resource allele definition (path relative to "
            "this file's directory; load it as alleles/<gene>_translation.json) instead of the shipped one, "
            "exactly as the Java test does; see 'definitions' for how each differs in shape from the "
            "shipped file.",
        ],
        "cases": cases,
        "definitions": def_docs,
        "out_of_scope": oos,
        "skipped_files": [{"file": f, "reason": "no matcher run / diplotype assertion"} for f in skipped_files],
    }
    with open(os.path.join(opts.out, "matcher_cases.json"), "w") as fh:
        json.dump(doc, fh, indent=1, ensure_ascii=False)
        fh.write("\n")
    per_gene = {}
    for c in cases:
        per_gene[c["gene"]] = per_gene.get(c["gene"], 0) + 1
    print("%d cases (%s), %d out of scope, %d VCFs written to %s, %d definitions to %s" % (
        len(cases), ", ".join("%s %d" % kv for kv in sorted(per_gene.items())), len(oos), len(vcf_outputs), vdir,
        len(def_docs), ddir))


class interp_ctx_shim:
    def __init__(self, defs):
        self.defs = defs


if __name__ == "__main__":
    try:
        main()
    except ExtractError as ex:
        sys.stderr.write("ERROR: %s\n" % ex)
        sys.exit(2)
