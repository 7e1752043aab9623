"""The command line: `symback compile EXPR | -f FILE | - [-o OUT] [--wrt x,y]`.

Errors go to stderr as `symback: error: <message> at <line>:<column>` with the source line
and a caret; the exit status is 1 for a bad expression or file, 2 for bad command-line usage.
Output files are written atomically: on any error nothing is written.
"""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

from . import __version__
from .api import compile as compile_expr
from .api import read_expr_file
from .errors import ArgumentError, SymbackError
from .render import BACKENDS


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
    comp.add_argument("--backend", choices=sorted(BACKENDS), default="python",
                      help="python: scalars with math (default)")
    comp.add_argument("--name", help="the module's name shown in its docstring "
                      "(default: the file's '# name:' or stem, else 'expr')")
    comp.set_defaults(run=_run_compile)
    return parser


def _add_input_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("expr", nargs="?", metavar="EXPR",
                   help="the expression; '-' reads it from standard input")
    p.add_argument("-f", "--file", metavar="FILE",
                   help="read the expression from FILE (.expr files: '# vars:' gives the "
                        "input order)")
    p.add_argument("--wrt", metavar="NAMES",
                   help="differentiate with respect to these inputs, in this order "
                        "(comma-separated); other names become plain parameters")
    p.add_argument("--no-limits", action="store_true",
                   help="lift the input-size and graph-size limits")


def _read_input(args: argparse.Namespace, parser: argparse.ArgumentParser) -> tuple[str, str]:
    """(text, default module name) from EXPR, -f FILE or stdin."""
    if args.file is not None and args.expr is not None:
        parser.error("give either EXPR or -f FILE, not both")
    if args.file is not None:
        source = read_expr_file(args.file)
        return source.text, source.name
    if args.expr is None:
        parser.error("give an expression, -f FILE, or '-' to read standard input")
    if args.expr == "-":
        return sys.stdin.read(), "expr"
    return args.expr, "expr"


def _run_compile(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    text, default_name = _read_input(args, parser)
    limits = {"max_chars": None, "max_nodes": None} if args.no_limits else {}
    compiled = compile_expr(text, wrt=args.wrt, name=args.name or default_name,
                            backend=args.backend, **limits)
    if args.output is None:
        sys.stdout.write(compiled.source)
        return 0
    compiled.save(args.output)
    stats = compiled.stats
    ops = ", ".join(f"{k[:-4]} {v} ops" for k, v in stats.items() if k.endswith("_ops"))
    print(f"symback: wrote {args.output} ({len(compiled.inputs)} inputs; {ops})",
          file=sys.stderr)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args, parser)
    except SymbackError as exc:
        print(f"symback: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("symback: interrupted", file=sys.stderr)
        return 130


__all__ = ["main", "ArgumentError"]
