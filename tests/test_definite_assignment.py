"""Generated code never reads a name it has not assigned (issue 9, part 1).

The python and numba backends compute a `where` branch only when it is taken: its statements
sit under `if _t1:` / `if not _t3:` / `if _g4:` blocks, and a later `(_t2 if _t1 else 0.0)`
reads `_t2` only when `_t1` holds. With nested `where`s (a condition that reads an earlier
`where`) the scheduler once emitted functions that read names assigned under a weaker guard,
or never assigned at all (NameError / UnboundLocalError at call time).

`check_source` below is a small definite-assignment checker over the AST of a generated
module. It is path-sensitive on the guards the generator writes: a name assigned under
`if _t1:` may be read under `_t1` (or anything implying it), where guard variables such as
`_g5 = _g4 and not _t3` and `_g6 = _g5 or _g2` are expanded into their conditions. It fails
loudly (`Unsupported`) on any construct it does not model, so it cannot pass by ignoring code.

Then: unit tests of the checker, a hypothesis test over random programs with nested guards
(checker + calls at corner points + derivatives against an mpmath oracle), and regression
tests for the programs of the issue.
"""

from __future__ import annotations

import ast
import builtins
import functools
import math
import os
import runpy
import textwrap
import warnings
from collections.abc import Callable, Iterable
from typing import Any

import mpmath
import numpy
import pytest
import sympy as sp
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from oracles import sympy_oracle as oracle

import symback

# The numpy backend computes every branch: sqrt and log of negative numbers warn.
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

# --- the checker -------------------------------------------------------------------------------
#
# A *condition* is in disjunctive normal form: a frozenset of alternatives, each a frozenset of
# literals (name, polarity) that must all hold. A literal names a value whose truthiness is
# tested (`_t1`, or `not _t1`); tests the checker does not decompose (`_t11 > 0.0`,
# `len(inputs) <= 32`) get a fresh opaque literal, which nothing else can imply: sound, only
# less precise. The checker keeps, for every local name, the condition under which it has
# been assigned; a read is accepted when the condition of the path reaching it implies that.

Literal = tuple[str, bool]
Condition = frozenset  # frozenset[frozenset[Literal]]

TRUE: Condition = frozenset({frozenset()})
FALSE: Condition = frozenset()
MAX_ALTERNATIVES = 4096


class Unsupported(Exception):
    """The checker met a construct it does not model."""


def _consistent(alternative: Iterable[Literal]) -> bool:
    alternative = set(alternative)
    return not any((name, not positive) in alternative for name, positive in alternative)


def _absorb(alternatives: set[frozenset]) -> Condition:
    """Drop alternatives implied by a smaller one (a or (a and b) == a)."""
    kept = [a for a in alternatives if _consistent(a)]
    kept.sort(key=len)
    out: list[frozenset] = []
    for a in kept:
        if not any(b <= a for b in out):
            out.append(a)
    if len(out) > MAX_ALTERNATIVES:
        raise Unsupported(f"a condition with more than {MAX_ALTERNATIVES} alternatives")
    return frozenset(out)


def conj(a: Condition, b: Condition) -> Condition:
    if a == TRUE:
        return b
    if b == TRUE:
        return a
    return _absorb({x | y for x in a for y in b})


def disj(a: Condition, b: Condition) -> Condition:
    return _absorb(set(a) | set(b))


def neg(a: Condition) -> Condition:
    out = TRUE
    for alternative in a:                # not (l1 and l2) == (not l1) or (not l2)
        out = conj(out, frozenset(frozenset({(n, not p)}) for n, p in alternative))
    return out


def literal(name: str, positive: bool = True) -> Condition:
    return frozenset({frozenset({(name, positive)})})


def _restrict(cond: Condition, lit: Literal) -> Condition:
    """`cond` where the literal `lit` holds."""
    opposite = (lit[0], not lit[1])
    return frozenset(a - {lit} for a in cond if opposite not in a)


def _tautology(cond: Condition) -> bool:
    if frozenset() in cond:
        return True
    if not cond:
        return False
    name = min(n for a in cond for n, _ in a)         # Shannon expansion on one name
    return _tautology(_restrict(cond, (name, True))) and _tautology(_restrict(cond, (name, False)))


@functools.lru_cache(maxsize=100_000)
def implies(a: Condition, b: Condition) -> bool:
    """Whether condition a implies condition b (exactly, over their literals)."""
    if b == TRUE or not a:
        return True
    for alternative in a:
        rest = b
        for lit in alternative:
            rest = _restrict(rest, lit)
        if not _tautology(rest):
            return False
    return True


def show(cond: Condition) -> str:
    if cond == TRUE:
        return "always"
    if not cond:
        return "never"
    alts = [" and ".join(n if p else f"not {n}" for n, p in sorted(a)) for a in sorted(
        cond, key=sorted)]
    return " or ".join(f"({a})" for a in alts)


def literals_of(cond: Condition) -> set[str]:
    return {n for a in cond for n, _ in a}


# Expression nodes read as a whole (all children, on the same path). Anything else in an
# expression -- lambda, walrus, yield, await -- is Unsupported.
_PLAIN_EXPRESSIONS = (ast.Call, ast.Attribute, ast.Subscript, ast.BinOp, ast.UnaryOp,
                      ast.Compare, ast.Tuple, ast.List, ast.Set, ast.Dict, ast.Constant,
                      ast.Starred, ast.Slice, ast.JoinedStr, ast.FormattedValue)
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)
_SYNTAX_ONLY = (ast.expr_context, ast.operator, ast.unaryop, ast.cmpop, ast.boolop)


def module_names(tree: ast.Module) -> set[str]:
    """Names bound at module level (imports, assignments, functions) and the builtins."""
    names = set(dir(builtins)) | {"__file__", "__name__", "__doc__"}
    for stmt in tree.body:
        if isinstance(stmt, ast.Import):
            names.update((a.asname or a.name).split(".")[0] for a in stmt.names)
        elif isinstance(stmt, ast.ImportFrom):
            names.update(a.asname or a.name for a in stmt.names)
        elif isinstance(stmt, (ast.FunctionDef, ast.ClassDef)):
            names.add(stmt.name)
        elif isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            for t in targets:
                names.update(n.id for n in ast.walk(t) if isinstance(n, ast.Name))
        elif isinstance(stmt, ast.Expr):
            pass
        else:
            raise Unsupported(f"module-level {type(stmt).__name__} at line {stmt.lineno}")
    return names


def check_source(source: str, strict: bool = False) -> list[str]:
    """The definite-assignment problems of every function of a module, as messages
    ("<function>, line <n>: ..."); [] when every read is of an assigned name.

    A read on a path that cannot run (`(0.0 if _t1 else _t27)` under `if _t1:`) cannot fail
    and is accepted; with `strict`, a name assigned nowhere is reported there too (it is
    still an undefined name to a linter: ruff's F821)."""
    tree = ast.parse(source)
    glob = module_names(tree)
    problems: list[str] = []
    for stmt in tree.body:
        if isinstance(stmt, ast.FunctionDef):
            problems += _FunctionChecker(stmt, glob, strict).run()
        elif isinstance(stmt, (ast.AsyncFunctionDef, ast.ClassDef)):
            raise Unsupported(f"{type(stmt).__name__} {stmt.name}")
    return problems


def _local_names(fn: ast.FunctionDef) -> set[str]:
    """Names local to the function: parameters and every name it stores or deletes
    (comprehension variables live in their own scope and are left out)."""
    args = fn.args
    params = args.posonlyargs + args.args + args.kwonlyargs
    names = {a.arg for a in params}
    names.update(a.arg for a in (args.vararg, args.kwarg) if a is not None)
    scoped: set[int] = set()
    for node in ast.walk(fn):
        if isinstance(node, _COMPREHENSIONS):
            for gen in node.generators:
                scoped.update(id(n) for n in ast.walk(gen.target))
        if isinstance(node, (ast.Global, ast.Nonlocal, ast.Lambda, ast.NamedExpr,
                             ast.Yield, ast.YieldFrom, ast.Await)) or (
                isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                and node is not fn):
            raise Unsupported(f"{type(node).__name__} in {fn.name}() at line {node.lineno}")
    for node in ast.walk(fn):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)) \
                and id(node) not in scoped:
            names.add(node.id)
    return names


def _stores(body: list[ast.stmt]) -> dict[str, set[str]]:
    """Name -> the right-hand sides (ast.dump) stored to it in these statements, nested ones
    included; "<other>" for stores that are not `name = expression` (loop targets, augmented
    and tuple assignments, `name[i] = ...`, which mutates the name's value)."""
    stores: dict[str, set[str]] = {}
    for stmt in body:
        for node in ast.walk(stmt):
            if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if len(targets) == 1 and isinstance(targets[0], ast.Name):
                    stores.setdefault(targets[0].id, set()).add(ast.dump(node.value))
                    continue
            if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.For)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for t in targets:
                    for n in ast.walk(t):
                        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
                            stores.setdefault(n.id, set()).add("<other>")
                        elif isinstance(n, (ast.Subscript, ast.Attribute)) \
                                and isinstance(n.ctx, ast.Store):
                            base = n.value
                            while isinstance(base, (ast.Subscript, ast.Attribute)):
                                base = base.value
                            if isinstance(base, ast.Name):
                                stores.setdefault(base.id, set()).add("<other>")
    return stores


def stable_names(body: list[ast.stmt], bound: Iterable[str]) -> set[str]:
    """Names whose every store in `body` computes the same value: each is stored only as
    `name = E` with one expression E (recomputing a statement under a second guard), and E
    reads only stable names or names that `body` does not store. `bound`: names bound on
    entry (parameters, a loop's target); stored again in `body`, they are not stable."""
    stores = _stores(body)
    for name in bound:
        if name in stores:
            stores[name].add("<other>")
    reads = {}
    for stmt in body:
        for node in ast.walk(stmt):
            if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if len(targets) == 1 and isinstance(targets[0], ast.Name):
                    reads.setdefault(targets[0].id, set()).update(
                        n.id for n in ast.walk(node.value) if isinstance(n, ast.Name))
    stable: set[str] = set()
    changed = True
    while changed:                               # least fixpoint: a cycle is never stable
        changed = False
        for name, rhs in stores.items():
            if name not in stable and len(rhs) == 1 and "<other>" not in rhs and all(
                    r in stable or r not in stores for r in reads.get(name, ())):
                stable.add(name)
                changed = True
    return stable


class _FunctionChecker:
    """Walks one function body in order, on the path condition of each statement."""

    def __init__(self, fn: ast.FunctionDef, glob: set[str], strict: bool = False) -> None:
        self.fn = fn
        self.glob = glob
        self.strict = strict
        self.locals = _local_names(fn)
        args = fn.args
        params = args.posonlyargs + args.args + args.kwonlyargs
        params += [a for a in (args.vararg, args.kwarg) if a is not None]
        if args.defaults or any(d is not None for d in args.kw_defaults):
            raise Unsupported(f"default arguments in {fn.name}()")
        self.assigned: dict[str, Condition] = {a.arg: TRUE for a in params}
        self.defs: dict[str, Condition] = {}    # guard variable -> the condition it holds
        self.in_use: set[str] = set()           # names that recorded conditions refer to
        # A name a recorded condition refers to may be stored again only with the value it
        # has (a recomputation): see stable_names.
        self.stable = stable_names(fn.body, self.assigned)
        self.frozen: set[str] = set()           # in a loop: names that may hold the value
        #                                         of an earlier pass; tests on them are opaque
        self.problems: list[str] = []
        self.opaque = 0

    def run(self) -> list[str]:
        body = self.fn.body
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
            body = body[1:]                     # the docstring
        self.block(body, TRUE)
        return self.problems

    # conditions of tests

    def fresh(self, node: ast.AST) -> Condition:
        """A literal of its own for a test the checker does not decompose."""
        self.opaque += 1
        text = "for" if isinstance(node, ast.For) else ast.unparse(node)
        text = text if len(text) <= 30 else text[:27] + "..."
        return literal(f"<{text} @{node.lineno}#{self.opaque}>")

    def test(self, node: ast.expr) -> Condition:
        """The condition under which `node` is truthy."""
        if isinstance(node, ast.Name):
            if node.id in self.frozen:
                return self.fresh(node)
            return self.defs[node.id] if node.id in self.defs else literal(node.id)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return neg(self.test(node.operand))
        if isinstance(node, ast.BoolOp):
            parts = [self.test(v) for v in node.values]
            combine = conj if isinstance(node.op, ast.And) else disj
            return functools.reduce(combine, parts)
        if isinstance(node, ast.Constant):
            return TRUE if node.value else FALSE
        return self.fresh(node)

    # reads

    def read(self, name: str, path: Condition, node: ast.AST) -> None:
        where = f"{self.fn.name}, line {node.lineno}"
        if name not in self.locals:
            if name in self.glob:
                return
            if self.strict or not implies(path, FALSE):
                dead = " (on a path that cannot run)" if implies(path, FALSE) else ""
                self.problems.append(f"{where}: reads {name!r}, which is not assigned "
                                     f"anywhere{dead}")
            return
        have = self.assigned.get(name, FALSE)
        if not implies(path, have):
            if not have:
                self.problems.append(f"{where}: reads {name!r}, which is not assigned "
                                     f"before (path: {show(path)})")
            else:
                self.problems.append(f"{where}: reads {name!r} when {show(path)}, but it "
                                     f"is assigned only when {show(have)}")

    def expr(self, node: ast.AST, path: Condition, scope: frozenset = frozenset()) -> None:
        """Check the reads of an expression evaluated on `path`; `scope`: names bound by
        enclosing comprehensions."""
        if isinstance(node, ast.Name):
            if not isinstance(node.ctx, ast.Load):
                raise Unsupported(f"a store inside an expression at line {node.lineno}")
            if node.id not in scope:
                self.read(node.id, path, node)
        elif isinstance(node, ast.IfExp):              # body only if test, orelse only if not
            self.expr(node.test, path, scope)
            t = self.test(node.test)
            self.expr(node.body, conj(path, t), scope)
            self.expr(node.orelse, conj(path, neg(t)), scope)
        elif isinstance(node, ast.BoolOp):             # short circuit
            here = path
            for value in node.values:
                self.expr(value, here, scope)
                t = self.test(value)
                here = conj(here, t if isinstance(node.op, ast.And) else neg(t))
        elif isinstance(node, _COMPREHENSIONS):
            inner = set(scope)
            for k, gen in enumerate(node.generators):
                if gen.is_async:
                    raise Unsupported("async comprehension")
                self.expr(gen.iter, path, frozenset(inner) if k else scope)
                inner.update(n.id for n in ast.walk(gen.target) if isinstance(n, ast.Name))
                for cond in gen.ifs:
                    self.expr(cond, path, frozenset(inner))
            parts = [node.key, node.value] if isinstance(node, ast.DictComp) else [node.elt]
            for part in parts:
                self.expr(part, path, frozenset(inner))
        elif isinstance(node, _PLAIN_EXPRESSIONS):
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.keyword):
                    self.expr(child.value, path, scope)
                elif isinstance(child, ast.expr):
                    self.expr(child, path, scope)
                elif not isinstance(child, _SYNTAX_ONLY):
                    raise Unsupported(f"{type(child).__name__} at line {node.lineno}")
        else:
            raise Unsupported(f"expression {type(node).__name__} at line "
                              f"{getattr(node, 'lineno', '?')}")

    # stores

    def store(self, target: ast.expr, path: Condition, value: ast.expr | None = None) -> None:
        if isinstance(target, ast.Name):
            name = target.id
            if name not in self.stable:            # possibly a new value                           # possibly a new value
                if name in self.in_use or name in literals_of(path):
                    raise Unsupported(f"{self.fn.name}, line {target.lineno}: stores a new "
                                      f"value in {name!r}, which a recorded condition "
                                      "refers to")
                self.defs.pop(name, None)
            old = self.assigned.get(name, FALSE)
            if not old and name not in self.defs and (
                    isinstance(value, ast.BoolOp) or (isinstance(value, ast.UnaryOp)
                                                      and isinstance(value.op, ast.Not))):
                cond = self.test(value)           # a guard variable: `g = a and not b`
                self.defs[name] = cond
                self.in_use |= literals_of(cond)
            self.assigned[name] = disj(old, path)
            self.in_use |= literals_of(path)
        elif isinstance(target, (ast.Tuple, ast.List)):
            for elt in target.elts:
                self.store(elt, path)
        elif isinstance(target, ast.Starred):
            self.store(target.value, path)
        elif isinstance(target, (ast.Subscript, ast.Attribute)):
            self.expr(target.value, path)           # `out[i, j] = v` reads out, i and j
            if isinstance(target, ast.Subscript):
                self.expr(target.slice, path)
        else:
            raise Unsupported(f"assignment to {type(target).__name__} at line {target.lineno}")

    def forget(self, names: set[str]) -> None:
        """Drop what is known under conditions that refer to `names` (about to change)."""
        for name, cond in list(self.assigned.items()):
            if literals_of(cond) & names:
                self.assigned[name] = FALSE
        for name, cond in list(self.defs.items()):
            if name in names or literals_of(cond) & names:
                del self.defs[name]
        self.in_use = set().union(*map(literals_of, self.assigned.values()),
                                  *map(literals_of, self.defs.values()))

    # statements

    def block(self, body: list[ast.stmt], path: Condition) -> Condition:
        """Check statements entered on `path`; returns the condition of falling through."""
        for stmt in body:
            if not path:                 # after a return: unreachable
                break
            path = self.statement(stmt, path)
        return path

    def statement(self, stmt: ast.stmt, path: Condition) -> Condition:
        if isinstance(stmt, ast.Assign):
            self.expr(stmt.value, path)
            for target in stmt.targets:
                self.store(target, path, stmt.value if len(stmt.targets) == 1 else None)
        elif isinstance(stmt, ast.AnnAssign):
            if stmt.value is not None:
                self.expr(stmt.value, path)
                self.store(stmt.target, path, stmt.value)
        elif isinstance(stmt, ast.AugAssign):
            if isinstance(stmt.target, ast.Name):
                self.read(stmt.target.id, path, stmt.target)
            self.expr(stmt.value, path)
            self.store(stmt.target, path)
        elif isinstance(stmt, ast.Expr):
            self.expr(stmt.value, path)
        elif isinstance(stmt, ast.Return):
            if stmt.value is not None:
                self.expr(stmt.value, path)
            return FALSE
        elif isinstance(stmt, ast.If):
            self.expr(stmt.test, path)
            t = self.test(stmt.test)
            yes, no = conj(path, t), conj(path, neg(t))
            after_yes = self.block(stmt.body, yes)
            after_no = self.block(stmt.orelse, no)
            return path if (after_yes, after_no) == (yes, no) else disj(after_yes, after_no)
        elif isinstance(stmt, ast.For):
            if stmt.orelse:
                raise Unsupported(f"for-else at line {stmt.lineno}")
            self.expr(stmt.iter, path)
            # The body runs zero or more times. It is checked once, on the path of a fresh
            # literal "the loop ran", from what was assigned before the loop minus the facts
            # about names the loop stores (their values change from one pass to the next).
            # Names the loop stores that were assigned before it may hold an earlier pass's
            # value: tests on them are opaque. Names first assigned in the body are read only
            # after a store in the same pass; `stable` is then relative to one pass. Nothing
            # the body assigns counts after the loop.
            targets = {n.id for n in ast.walk(stmt.target) if isinstance(n, ast.Name)}
            changing = set(_stores(stmt.body)) | targets
            if literals_of(path) & changing:
                raise Unsupported(f"line {stmt.lineno}: a loop stores a name its path tests")
            self.forget(changing)
            saved = (dict(self.assigned), dict(self.defs), set(self.in_use), self.stable,
                     self.frozen)
            self.frozen = self.frozen | {n for n in changing if self.assigned.get(n)}
            self.stable = stable_names(stmt.body, targets)
            inside = conj(path, self.fresh(stmt))
            self.store(stmt.target, inside)
            self.block(stmt.body, inside)
            self.assigned, self.defs, self.in_use, self.stable, self.frozen = saved
        elif isinstance(stmt, ast.Delete):
            for target in stmt.targets:
                if isinstance(target, ast.Name):
                    if path != TRUE:
                        raise Unsupported(f"a conditional del at line {stmt.lineno}")
                    self.read(target.id, path, target)
                    self.assigned.pop(target.id, None)
                    self.defs.pop(target.id, None)
                elif isinstance(target, (ast.Subscript, ast.Attribute)):
                    self.store(target, path)
                else:
                    raise Unsupported(f"del of {type(target).__name__} at line {stmt.lineno}")
        elif isinstance(stmt, ast.Pass):
            pass
        else:
            raise Unsupported(f"{type(stmt).__name__} statement in {self.fn.name}() at line "
                              f"{stmt.lineno}")
        return path


# --- the checker on hand-written code ----------------------------------------------------------

def problems(code: str) -> list[str]:
    return check_source(textwrap.dedent(code))


def test_checker_rejects_a_name_that_is_never_assigned():
    found = problems("""
        def gradient(x):
            _t1 = x > 0.0
            return (d_x,)
        """)
    assert found == ["gradient, line 4: reads 'd_x', which is not assigned anywhere"]


def test_checker_accepts_a_read_on_a_path_that_cannot_run_unless_strict():
    code = """
        def f(x):
            _t1 = x > 0.0
            if _t1:
                _t28 = (0.0 if _t1 else _t27)
            return (_t28 if _t1 else 1.0)
        """
    assert problems(code) == []
    assert check_source(textwrap.dedent(code), strict=True) == [
        "f, line 5: reads '_t27', which is not assigned anywhere (on a path that cannot run)"]


def test_checker_rejects_a_read_before_the_assignment():
    found = problems("""
        def f(x):
            a = b + x
            b = 1.0
            return a
        """)
    assert len(found) == 1 and "reads 'b', which is not assigned before" in found[0]


def test_checker_rejects_a_read_under_a_weaker_guard():
    found = problems("""
        def f(x):
            _t1 = x > 0.0
            _t3 = x > 1.0
            _g1 = _t1 and _t3
            if _g1:
                _t2 = x
            return (_t2 if _t1 else 0.0)
        """)
    assert found == [("f, line 8: reads '_t2' when (_t1), but it is assigned only when "
                      "(_t1 and _t3)")]


def test_checker_rejects_a_read_on_the_other_branch_or_after_one_branch():
    assert problems("""
        def f(x):
            _t1 = x > 0.0
            if _t1:
                _t2 = x
            return (0.0 if _t1 else _t2)
        """) == ["f, line 6: reads '_t2' when (not _t1), but it is assigned only when (_t1)"]
    assert len(problems("""
        def f(x):
            _t1 = x > 0.0
            if not _t1:
                _t2 = x
            return _t2
        """)) == 1


def test_checker_rejects_what_the_issue_generated():
    # b994522: _t26 is assigned under one branch of _t6 and read under the other
    found = problems("""
        def hessian(w, t4, _t24, _t37):
            _t6 = w * w > 0.0
            _t11 = t4 > 0.0
            _g488 = not _t11 and not _t6
            if _g488:
                _t26 = _t24 * t4
            if not _t11:
                _t33 = (0.0 if _t6 else _t26)
            _g490 = not _t11 and _t6
            if _g490:
                _t42 = -(_t26 * _t37)
            return 0.0 if _t11 else (_t42 if _t6 else _t33)
        """)
    assert found == [("hessian, line 12: reads '_t26' when (not _t11 and _t6), but it is "
                      "assigned only when (not _t11 and not _t6)")]


def test_checker_accepts_the_guarded_patterns_of_the_generator():
    assert problems("""
        import math

        def f(x, y):
            _t1 = x > 0.0
            if _t1:
                _t2 = math.sqrt(x)
            s = (_t2 if _t1 else 0.0)
            _t3 = s > 0.5
            if _t3:
                _t4 = math.log(s)
            if not _t3:
                _t5 = s * s
            y2 = (_t4 if _t3 else _t5)
            _t6 = y2 > 0.0
            _g29 = _t6 and not _t3
            _g30 = _g29 and _t1
            _g27 = _t6 and _t3
            _g28 = _g27 and _t1
            _g31 = _g30 or _g28
            if _g31:
                _t9 = 0.5 / _t2
            if _g30:
                _t10 = _t2 * _t9
                _t11 = (_t10 if _t1 else 0.0)
            if _g29:
                _t12 = (_t11 if _t1 else 0.0)
            if _t6:
                _t13 = (0.0 if _t3 else _t12)
            _t14 = (_t13 if _t6 else 0.0)
            _t15 = 1.0 if _t14 > 0.0 else -1.0 if _t14 < 0.0 else 0.0 * _t14
            if _t1:
                big = x
            else:
                big = -x
            return _t14 + _t15 + big + min(x, y)
        """) == []


def test_checker_follows_short_circuits_loops_returns_and_del():
    assert problems("""
        def f(x):
            _t1 = x > 0.0
            if _t1:
                _t3 = x > 1.0
            _g1 = _t1 and _t3
            return _g1
        """) == []                                # `and` reads _t3 only when _t1
    assert len(problems("""
        def f(x):
            _t1 = x > 0.0
            if _t1:
                _t3 = x > 1.0
            _g1 = _t3 and _t1
            return _g1
        """)) == 1
    assert len(problems("""
        def f(xs):
            for v in xs:
                last = v
            return last
        """)) == 1                                # the loop may not run
    assert problems("""
        def f(xs, out):
            total = 0.0
            for i, v in enumerate(xs):
                c = v > 0.0
                if c:
                    r = v * 2.0
                out[i] = (r if c else 0.0) + total
            return [a * b for a, b in zip(xs, out) if a > b]
        """) == []
    assert problems("""
        def f(x):
            if len(x) <= 32:
                return 0
            n = 1
            return n
        """) == []
    assert len(problems("""
        def f(x):
            a = x + 1
            del a
            return a
        """)) == 1


@pytest.mark.parametrize("code", [
    "def f(x):\n    while x:\n        x = x - 1\n    return x\n",
    ("def f(x):\n    try:\n        y = 1 / x\n    except ZeroDivisionError:\n        y = 0\n"
     "    return y\n"),
    "def f(x):\n    g = lambda: x\n    return g()\n",
    "def f(x):\n    c = x > 0\n    if c:\n        c = False\n    return c\n",
])
def test_checker_fails_loudly_on_what_it_does_not_model(code):
    with pytest.raises(Unsupported):
        check_source(code)


def test_checker_accepts_a_statement_recomputed_under_a_second_guard():
    # the scheduler may compute a value twice (before a condition that needs it, and under
    # it): the same expression of the same values, so conditions on it keep their meaning
    assert problems("""
        import math

        def forward(x):
            _t4 = x >= 0.0
            if not _t4:
                _t1 = x > 0.0
            _g26 = not _t4 and _t1
            if _g26:
                _t2 = math.sqrt(x)
            t2 = (_t2 if _g26 else x)
            _t5 = t2 > 0.0
            if not _t5:
                _t1 = x > 0.0
            _g31 = not _t5 and _t1
            if _g31:
                _t2 = math.sqrt(x)
            return (_t2 if _g31 else 0.0)
        """) == []


@pytest.mark.parametrize("code", [
    # a condition's name stored again with another value
    """
    def f(x):
        c = x > 0.0
        if c:
            a = 1.0
        c = x > 1.0
        return (a if c else 0.0)
    """,
    # the same text, but it reads a name that changes in between
    """
    def f(x):
        y = x
        c = y > 0.0
        if not c:
            a = 1.0
        y = -x
        c = y > 0.0
        return (a if not c else 0.0)
    """,
])
def test_checker_refuses_a_condition_whose_value_changes(code):
    with pytest.raises(Unsupported):
        problems(code)


def test_checker_forgets_in_a_loop_what_the_loop_changes():
    # the second pass reads `a` under the new value of c: NameError when c turns false
    found = problems("""
        def f(xs):
            c = xs[0] > 0.0
            if c:
                a = 1.0
            for v in xs:
                b = (a if c else 0.0)
                c = v > 0.0
            return c
        """)
    assert len(found) == 1 and "reads 'a'" in found[0]


def test_checker_condition_logic():
    a, b, c = literal("a"), literal("b"), literal("c")
    assert implies(conj(a, b), a)
    assert not implies(a, conj(a, b))
    assert implies(TRUE, disj(conj(a, b), disj(conj(a, neg(b)), neg(a))))   # a tautology
    assert implies(conj(a, neg(b)), disj(conj(a, c), neg(b)))
    assert not implies(disj(a, b), a)
    assert implies(conj(a, neg(a)), c)                                      # unsatisfiable
    assert neg(disj(a, b)) == conj(neg(a), neg(b))


# --- random programs with nested guards --------------------------------------------------------
#
# A program is built twice from one tree: as symback text, and as an mpmath evaluator that takes
# only the branch a `where` selects and records the distance of the point to every kink it
# passes (where conditions, min/max ties, abs/hypot at 0, sqrt/log near 0).
# Trees: ("in", name) | ("num", c) | ("where", cmp, left, right, a, b) | (op, *args).

Tree = tuple
CMP: dict[str, Callable[[Any, Any], bool]] = {
    ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b, "<=": lambda a, b: a <= b,
}
SWAPPED = {">": "<=", ">=": "<"}
THRESHOLDS = (0.0, 0.25, 0.5, 1.0)
INFIX = {"add": "+", "sub": "-", "mul": "*"}


def text(e: Tree) -> str:
    kind = e[0]
    if kind == "in":
        return e[1]
    if kind == "num":
        return repr(e[1]) if e[1] >= 0 else f"({e[1]!r})"
    if kind == "where":
        _, cmp, left, right, a, b = e
        return f"where({text(left)} {cmp} {text(right)}, {text(a)}, {text(b)})"
    args = [text(a) for a in e[1:]]
    if kind in INFIX:
        return f"({args[0]} {INFIX[kind]} {args[1]})"
    if kind == "neg":
        return f"(-{args[0]})"
    if kind == "sq":
        return f"({args[0]} * {args[0]})"
    if kind == "gauss":
        return f"exp(-({args[0]} * {args[0]}))"
    return f"{kind}({', '.join(args)})"


class Domain(Exception):
    """The exact value is not real (sqrt or log of a negative number on the taken path)."""


def evaluate(e: Tree, env: dict[str, Any], margins: list[Any]) -> Any:
    kind = e[0]
    if kind == "in":
        return env[e[1]]
    if kind == "num":
        return mpmath.mpf(e[1])
    if kind == "where":
        _, cmp, left, right, a, b = e
        lv, rv = evaluate(left, env, margins), evaluate(right, env, margins)
        margins.append(abs(lv - rv))
        return evaluate(a if CMP[cmp](lv, rv) else b, env, margins)
    v = [evaluate(a, env, margins) for a in e[1:]]
    if kind in ("sqrt", "log"):
        if v[0] < 0 or (kind == "log" and v[0] == 0):
            raise Domain(kind)
        margins.append(v[0])
        return mpmath.sqrt(v[0]) if kind == "sqrt" else mpmath.log(v[0])
    if kind == "abs":
        margins.append(abs(v[0]))
        return abs(v[0])
    if kind in ("min", "max"):
        margins.append(abs(v[0] - v[1]))
        return min(v) if kind == "min" else max(v)
    if kind == "hypot":
        margins.append(mpmath.hypot(v[0], v[1]))
        return mpmath.hypot(v[0], v[1])
    simple = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
              "neg": lambda a: -a, "sq": lambda a: a * a, "sin": mpmath.sin,
              "tanh": mpmath.tanh, "gauss": lambda a: mpmath.exp(-(a * a))}
    return simple[kind](*v)


@st.composite
def programs(draw) -> tuple[str, list[tuple[str, Tree]]]:
    """(text, statements): 2-5 statements over x and y whose `where`s nest: conditions compare
    earlier `where` results, branches hold further `where`s, and sqrt/log/min/max/abs/hypot
    sit under guards. The last statement is the output."""
    pool: list[Tree] = [("in", "x"), ("in", "y")]
    wheres: list[Tree] = []                      # statements whose value is a `where`

    def operand() -> Tree:
        return draw(st.sampled_from(pool))

    def cond_operand() -> Tree:                  # preferably an earlier `where`
        return draw(st.sampled_from(wheres)) if wheres and draw(st.booleans()) else operand()

    def guarded_unary() -> Tree:                 # where(A > c, sqrt(A), -A) and the like
        a, c = cond_operand(), ("num", draw(st.sampled_from(THRESHOLDS)))
        f = draw(st.sampled_from([("sqrt", a), ("log", a), ("sqrt", ("sub", a, c)),
                                  ("log", ("add", ("sub", a, c), ("num", 1e-3)))]))
        g = draw(st.sampled_from([("neg", a), ("sq", a), ("num", 0.0), ("neg", ("sq", a)),
                                  operand()]))
        cmp = draw(st.sampled_from([">", ">="]))
        if draw(st.booleans()):
            return ("where", SWAPPED[cmp], a, c, g, f)
        return ("where", cmp, a, c, f, g)

    def kink() -> Tree:
        a, b = cond_operand(), operand()
        return draw(st.sampled_from([("min", a, b), ("max", a, b), ("abs", a), ("hypot", a, b)]))

    def smooth() -> Tree:
        a, b = operand(), operand()
        return draw(st.sampled_from([("mul", a, b), ("add", a, b), ("sub", a, b), ("sin", a),
                                     ("tanh", a), ("gauss", a), ("sq", a)]))

    def condition() -> tuple[str, Tree, Tree]:
        right = draw(st.sampled_from([("num", draw(st.sampled_from(THRESHOLDS))), operand(),
                                      ("neg", cond_operand())]))
        return draw(st.sampled_from(list(CMP))), cond_operand(), right

    def branch(depth: int) -> Tree:
        kinds = ["leaf", "guarded", "kink", "smooth"] + ["where"] * (depth > 0)
        kind = draw(st.sampled_from(kinds))
        if kind == "where":
            return ("where", *condition(), branch(depth - 1), branch(depth - 1))
        return {"leaf": operand, "guarded": guarded_unary, "kink": kink,
                "smooth": smooth}[kind]()

    statements = []
    for k in range(1, draw(st.integers(2, 5)) + 1):
        kind = draw(st.sampled_from(["guarded", "nested", "kinky", "smooth"]))
        if kind == "guarded":
            tree = guarded_unary()
        elif kind == "nested":
            tree = ("where", *condition(), branch(1), branch(1))
        elif kind == "kinky":
            tree = ("where", *condition(), kink(), kink())
        else:
            tree = smooth()
        name = f"t{k}"
        statements.append((name, tree))
        pool.append(("in", name))
        if tree[0] == "where":
            wheres.append(("in", name))
    last, other = pool[-1], draw(st.sampled_from(pool[:-1]))
    out = draw(st.sampled_from([last, ("add", last, ("mul", other, ("num", 0.5))),
                                ("where", ">", last, ("num", 0.0), last, ("neg", other))]))
    statements.append(("out", out))
    lines = [f"{name} = {text(tree)}" for name, tree in statements[:-1]]
    return "\n".join(lines + [text(out)]), statements


def exact(statements: list[tuple[str, Tree]], point: tuple[float, float],
          hessian: bool) -> dict[str, Any] | None:
    """Value, gradient (and Hessian) at the point by mpmath at 40 digits, or None when the
    point is within 1e-6 of a kink or singular point, or the value is not real or is large."""
    def program(x: Any, y: Any, margins: list[Any]) -> Any:
        env = {"x": x, "y": y}
        for name, tree in statements:
            env[name] = evaluate(tree, env, margins)
        return env["out"]

    with mpmath.workdps(40):
        margins: list[Any] = []
        at = tuple(mpmath.mpf(v) for v in point)
        try:
            value = program(*at, margins)
        except Domain:
            return None
        if min(margins, default=1) < 1e-6 or abs(value) > 1e8:
            return None

        def f(x: Any, y: Any) -> Any:
            return program(x, y, [])

        result = {"value": value,
                  "grad": [mpmath.diff(f, at, order) for order in ((1, 0), (0, 1))]}
        if hessian:
            hxx, hxy, hyy = (mpmath.diff(f, at, order) for order in ((2, 0), (1, 1), (0, 2)))
            result["hessian"] = [[hxx, hxy], [hxy, hyy]]
    numbers = [value, *result["grad"], *[h for row in result.get("hessian", []) for h in row]]
    if not all(mpmath.isfinite(v) and abs(v) < 1e8 for v in numbers):
        return None
    return result


# Exceptions the python backend may raise at a point: the `math` module's domain and range
# errors. A NameError / UnboundLocalError is the bug under test.
MATH_ERRORS = (ValueError, ZeroDivisionError, OverflowError)

CORNERS = (0.0, 1e-300, -1e-300, 5e-324, 1e-8, -1e-8, 0.25, -0.25, 0.5, -0.5, 1.0, -1.0,
           0.0625, 4.0, -2.0)
coordinates = st.one_of(st.sampled_from(CORNERS),
                        st.floats(-3.0, 3.0, allow_nan=False, allow_infinity=False))
points = st.lists(st.tuples(coordinates, coordinates), min_size=2, max_size=3)


def call_all(f: symback.Compiled, point: tuple, hessian: bool, text_: str) -> dict[str, Any]:
    """Every function of the module at the point: name -> result (None after a math error on
    the python backend). A NameError fails the test."""
    calls: dict[str, Callable[[], Any]] = {
        "forward": lambda: f.forward(*point),
        "gradient": lambda: f.gradient(*point),
        "value_and_grad": lambda: f.value_and_grad(*point),
    }
    if hessian:
        calls["hessian"] = lambda: f.hessian(*point)
        calls["hvp"] = lambda: f.hvp(*point, 1.0, -0.5)
    out: dict[str, Any] = {}
    for name, call in calls.items():
        try:
            with numpy.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out[name] = call()
        except NameError as exc:                 # UnboundLocalError is a NameError
            pytest.fail(f"{f.backend} {name}{point} raised {exc!r} for\n{text_}\n\n"
                        f"definite-assignment problems: {check_source(f.source)}")
        except MATH_ERRORS:
            if f.backend != "python":
                raise
            out[name] = None
    return out


def assert_close(got: Any, want: Any, scale: Any, tol: float, what: str) -> None:
    """Relative to the exact value or to `scale` (the size of the numbers of the same
    result); an absolute error below 1e-11 * scale passes (rounding where the exact result
    is 0, underflow at the 1e-300 corners)."""
    err = abs(mpmath.mpf(float(got)) - want)
    assert err <= 1e-11 * scale or oracle.rel_error(float(got), want, scale) <= tol, \
        (what, float(got), want)


def assert_matches(results: dict[str, Any], want: dict[str, Any], what: str) -> None:
    value, grad = want["value"], want["grad"]
    hess = [h for row in want.get("hessian", []) for h in row]
    scale = max(1, abs(value), *map(abs, grad), *map(abs, hess))
    if results["value_and_grad"] is not None:
        v, g = results["value_and_grad"]
        assert_close(v, value, scale, 1e-9, f"{what}: value")
        for k in range(2):
            assert_close(g[k], grad[k], scale, 1e-8, f"{what}: d/d{'xy'[k]}")
    if results["gradient"] is not None:
        for k in range(2):
            assert_close(results["gradient"][k], grad[k], scale, 1e-8, f"{what}: gradient")
    if results.get("hessian") is not None:
        h = numpy.asarray(results["hessian"], dtype=float).reshape(2, 2)
        for i in range(2):
            for j in range(2):
                assert_close(h[i, j], want["hessian"][i][j], scale, 1e-7,
                             f"{what}: hessian[{i}][{j}]")
    if results.get("hvp") is not None:
        for i in range(2):
            exact_hv = want["hessian"][i][0] - want["hessian"][i][1] * mpmath.mpf("0.5")
            assert_close(results["hvp"][i], exact_hv, scale, 1e-7, f"{what}: hvp[{i}]")


# No shrinking: one example costs ~50 ms (three modules, mpmath derivatives), and shrinking
# a failure took minutes; the failing program is printed as drawn (at most 5 statements).
@settings(max_examples=int(os.environ.get("SYMBACK_GUARD_EXAMPLES", "150")), deadline=None,
          report_multiple_bugs=False,
          phases=[Phase.explicit, Phase.reuse, Phase.generate],
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(programs(), st.booleans(), points)
def test_random_nested_guards(program, hessian, pts):
    text_, statements = program
    compiled = {}
    for backend in ("python", "numpy", "numba"):
        f = symback.compile(text_, wrt=["x", "y"], backend=backend, hessian=hessian)
        found = check_source(f.source)
        assert found == [], f"{backend} module of\n{text_}\nreads unassigned names:\n" + \
            "\n".join(found)
        compiled[backend] = f
    for point in pts:
        want = exact(statements, point, hessian)
        on_python = call_all(compiled["python"], point, hessian, text_)
        on_numpy = call_all(compiled["numpy"], point, hessian, text_)
        # Where the python backend raises a math error (beyond the scheduler's guard limits
        # a branch is computed under a weaker guard), the numpy backend gives inf/nan.
        on_numpy = {k: (v if on_python[k] is not None else None) for k, v in on_numpy.items()}
        if want is not None:
            assert_matches(on_python, want, f"python at {point} for\n{text_}\n")
            assert_matches(on_numpy, want, f"numpy at {point} for\n{text_}\n")
    xs, ys = (numpy.array(c) for c in zip(*pts))   # numpy on arrays: every branch at once
    call_all(compiled["numpy"], (xs, ys), hessian, text_)


# --- the programs of the issue ------------------------------------------------------------------

SQRT_TWICE = "s = where(x > 0, sqrt(x), 0); where(s > 0, s, 0)"
LOG_OF_WHERE = "s = where(x > 0, sqrt(x), 0); y = where(s > 0.5, log(s), s*s); where(y > 0, y, 0)"
ISSUE = """t1 = w * w
t2 = atan2(abs(hypot(max(w, t1), min(w, t1))), min(t1, (-0.1)))
node3 = abs(t2)
t4 = where(t1 > 0, sqrt(t1), -t1)
atan2(t2, t2) + pow(node3 + 0.976, where(t4 > 0, t4, -(t4 * t4)))"""
# Found by test_random_nested_guards (HEAD 974a36b): the gradient tests `t1 > 0` (for
# where(t1 > 0, x*x, x)) when t4 <= 0, but computes it only when x <= 0: for 0 < x < 1,
# value_and_grad raised UnboundLocalError.
CONDITION_OUTSIDE_ITS_GUARD = """t1 = where(x > 0, sqrt(x), -x)
t2 = where(t1 > 0, x * x, x)
t4 = where(x > 0, sqrt(x) - 1, t2)
where(t4 > 0, t4, -t2)"""
# Found the same way: for t4, forward() reads min(y, x) when t3 >= x, but at that point has
# computed it only when x <= -y and y > -y (its recomputation under `t3 >= x` comes after
# the read): UnboundLocalError at (x, y) = (-2, -1.5), for one.
RECOMPUTED_BRANCH = """t1 = where(y > (-y), min(y, x), abs(x))
t2 = (t1 * t1)
t3 = where(x <= (-y), min(t1, y), (y * y))
t4 = where(t3 >= x, min(y, x), abs(x))
t5 = where(t4 < (-y), where(t2 > 0.5, sqrt(t2), (-t2)), where(y < 0.0, (y * y), log(y)))
(t5 + (y * 0.5))"""
ISSUE_PROGRAMS = {"sqrt_twice": SQRT_TWICE, "log_of_where": LOG_OF_WHERE, "issue": ISSUE,
                  "condition_outside_its_guard": CONDITION_OUTSIDE_ITS_GUARD,
                  "recomputed_branch": RECOMPUTED_BRANCH}


def scalar(x: Any) -> float:
    """A number from a result of either backend (a float, a 0-d array, a 1x1 Hessian)."""
    return float(numpy.asarray(x, dtype=float).reshape(-1)[0])


@functools.cache
def sympy_derivatives(text_: str, name: str) -> tuple[Any, Any, Any]:
    (expr,) = oracle.to_sympy(text_, [name])
    symbol = sp.Symbol(name, real=True)
    first = sp.diff(expr, symbol)
    return expr, first, sp.diff(first, symbol)


def sympy_at(text_: str, name: str, point: float) -> list[Any]:
    """Value, first and second derivative at the point (the exact float), to 40 digits."""
    at = {sp.Symbol(name, real=True): sp.Rational(point)}
    return [e.subs(at).evalf(40) for e in sympy_derivatives(text_, name)]


@pytest.mark.parametrize("hessian", [False, True])
@pytest.mark.parametrize("backend", ["python", "numpy", "numba"])
@pytest.mark.parametrize("name", list(ISSUE_PROGRAMS))
def test_issue_programs_read_only_assigned_names(name, backend, hessian):
    f = symback.compile(ISSUE_PROGRAMS[name], backend=backend, hessian=hessian)
    found = check_source(f.source)
    assert found == [], "\n".join(found)


@pytest.mark.parametrize("backend", ["python", "numpy"])
def test_sqrt_of_a_where_under_a_where(backend):
    f = symback.compile(SQRT_TWICE, hessian=True, backend=backend)
    value, (grad,) = f.value_and_grad(0.25)
    assert (float(value), float(grad)) == (0.5, 1.0)       # d sqrt(x) = 0.5 / sqrt(x)
    if backend == "python":
        assert f.value_and_grad(0.25) == (0.5, (1.0,))
    assert scalar(f.hessian(0.25)) == pytest.approx(-2.0, rel=1e-15)   # -1 / (4 x**1.5)
    assert scalar(f.hvp(0.25, 1.0)) == pytest.approx(-2.0, rel=1e-15)
    assert scalar(f.gradient(4.0)) == pytest.approx(0.25, rel=1e-15)
    assert scalar(f.hessian(4.0)) == pytest.approx(-1 / 32, rel=1e-15)
    for x in (-1.0, 0.0):                                   # where() takes the 0 branch
        value, (grad,) = f.value_and_grad(x)
        assert (float(value), float(grad), scalar(f.hessian(x))) == (0.0, 0.0, 0.0)


# x -> (value, derivative, second derivative), by hand: for 0 < x <= 0.25 the program is
# s*s = x; for x > 0.25 it is log(sqrt(x)) = log(x) / 2; for x <= 0 it is 0.
LOG_OF_WHERE_EXACT = {
    0.04: (0.04, 1.0, 0.0),
    0.25: (0.25, 1.0, 0.0),                  # sqrt(0.25) = 0.5 is not > 0.5: the s*s branch
    4.0: (math.log(2.0), 0.125, -0.03125),
    -1.0: (0.0, 0.0, 0.0),
}


def test_log_of_where_table_is_what_sympy_says():
    for x, row in LOG_OF_WHERE_EXACT.items():
        if x <= 0:           # sympy's folded Piecewise compares log(0) there; the row is 0
            continue
        for got, want in zip(row, sympy_at(LOG_OF_WHERE, "x", x)):
            assert got == pytest.approx(float(want), rel=1e-15, abs=1e-15), x


@pytest.mark.parametrize("backend", ["python", "numpy"])
def test_log_of_a_where_under_a_where(backend):
    f = symback.compile(LOG_OF_WHERE, hessian=True, backend=backend)
    for x, (value, grad, second) in LOG_OF_WHERE_EXACT.items():
        got_value, (got_grad,) = f.value_and_grad(x)
        assert float(got_value) == pytest.approx(value, rel=1e-14, abs=1e-300), x
        assert float(got_grad) == pytest.approx(grad, rel=1e-14, abs=1e-300), x
        assert scalar(f.gradient(x)) == pytest.approx(grad, rel=1e-14, abs=1e-300), x
        assert scalar(f.hessian(x)) == pytest.approx(second, rel=1e-14, abs=1e-14), x


def test_log_of_where_from_the_command_line(capsys, tmp_path):
    from symback import cli
    assert cli.main(["compile", LOG_OF_WHERE]) == 0
    source = capsys.readouterr().out
    found = check_source(source)
    assert found == [], "\n".join(found)
    (tmp_path / "log_of_where.py").write_text(source)
    namespace = runpy.run_path(str(tmp_path / "log_of_where.py"))
    for x, (value, grad, _) in LOG_OF_WHERE_EXACT.items():
        assert namespace["gradient"](x)[0] == pytest.approx(grad, rel=1e-14, abs=1e-300)
        got_value, (got_grad,) = namespace["value_and_grad"](x)
        assert (got_value, got_grad) == pytest.approx((value, grad), rel=1e-14, abs=1e-300)


@pytest.mark.parametrize("backend", ["python", "numpy"])
@pytest.mark.parametrize("w", [-0.006437, 0.5, -2.0])
def test_the_issue_program_against_sympy(backend, w):
    # f = atan2(t2, t2) + (t2 + 0.976) ** |w|; atan2(t2, t2) = pi/4 for t2 > 0, slope 0
    f = symback.compile(ISSUE, hessian=True, backend=backend)
    value, first, second = sympy_at(ISSUE, "w", w)
    got_value, (got_grad,) = f.value_and_grad(w)
    assert oracle.rel_error(float(got_value), value) <= 1e-13
    assert oracle.rel_error(float(got_grad), first) <= 1e-11
    assert oracle.rel_error(scalar(f.gradient(w)), first) <= 1e-11
    assert oracle.rel_error(scalar(f.hessian(w)), second) <= 1e-9
    assert oracle.rel_error(scalar(f.hvp(w, 1.0)), second) <= 1e-9


@pytest.mark.parametrize("backend", ["python", "numpy"])
def test_a_condition_read_outside_its_guard(backend):
    # x > 1: sqrt(x) - 1; 0 < x <= 1: -x*x (t1 = sqrt(x) > 0); x < 0: x*x
    f = symback.compile(CONDITION_OUTSIDE_ITS_GUARD, hessian=True, backend=backend)
    for x, (value, grad, second) in {0.25: (-0.0625, -0.5, -2.0), 0.5: (-0.25, -1.0, -2.0),
                                     4.0: (1.0, 0.25, -1 / 32), -1.0: (1.0, -2.0, 2.0)}.items():
        got_value, (got_grad,) = f.value_and_grad(x)
        assert (float(got_value), float(got_grad)) == pytest.approx((value, grad), rel=1e-15)
        assert scalar(f.gradient(x)) == pytest.approx(grad, rel=1e-15)
        assert scalar(f.hessian(x)) == pytest.approx(second, rel=1e-15)


# RECOMPUTED_BRANCH as trees, for the mpmath oracle of the random test
RECOMPUTED_BRANCH_TREES = [
    ("t1", ("where", ">", ("in", "y"), ("neg", ("in", "y")), ("min", ("in", "y"), ("in", "x")),
            ("abs", ("in", "x")))),
    ("t2", ("mul", ("in", "t1"), ("in", "t1"))),
    ("t3", ("where", "<=", ("in", "x"), ("neg", ("in", "y")),
            ("min", ("in", "t1"), ("in", "y")), ("mul", ("in", "y"), ("in", "y")))),
    ("t4", ("where", ">=", ("in", "t3"), ("in", "x"), ("min", ("in", "y"), ("in", "x")),
            ("abs", ("in", "x")))),
    ("t5", ("where", "<", ("in", "t4"), ("neg", ("in", "y")),
            ("where", ">", ("in", "t2"), ("num", 0.5), ("sqrt", ("in", "t2")),
             ("neg", ("in", "t2"))),
            ("where", "<", ("in", "y"), ("num", 0.0), ("mul", ("in", "y"), ("in", "y")),
             ("log", ("in", "y"))))),
    ("out", ("add", ("in", "t5"), ("mul", ("in", "y"), ("num", 0.5)))),
]


@pytest.mark.parametrize("backend", ["python", "numpy"])
@pytest.mark.parametrize("point", [(-2.0, -1.5), (-1.5, -0.7), (0.7, 1.5), (1.5, -0.25)])
def test_a_branch_recomputed_under_a_second_guard(backend, point):
    lines = [f"{name} = {text(tree)}" for name, tree in RECOMPUTED_BRANCH_TREES[:-1]]
    assert "\n".join(lines + [text(RECOMPUTED_BRANCH_TREES[-1][1])]) == RECOMPUTED_BRANCH
    f = symback.compile(RECOMPUTED_BRANCH, wrt=["x", "y"], hessian=True, backend=backend)
    want = exact(RECOMPUTED_BRANCH_TREES, point, hessian=True)
    assert want is not None                       # the point is away from every kink
    results = call_all(f, point, True, RECOMPUTED_BRANCH)
    assert all(r is not None for r in results.values())
    assert_matches(results, want, f"{backend} at {point}")
