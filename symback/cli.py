"""The command line: `symback compile|explain|graph EXPR | -f FILE | - [--wrt x y] ...`,
and `symback cache info|clear`.

Errors go to stderr as `symback: error: <message> at <line>:<column>` with the source line
and a caret; the exit status is 1 for a bad expression or file, 2 for bad command-line usage.
Output files are written atomically: on any error nothing is written.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import warnings
from typing import Any, Sequence

from ._version import __version__
from .api import compile as compile_expr
from .errors import ArgumentError, SymbackError, SymbackWarning
from .progress import Reporter
from .render import PRINTERS
from .source import (assignments, is_assignments, is_names, point_directive, read_expr_file,
                     resolve_point)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\n")


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="symback", description="Compile a math expression into a standalone "
                     "Python module that computes its value and exact gradient.")
    parser.add_argument("--version", action="version", version=f"symback {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    comp = sub.add_parser("compile", help="write the module for an expression",
                          description="Compile EXPR (or -f FILE, or '-' for stdin) into a "
                          "Python module with forward, gradient and value_and_grad.")
    _add_input_arguments(comp)
    comp.add_argument("-o", "--output", metavar="OUT",
                      help="write the module to OUT (atomically); default: print it")
    comp.add_argument("--backend", choices=sorted(PRINTERS), default="python",
                      help="python: scalars with math (default); numpy: arrays with "
                      "broadcasting")
    comp.add_argument("--hessian", action="store_true",
                      help="also write hessian() and hvp() (one output only)")
    comp.add_argument("--sparse", action="store_true",
                      help="write the structural nonzeros of the Jacobian (several outputs) "
                      "or of the Hessian (with --hessian): *_ROWS, *_COLS, *_values()")
    comp.add_argument("--mode", choices=("auto", "reverse", "forward"), default="auto",
                      help="how Jacobians and Hessians are built: auto (fewer operations, "
                      "default), reverse sweeps, or forward sweeps (forward over reverse)")
    comp.add_argument("--loops", choices=("auto", "roll", "unroll"), default="auto",
                      help="sum/prod/min/max(... for i in range(n)) comprehensions: auto "
                      "(default) keeps those of 256 or more iterations as loops, roll keeps "
                      "all, unroll writes every term out")
    comp.add_argument("--name", help="the module's name shown in its docstring "
                      "(default: the file's '# name:' or stem, else 'expr')")
    comp.add_argument("--strict", action="store_true",
                      help="every name that is not bound must be declared as an input "
                      "(by --wrt or the file's '# vars:' line); others are errors")
    shown = comp.add_mutually_exclusive_group()
    shown.add_argument("--progress", action="store_true", default=None,
                       help="print the stages of a compile that takes more than 2 s "
                       "(default: when stderr is a terminal)")
    shown.add_argument("--quiet", dest="progress", action="store_false",
                       help="never print compile progress")
    comp.add_argument("--no-cache", action="store_true",
                      help="neither read nor write the compile cache (see 'symback cache')")
    comp.set_defaults(run=_run_compile)
    _add_explain_parser(sub)
    _add_graph_parser(sub)
    _add_cache_parser(sub)
    from .latex import add_command   # symback latex EXPR: the gradient formulas in LaTeX
    add_command(sub, _add_input_arguments, _read_input)
    return parser


def _add_input_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("expr", nargs="*", metavar="EXPR",
                   help="the expression; '-' reads it from standard input")
    p.add_argument("-f", "--file", metavar="FILE",
                   help="read the expression from FILE (.expr files: '# vars:' gives the "
                        "input order)")
    p.add_argument("--wrt", nargs="+", metavar="NAME",
                   help="differentiate with respect to these inputs, in this order "
                        "(--wrt x y or --wrt x,y); other names become plain parameters")
    p.add_argument("--no-limits", action="store_true",
                   help="lift the input-size and graph-size limits")


def _parse_args(parser: argparse.ArgumentParser,
                argv: Sequence[str] | None) -> argparse.Namespace:
    """The parsed command line, with options in any order.

    `--wrt` and `--at` take lists (spaces and/or commas), and argparse gives them every
    word up to the next option, the expression too (`--at x=1 y=2 "x*y"`). So the words
    are sorted here: when no expression was given otherwise, a last `--at` word that is not
    `NAME=VALUE`, or else a last `--wrt` word (after at least one other) that is not a list
    of names, is the expression. A bare name is never taken for it: `--wrt x y` stays two
    names. Afterwards `args.expr` is one text or None, `args.wrt` one string of names or
    None, `args.at` a list of `NAME=VALUE` words or None.
    """
    args = parser.parse_args(argv)
    if not hasattr(args, "expr"):
        return args
    exprs = list(args.expr)
    at = list(getattr(args, "at", None) or [])
    wrt = list(args.wrt or [])
    if not exprs and args.file is None:
        if at and not is_assignments(at[-1]):
            exprs.append(at.pop())
        elif len(wrt) > 1 and not is_names(wrt[-1]):
            exprs.append(wrt.pop())
    if len(exprs) > 1:
        parser.error(f"give one expression, got {len(exprs)}: "
                     f"{', '.join(repr(e) for e in exprs)} (quote it: \"x * y\")")
    args.expr = exprs[0] if exprs else None
    args.wrt = ",".join(wrt) if args.wrt is not None else None
    if getattr(args, "at", None) is not None:
        args.at = at
    return args


def _read_input(args: argparse.Namespace, parser: argparse.ArgumentParser) -> tuple[str, str]:
    """(text, default module name) from EXPR, -f FILE or stdin."""
    if args.file is not None and args.expr is not None:
        parser.error("give either EXPR or -f FILE, not both")
    if args.file is not None:
        source = read_expr_file(args.file)
        return source.text, source.name
    if args.expr is None:
        hint = " (an expression that is a bare name goes before --wrt)" if args.wrt else ""
        parser.error(f"give an expression, -f FILE, or '-' to read standard input{hint}")
    if args.expr == "-":
        return sys.stdin.read(), "expr"
    return args.expr, "expr"


def _run_compile(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    text, default_name = _read_input(args, parser)
    limits = {"max_chars": None, "max_nodes": None} if args.no_limits else {}
    show = args.progress if args.progress is not None else sys.stderr.isatty()
    with Reporter(sys.stderr) if show else contextlib.nullcontext():
        compiled = compile_expr(text, wrt=args.wrt, name=args.name or default_name,
                                backend=args.backend, hessian=args.hessian, mode=args.mode,
                                strict=args.strict, sparse=args.sparse, loops=args.loops,
                                cache=False if args.no_cache else None, **limits)
    if args.output is None:
        sys.stdout.write(compiled.source)
        return 0
    compiled.save(args.output)
    stats = compiled.stats
    ops = ", ".join(f"{k[:-4]} {v} operation{'' if v == 1 else 's'}"
                    for k, v in stats.items() if k.endswith("_ops"))
    n = len(compiled.inputs)
    print(f"symback: wrote {args.output} ({n} input{'' if n == 1 else 's'}; {ops})",
          file=sys.stderr)
    return 0


# --- explain and graph (issue 5): the worked backpropagation example -------------------------

def _add_point_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--at", nargs="+", metavar="NAME=VALUE",
                   help="the point, e.g. --at x=1 y=3 z=3 or --at x=1,y=3,z=3 (default: the "
                        "file's '# point:')")
    p.add_argument("--which", metavar="OUTPUT",
                   help="for several outputs, the one to explain (default: the first)")


def _add_explain_parser(sub: argparse._SubParsersAction) -> None:
    from .explain import CHECKS
    from .report import DEFAULT_DIGITS, DEFAULT_LIMIT, FORMATS
    p = sub.add_parser("explain", help="show backpropagation step by step at a point",
                       description="Print the forward pass, the local partial derivative on "
                       "every edge, the backward pass (chain rule with the numbers filled in) "
                       "and the gradient checked against finite differences.")
    _add_input_arguments(p)
    _add_point_arguments(p)
    p.add_argument("--format", choices=FORMATS + ("latex",), default="text",
                   help="default: text; latex: an align* block (symback.latex)")
    p.add_argument("--limit", type=_count, metavar="N",
                   help=f"at most N rows per table (default {DEFAULT_LIMIT}; 0: all; "
                        "json: all unless given)")
    p.add_argument("--digits", type=_count, default=DEFAULT_DIGITS, metavar="N",
                   help=f"significant digits (default {DEFAULT_DIGITS}; 0: shortest exact)")
    p.add_argument("--check", choices=CHECKS, default="fd",
                   help="fd: central finite differences of the gradient rows shown "
                        "(default); torch: also PyTorch autograd in float64; none: no check")
    p.set_defaults(run=_run_explain)


def _add_graph_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("graph", help="write the computation graph in Graphviz DOT",
                       description="Write the computation graph in Graphviz DOT: nodes with "
                       "their equation (and value with --at), edges with the local partial "
                       "derivative. -o FILE.svg/.png/.pdf renders it with Graphviz's 'dot'.")
    _add_input_arguments(p)
    _add_point_arguments(p)
    p.add_argument("--backward", action="store_true",
                   help="also show the adjoint d(out)/d(node) on every node")
    p.add_argument("-o", "--output", metavar="FILE",
                   help="write to FILE: .dot/.gv as text, .svg/.png/.pdf rendered by dot "
                        "(default: print DOT)")
    p.set_defaults(run=_run_graph)


def _add_cache_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("cache", help="show or clear the compile cache",
                       description="The compile cache keeps each compiled module, keyed by a "
                       "hash of the input, the options and the symback version. Folder: "
                       "SYMBACK_CACHE_DIR, else the user cache folder (platformdirs), else "
                       "$XDG_CACHE_HOME/symback or ~/.cache/symback. SYMBACK_CACHE=0 turns "
                       "it off.")
    p.add_argument("action", choices=("info", "clear"),
                   help="info: the folder, entries and size; clear: remove every entry")
    p.set_defaults(run=_run_cache)


def _run_cache(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from . import cache
    if args.action == "clear":
        removed = cache.clear()
        print(f"symback: removed {removed} cache entr{'y' if removed == 1 else 'ies'} from "
              f"{cache.directory()}")
        return 0
    facts = cache.info()
    state = "on" if facts["enabled"] else "off (SYMBACK_CACHE=0)"
    if not facts["usable"]:
        state = "not used: the folder is not yours or others can write it"
    print(f"directory: {facts['directory']}{'' if facts['exists'] else ' (not created yet)'}")
    print(f"cache: {state}")
    print(f"entries: {facts['entries']}")
    print(f"size: {facts['bytes']:,} bytes")
    return 0


def _count(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = -1
    if n < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {text!r}")
    return n


def _trace(args: argparse.Namespace, parser: argparse.ArgumentParser, **options: object):
    """Parse the input, resolve the point (usage errors exit 2) and build the trace."""
    from .explain import explain, prepare
    text, _ = _read_input(args, parser)
    limits = {"max_chars": None, "max_nodes": None} if args.no_limits else {}
    expression, wrt = prepare(text, args.wrt, **limits)  # type: ignore[arg-type]
    if args.at is not None:
        try:
            point = resolve_point(expression.inputs, assignments(args.at), expression.shapes)
        except ArgumentError as exc:
            parser.error(f"--at: {exc.message}")
    else:
        point = point_directive(text, expression.inputs)
    return explain(expression, point, wrt=wrt, output=args.which, **options)  # type: ignore


def _run_explain(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from .report import DEFAULT_LIMIT, format_trace
    limit = args.limit
    if limit is None:
        limit = 0 if args.format == "json" else DEFAULT_LIMIT
    trace = _trace(args, parser, check=args.check, check_limit=limit)
    if args.check == "torch" and trace.point is None:
        parser.error("--check torch needs a point: give --at NAME=VALUE ...")
    if args.format == "latex":             # formulas printed by sympy: not report's job
        from .latex import format_latex
        from .report import DEFAULT_LIMIT
        rows = DEFAULT_LIMIT if args.limit is None else args.limit
        sys.stdout.write(format_latex(trace, limit=rows, digits=args.digits))
        return 0
    sys.stdout.write(format_trace(trace, args.format, limit=args.limit, digits=args.digits))
    return 0


def _run_graph(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from .dot import render, to_dot
    trace = _trace(args, parser, check="none")
    text = to_dot(trace, backward=args.backward)
    if args.output is None:
        sys.stdout.write(text)
        return 0
    render(text, args.output)
    print(f"symback: wrote {args.output} ({len(trace.forward)} nodes, {len(trace.edges)} "
          "differentiated edges)", file=sys.stderr)
    return 0


def _show_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                  file: Any = None, line: str | None = None) -> None:
    """Show a SymbackWarning as `symback: warning: ...` with its caret; others as usual."""
    if isinstance(message, SymbackWarning):
        caret = message.caret()
        print(f"symback: warning: {message.headline}" + ("\n" + caret if caret else ""),
              file=sys.stderr)
    else:
        print(warnings.formatwarning(message, category, filename, lineno, line),
              file=sys.stderr, end="")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = _build_parser()
    args = _parse_args(parser, argv)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always", SymbackWarning)
            warnings.showwarning = _show_warning
            return args.run(args, parser)
    except SymbackError as exc:
        print(f"symback: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("symback: interrupted", file=sys.stderr)
        return 130


__all__ = ["main", "ArgumentError"]
