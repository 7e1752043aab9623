"""generated/: the committed example modules are byte-identical to a fresh compile, import
on their own (nothing but math or numpy), and compute the right values."""

from __future__ import annotations

import ast
import importlib.util
import sys
from pathlib import Path

import pytest

from oracles import sympy_oracle as oracle
from symback.source import directives, numbers

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "generated"))
import regenerate  # noqa: E402

EXAMPLES = regenerate.EXAMPLES
IDS = [e["out"] for e in EXAMPLES]


def _load(path: Path):
    spec = importlib.util.spec_from_file_location(f"generated_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("example", EXAMPLES, ids=IDS)
def test_generated_file_is_a_fresh_compile(example):
    path = ROOT / "generated" / example["out"]
    assert path.exists(), "missing; run: python generated/regenerate.py"
    assert path.read_text(encoding="utf-8") == regenerate.build(example), (
        f"{path.name} is out of date; run: python generated/regenerate.py")


@pytest.mark.parametrize("example", EXAMPLES, ids=IDS)
def test_generated_module_imports_only_its_backend(example):
    tree = ast.parse((ROOT / "generated" / example["out"]).read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module)
    assert imported <= {"math", "numpy"}


@pytest.mark.parametrize("example", EXAMPLES, ids=IDS)
def test_generated_module_values_match_sympy(example):
    import symback

    text, _ = regenerate.source_text(example)
    info = symback.parse(text)
    module = _load(ROOT / "generated" / example["out"])
    names = list(module.INPUTS)
    point = numbers(directives(text)["point"], "# point")
    exact = [oracle.gradient(e, names, dict(zip(names, point)))
             for e in oracle.to_sympy(text, names)]
    assert len(exact) == len(info.outputs)
    if len(exact) == 1:
        value, grad = module.value_and_grad(*point)
        rows, values = [grad], [value]
    else:
        values, rows = module.value_and_jacobian(*point)
    for v, row, (ev, eg) in zip(values, rows, exact):
        scale = max(abs(g) for g in eg)
        assert oracle.rel_error(float(v), ev) <= 1e-9
        assert max(oracle.rel_error(float(g), e, scale) for g, e in zip(row, eg)) <= 1e-9
