"""Scheduling: graph nodes -> flat SSA statements with readable names.

For each function of the generated module (forward, gradient, value_and_grad, ...) the
scheduler keeps only the nodes its results need (dead code removal), in id order (a
topological order), one statement per node. Names are assigned per function: inputs and
user-named intermediates keep their names, adjoints of named nodes read `d_<name>` (in the
functions that compute them as adjoints), other nodes are `_t1, _t2, ...` numbered from 1 in
each function. Names that
would clash with what the generated code uses (the printer's reserved names: `math`, `numpy`,
builtins, keywords, the module's own function names) are renamed (`math_`); the module still
lists the user's names in `INPUTS`.

Statements carry a *guard*: the `where` conditions under which their value is needed. The
python backend computes a statement only when its guard holds, so `where(x > 0, sqrt(x), 0)`
never evaluates `sqrt` of a negative number; the numpy backend computes everything.
"""

from __future__ import annotations

import builtins
import functools
import heapq
import keyword
from dataclasses import dataclass, field
from typing import Any, Callable, NamedTuple

from .graph import Graph
from .ops import OPS
from .loops import body_ops
from .optimize import inline_plan

# Names no generated code may give a value (keywords and builtins), when the caller gives
# no printer's list (`Printer.reserved`).
RESERVED = frozenset(set(keyword.kwlist) | set(keyword.softkwlist) | set(dir(builtins)))

# Longest chain of nested `where` conditions tracked as a guard, and most alternatives
# (`c1 or c2`) a guard may have; beyond them values are computed under a weaker guard
# (correct values, only less lazy), so guard sizes stay bounded.
MAX_GUARD_DEPTH = 8
MAX_ALTERNATIVES = 4

Operand = "str | float"

NEVER = -2                   # the guard of a statement no taken branch needs

_SELECTS = frozenset(name for name, op in OPS.items() if op.selects)    # `where`: guards
_LEAVES = frozenset({"var", "const"})


class Stmt(NamedTuple):
    """`target = op(operands)`; operands are names (str) or constants (float). A named
    tuple, not a dataclass: passes rebuild statements by the hundred thousand, and a tuple
    is several times faster to make."""

    target: str
    op: str
    operands: tuple
    node: int
    guard: int = -1          # index into Function.guards, -1: always computed, NEVER: only
                             # read by a `where` branch that is never taken (lazy backends
                             # leave it out; eager ones compute it for numpy.where)
    inline: bool = False     # printed inside its one user's expression (see optimize.py)


@dataclass(frozen=True)
class Guard:
    """A boolean guard variable: `target = [base and] [not] cond`, or, when `any_of` is
    given, `target = any_of[0] or any_of[1] or ...` (a value needed by several `where`
    branches under different conditions)."""

    target: str
    cond: str
    positive: bool
    base: int = -1           # the guard this one refines, or -1
    any_of: tuple[int, ...] = ()


@dataclass
class Function:
    """One function of the generated module."""

    name: str
    params: list[str]
    statements: list[Stmt]
    results: list                 # operands returned, in order
    guards: list[Guard] = field(default_factory=list)
    structures: dict[int, Any] = field(default_factory=dict)   # node -> its Loop / Scatter
    arrays: dict[str, tuple[int, ...]] = field(default_factory=dict)  # array param -> shape
    # Written by `analyses.annotate` before rendering (see there):
    int_results: frozenset = frozenset()   # results that can be ints when called with ints
    float_inputs: tuple = ()               # inputs converted to float on entry
    full_results: frozenset = frozenset()  # results computed from every input


@dataclass
class Program:
    """Everything the renderer needs: parameter names and functions."""

    params: list[str]             # parameter names as printed (renamed where needed)
    inputs: list[str]             # the user's input names, in the same order
    functions: dict[str, Function]

    def op_count(self, function: str) -> int:
        """Number of primitive operations of one function: one per statement, whether it
        is printed as a line of its own or inlined into its user's line; a rolled loop
        counts the operations of one iteration of its body (`loops.body_ops`)."""
        fn = self.functions[function]
        if not fn.structures:
            return len(fn.statements)
        return len(fn.statements) + sum(body_ops(s) - 1 for s in fn.structures.values())


class _Namer:
    """Gives every node of one function a unique, valid, readable Python name."""

    def __init__(self, reserved: frozenset[str], taken: list[str] = ()) -> None:
        self.reserved = reserved
        self.taken: set[str] = set(taken)
        self.counters: dict[str, int] = {}

    def claim(self, wanted: str) -> str:
        name = wanted
        while name in self.reserved or name in self.taken:
            name += "_"
        self.taken.add(name)
        return name

    def claim_all(self, wanted: list[str]) -> list[str]:
        return [self.claim(w) for w in wanted]

    def temps(self, prefix: str, count: int) -> list[str]:
        """`count` new names `<prefix>1`, `<prefix>2`, ... in order (as `temp` would give)."""
        start = self.counters.get(prefix, 0)
        names = [f"{prefix}{n}" for n in range(start + 1, start + count + 1)]
        if self.taken.isdisjoint(names) and self.reserved.isdisjoint(names):
            self.counters[prefix] = start + count
            self.taken.update(names)
            return names
        return [self.temp(prefix) for _ in range(count)]     # some are taken: skip them

    def temp(self, prefix: str = "_t") -> str:
        """The next free name `_t1`, `_t2`, ... (numbered per prefix)."""
        counters, taken, reserved = self.counters, self.taken, self.reserved
        n = counters.get(prefix, 0)
        while True:
            n += 1
            name = f"{prefix}{n}"
            if name not in taken and name not in reserved:
                counters[prefix] = n
                taken.add(name)
                return name


def schedule(g: Graph, inputs: list[int], roots: dict[str, list[int]],
             labels: dict[str, dict[int, str]] | None = None,
             extra_params: dict[str, list[int]] | None = None,
             reserved: frozenset[str] = RESERVED,
             inline: Callable[[str, list], Any] | None = None,
             lazy: bool = True, known: dict[int, str] | None = None) -> Program:
    """Build the program for the given functions.

    Names are given per function: its parameters, then the user's names of its nodes, then
    its `labels`, then temporaries numbered `_t1, _t2, ...` in statement order. So a node
    may have a different name in each function (an adjoint name only where it is an
    adjoint).

    Args:
        g: the graph.
        inputs: var nodes, in parameter order.
        roots: function name -> the nodes it returns, in order.
        labels: function name -> preferred names for some of its nodes (e.g. `d_p` for the
            adjoint of `p`, in the functions that compute that adjoint).
        extra_params: function name -> var nodes that function takes after `inputs`
            (the tangent inputs `v_x` of a Hessian-vector product).
        reserved: names the generated code uses (the printer's `reserved`); user names
            equal to one of them are renamed (`math_`).
        inline: for printers that inline, their `Printer.spelling`: temporaries used once
            are then printed inside their user (`optimize.inline_plan`), and are not
            numbered among the `_t` names.
        lazy: the printer honours guards (python, numba). An eager printer (numpy) computes
            every statement, so its statements are the live nodes once each, in id order,
            without guards.
        known: nodes already computed, by name (a rolled loop's body values that an
            earlier loop over the same iterations left in variables; eager printers only).

    Returns:
        The `Program`.
    """
    labels = labels or {}
    extra_params = extra_params or {}
    params = _Namer(reserved).claim_all([g.values[v] for v in inputs])
    functions = {}
    live = _live(g, roots) if not known else {f: g.live(rs, known) for f, rs in roots.items()}
    consts = [i for i, op in enumerate(g.ops) if op == "const"]
    for fname, rs in roots.items():
        namer = _Namer(reserved, params)
        names = dict(zip(inputs, params))
        names.update(known or {})
        extra = extra_params.get(fname, [])
        names.update(zip(extra, namer.claim_all([g.values[v] for v in extra])))
        functions[fname] = _function(g, fname, params + [names[v] for v in extra], rs,
                                     live[fname], consts, names, namer,
                                     labels.get(fname, {}), inline, lazy)
        functions[fname].arrays = {names[v]: g.arrays[g.values[v]] for v in inputs + extra
                                   if g.values[v] in g.arrays}
    return Program(params, [g.values[v] for v in inputs], functions)


def _live(g: Graph, roots: dict[str, list[int]]) -> dict[str, list[int]]:
    """`g.live(rs)` of every function, in one backward pass over the graph (a bit per
    function: forward, gradient and value_and_grad share most of their nodes)."""
    live: dict[str, list[int]] = {fname: [] for fname in roots}
    top = max((r for rs in roots.values() for r in rs), default=-1)
    need = [0] * (top + 1)
    for k, rs in enumerate(roots.values()):
        for r in rs:
            need[r] |= 1 << k
    args = g.args
    for i in range(top, -1, -1):
        m = need[i]
        if m:
            for a in args[i]:
                need[a] |= m
    lists = list(live.values())
    ops = g.ops
    for i, m in enumerate(need):
        if m and ops[i] not in _LEAVES:
            k = 0
            while m:
                if m & 1:
                    lists[k].append(i)
                m >>= 1
                k += 1
    return live


def _operand(g: Graph, node: int, names: dict[int, str]):
    return g.values[node] if g.ops[node] == "const" else names[node]


def _name_nodes(g: Graph, live: list[int], names: dict[int, str], namer: _Namer,
                labels: dict[int, str]) -> None:
    """Give the user's names and the labels to the live nodes of one function, and names
    to the inputs it may read that are not its parameters."""
    for i in live:
        if i in g.names:
            names[i] = namer.claim(g.names[i])
    for i in live:
        if i not in names and i in labels:
            names[i] = namer.claim(labels[i])
    for name in g.variables():           # free variables not among the parameters
        v = g.lookup_var(name)
        if v not in names:
            names[v] = namer.claim(name)


def _function(g: Graph, fname: str, params: list[str], roots: list[int], live: list[int],
              consts: list[int], names: dict[int, str], namer: _Namer, labels: dict[int, str],
              inline: Callable[[str, list], Any] | None, lazy: bool = True) -> Function:
    _name_nodes(g, live, names, namer, labels)
    if lazy and not _SELECTS.isdisjoint(map(g.ops.__getitem__, live)):
        paths = _guard_paths(g, live, roots)
        items = _place(g, [(i, paths.get(i)) for i in live])
    else:                   # eager, or no `where`: every statement computed, in id order
        items = [(i, _ALWAYS) for i in live]
    nodes = [i for i, _ in items]
    inlined: set[int] = set()
    if inline is not None:
        pinned = set(roots) | {c for _, alts in items for path in alts or () for c, _ in path}
        temps = {i for i in nodes if i not in names}
        inlined = inline_plan(g, nodes, [alts for _, alts in items], pinned, temps, inline)
    unnamed = {}                           # node -> its first statement, if no name yet
    for k, i in enumerate(nodes):
        if i not in names and i not in unnamed:
            unnamed[i] = k
    for prefix, wanted in (("_i", True), ("_t", False)):    # numbered in statement order
        batch = [i for i, k in unnamed.items() if (k in inlined) == wanted]
        names.update(zip(batch, namer.temps(prefix, len(batch))))
    guard_index: dict[tuple, int] = {}
    guards: list[Guard] = []
    texts = dict(names)                    # node -> its operand: a name, or a constant's float
    values = g.values
    texts.update((a, values[a]) for a in consts)
    operand, ops, args = texts.__getitem__, g.ops, g.args
    stmts = list(map(_stmt, zip(           # the statements' fields, a column at a time
        [names[i] for i in nodes],
        [ops[i] for i in nodes],
        [tuple(map(operand, args[i])) for i in nodes],
        nodes,
        [-1 if alts == _ALWAYS else _guard_for(alts, guard_index, guards, names, namer)
         for _, alts in items],            # guards are named in statement order
        [k in inlined for k in range(len(nodes))])))
    return Function(fname, params, stmts, [_operand(g, r, names) for r in roots], guards,
                    {i: g.values[i] for i in nodes if g.ops[i] in ("loop", "scatter")})


# Stmt(*fields) without the keyword handling of a named tuple's __new__ (a third of the
# cost of building a function's statements).
_stmt = functools.partial(tuple.__new__, Stmt)


# Item: (node, guard alternatives, or None for a node that no taken branch needs).
Item = tuple[int, "tuple | None"]

# Splitting rounds before giving up laziness for a function (see `_place`).
_MAX_SPLITS = 16


def _place(g: Graph, items: list[Item]) -> list[Item]:
    """The statements of a function in an order where every guarded statement comes after
    what it reads under its guard, and every guard's conditions after their own statements.

    Id order works unless a guard reads a condition computed from the guarded node itself
    (a `where` whose condition reads an earlier `where`, and a branch that reuses a value
    the condition was computed from). Such a node is computed twice: first under the
    alternatives of its guard that do not read the condition (enough to compute it), then,
    after the condition, under those that do; the second statement assigns the same name
    the same value. Should that not untangle a function (it has not been seen to happen),
    its statements are all computed, in id order: correct values, without laziness.
    """
    for _ in range(_MAX_SPLITS):
        order = _order(g, items)
        if len(order) == len(items):
            return [items[k] for k in order]
        split = _split(g, items, set(order))
        if split is None:
            break
        items = split
    return [(i, _ALWAYS) for i in sorted({i for i, _ in items})]


def _order(g: Graph, items: list[Item]) -> list[int]:
    """A topological order of `items` (indices), id order where free; items that could not
    be placed (a cycle) are left out. An item waits, for each operand and each condition of
    its guard, for the statement of that node whose guard covers the reading one's."""
    if all(alts == _ALWAYS for _, alts in items) and len({i for i, _ in items}) == len(items):
        return list(range(len(items)))
    of_node: dict[int, list[int]] = {}
    for k, (i, _) in enumerate(items):
        of_node.setdefault(i, []).append(k)
    ops, args = g.ops, g.args
    waiting: dict[int, list[int]] = {}
    missing: list[int] = []
    for k, (i, alts) in enumerate(items):
        deps: set[int] = set()
        for j, a in enumerate(args[i]):
            if a not in of_node:
                continue
            if alts is None:
                deps.update(of_node[a])
                continue
            want = _extend(alts, (args[i][0], j == 1)) if ops[i] == "where" and j > 0 else alts
            deps.update(_cover(items, of_node[a], want))
        for path in alts or ():
            for n, (c, _) in enumerate(path):
                if c in of_node:
                    deps.update(_cover(items, of_node[c], (path[:n],)))
        deps.discard(k)
        missing.append(len(deps))
        for d in deps:
            waiting.setdefault(d, []).append(k)
    ready = [(items[k][0], k) for k in range(len(items)) if missing[k] == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        _, k = heapq.heappop(ready)
        order.append(k)
        for j in waiting.get(k, ()):
            missing[j] -= 1
            if missing[j] == 0:
                heapq.heappush(ready, (items[j][0], j))
    return order


def _cover(items: list[Item], candidates: list[int], want: tuple) -> set[int]:
    """The statements (of one node) that a reader needing it under the paths `want` must
    wait for: for each path, the first statement whose guard holds wherever the path does."""
    found = set()
    for path in want:
        steps = set(path)
        for k in candidates:
            alts = items[k][1]
            if alts is not None and any(set(p) <= steps for p in alts):
                found.add(k)
                break
        else:                               # not covered by one statement: wait for all
            found.update(candidates)
    return found


def _split(g: Graph, items: list[Item], placed: set[int]) -> list[Item] | None:
    """Split every unplaced statement whose guard reads conditions computed from its own
    node: its guard's paths are grouped by the last such condition they read (none, the
    first, the second, ...), one statement per group, each placed after its condition.
    None if no statement can be split."""
    out = list(items)
    changed = False
    for k, (i, alts) in enumerate(items):
        if k in placed or alts is None:
            continue
        conds = {c for p in alts for c, _ in p if c > i}
        bad = {c for c in conds if g.depends_on([i], c)[c]}
        groups: dict[int, list[tuple]] = {}
        for p in alts:
            groups.setdefault(max((c for c, _ in p if c in bad), default=-1), []).append(p)
        if len(groups) < 2:
            continue
        first, *rest = sorted(groups)
        out[k] = (i, tuple(groups[first]))
        out.extend((i, tuple(groups[c])) for c in rest)
        changed = True
    return out if changed else None


# A node's guard is a tuple of alternative paths, each a tuple of (condition node, branch
# taken) from the outside in; the node is needed when any path holds. _ALWAYS: no condition.
_ALWAYS: tuple = ((),)


def _guard_paths(g: Graph, live: list[int], roots: list[int]) -> dict[int, tuple]:
    """For each live node, the `where` conditions under which some use needs it. A node
    that only a branch never taken reads (`where(c, where(c, a, b), ...)`: b) has none."""
    paths: dict[int, tuple] = {r: _ALWAYS for r in roots}
    ops, args = g.ops, g.args
    for i in reversed(live):
        alts = paths.get(i)
        if alts is None:
            continue
        where = ops[i] in _SELECTS           # branches k > 0 are needed only when taken
        for k, a in enumerate(args[i]):
            if ops[a] in _LEAVES:
                continue
            want = alts
            if where and k > 0:
                want = _extend(alts, (args[i][0], k == 1))
                if not want:                # the branch is never taken under this guard
                    continue
            old = paths.get(a)
            paths[a] = want if old is None or old == want else _join(old, want)
    return paths


def _extend(alts: tuple, step: tuple) -> tuple:
    """The paths of `alts`, each refined by one more step (condition, branch). A path that
    already has the step is unchanged; one that has its opposite is dropped (it can never
    hold); a path at the depth limit stays as it is (a weaker guard)."""
    out = []
    for p in alts:
        if step in p or len(p) >= MAX_GUARD_DEPTH:
            out.append(p)
        elif (step[0], not step[1]) not in p:
            out.append(p + (step,))
    return tuple(out)


def _join(*alternatives: tuple) -> tuple:
    """The guard of a node needed under any of the given guards."""
    if len(alternatives) == 1:
        return alternatives[0]
    merged = set().union(*alternatives)
    changed = True
    while changed:                      # c and not c -> the common prefix; drop implied paths
        changed = False
        for p in sorted(merged):
            if p and p[:-1] + ((p[-1][0], not p[-1][1]),) in merged:
                merged -= {p, p[:-1] + ((p[-1][0], not p[-1][1]),)}
                merged.add(p[:-1])
                changed = True
                break
        # a path whose conditions include all of another's is implied by it (p => q); of
        # paths with the same conditions in another order, the first is kept
        steps: dict[frozenset, tuple] = {}
        for p in sorted(merged):
            steps.setdefault(frozenset(p), p)
        merged = {p for k, p in steps.items() if not any(q < k for q in steps)}
    if () in merged:
        return _ALWAYS
    alts = sorted(merged)
    if len(alts) > MAX_ALTERNATIVES:
        prefix = alts[0]
        for p in alts[1:]:
            prefix = _common_prefix(prefix, p)
        return (prefix,)
    return tuple(alts)


def _common_prefix(a: tuple, b: tuple) -> tuple:
    if a == b:
        return a
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return a[:n]


def _guard_for(alts: tuple, index: dict[tuple, int], guards: list[Guard],
               names: dict[int, str], namer: _Namer) -> int:
    """The index of the guard variable for the alternatives `alts`, creating it (and the
    guards it is made of); -1 for no guard."""
    if alts is None:
        return NEVER
    if alts == _ALWAYS:
        return -1
    chains = [_guard_chain(path, index, guards, names, namer) for path in alts]
    if len(chains) == 1:
        return chains[0]
    if alts not in index:
        guards.append(Guard(namer.temp("_g"), "", True, -1, tuple(chains)))
        index[alts] = len(guards) - 1
    return index[alts]


def _guard_chain(path: tuple, index: dict[tuple, int], guards: list[Guard],
                 names: dict[int, str], namer: _Namer) -> int:
    """The guard for one path of conditions, and its prefixes."""
    base = -1
    for depth in range(1, len(path) + 1):
        prefix = (path[:depth],)
        if prefix not in index:
            cond, positive = path[depth - 1]
            guards.append(Guard(namer.temp("_g"), names[cond], positive, base))
            index[prefix] = len(guards) - 1
        base = index[prefix]
    return base
