"""The compile cache: a hit does not parse, any change of input, option or version is a
miss, a damaged entry is recompiled (never executed, never a crash), concurrent writers
leave a whole entry, and `symback cache info|clear` work from the command line."""

from __future__ import annotations

import importlib
import json
import multiprocessing
import os
import pickle
import subprocess
import sys
import types
import warnings
from pathlib import Path

import pytest

import symback
from symback import ArgumentError, ParseError, SymbackWarning
from symback import cache

parse_module = importlib.import_module("symback.parse")
api_module = importlib.import_module("symback.api")

TEXT = "p = x + y; q = p * z; r = q**2"


@pytest.fixture
def folder(tmp_path, monkeypatch):
    """A fresh cache folder, the cache on by default."""
    path = tmp_path / "cache"
    monkeypatch.setenv("SYMBACK_CACHE_DIR", str(path))
    monkeypatch.setenv("SYMBACK_CACHE", "1")
    return path


def entries(path: Path) -> list[Path]:
    return sorted(path.glob("*.json"))


def no_compiling(monkeypatch):
    """Make any parse or compile fail: what still works came from the cache."""
    def fail(*args, **kwargs):
        raise AssertionError("parsed or compiled on what should be a cache hit")
    monkeypatch.setattr(parse_module, "parse", fail)
    monkeypatch.setattr(api_module, "_compile", fail)


def test_hit_does_not_parse_and_gives_the_same_compiled(folder, monkeypatch):
    first = symback.compile(TEXT)
    assert len(entries(folder)) == 1
    no_compiling(monkeypatch)
    hit = symback.compile(TEXT)
    assert (hit.source, hit.inputs, hit.wrt, hit.outputs, hit.backend, hit.stats, hit.name,
            hit.modes) == (first.source, first.inputs, first.wrt, first.outputs,
                           first.backend, first.stats, first.name, first.modes)
    assert hit.value_and_grad(1, 3, 3) == (144.0, (72.0, 72.0, 96.0))


def test_a_sparse_hit_keeps_its_structure(folder, monkeypatch):
    pytest.importorskip("scipy")
    first = symback.compile("x*y + z**3 + 2*x", hessian=True, sparse=True)
    no_compiling(monkeypatch)
    hit = symback.compile("x*y + z**3 + 2*x", hessian=True, sparse=True)
    assert hit.sparsity == first.sparsity and hit.sparsity["hessian"][:2] == ((1, 2), (0, 2))
    assert (hit.hessian_sparse(1.0, 2.0, 0.5).toarray()
            == first.hessian_sparse(1.0, 2.0, 0.5).toarray()).all()


def test_hit_rebuilds_the_expression_on_access_and_pickles(folder):
    symback.compile(TEXT, hessian=True)
    hit = symback.compile(TEXT, hessian=True)
    assert hit._expression is None                   # not parsed by the hit
    clone = pickle.loads(pickle.dumps(hit))
    assert clone.hessian(1, 3, 3)[0] == (18.0, 18.0, 48.0)
    assert hit.expression.output_names == ["r"]
    assert hit.expression.inputs == ["x", "y", "z"]


def test_cache_false_and_environment_bypass_it(folder, monkeypatch):
    symback.compile(TEXT, cache=False)
    assert not folder.exists() or entries(folder) == []
    monkeypatch.setenv("SYMBACK_CACHE", "0")
    symback.compile(TEXT)
    assert not folder.exists() or entries(folder) == []
    symback.compile(TEXT, cache=True)               # an explicit True wins
    assert len(entries(folder)) == 1


def test_bad_cache_argument(folder):
    with pytest.raises(ArgumentError, match="cache must be True, False or None"):
        symback.compile("x", cache="yes")


def test_errors_are_not_cached(folder):
    for _ in range(2):
        with pytest.raises(ParseError):
            symback.compile("sin(x")
    assert not folder.exists() or entries(folder) == []


@pytest.mark.parametrize("change", [
    {"expr": TEXT + " "},
    {"expr": [TEXT.split("; ")[0].split(" = ")[1], "x*y"]},
    {"wrt": ["x"]},
    {"wrt": ["y", "x"]},
    {"name": "other"},
    {"backend": "numpy"},
    {"hessian": True},
    {"hessian": True, "sparse": True},
    {"mode": "forward"},
    {"strict": True, "wrt": ["x", "y", "z"]},
    {"max_chars": 10_000},
    {"max_nodes": 10_000},
    {"max_chars": None, "max_nodes": None},
])
def test_any_change_of_input_or_option_is_a_miss(folder, change):
    if change.get("backend") == "numpy":
        pytest.importorskip("numpy")
    options = dict(change)
    expr = options.pop("expr", TEXT)
    base = symback.compile(TEXT)
    changed = symback.compile(expr, **options)
    assert len(entries(folder)) == 2
    assert symback.compile(expr, **options).source == changed.source   # and then a hit
    assert symback.compile(TEXT).source == base.source
    assert len(entries(folder)) == 2


def test_a_new_symback_version_is_a_miss(folder, monkeypatch):
    symback.compile(TEXT)
    monkeypatch.setattr(cache, "__version__", "99.0")
    symback.compile(TEXT)
    assert len(entries(folder)) == 2


def test_a_change_of_symback_code_is_a_miss(folder, monkeypatch):
    symback.compile(TEXT)
    monkeypatch.setattr(cache, "code_fingerprint", lambda: "edited")
    symback.compile(TEXT)
    assert len(entries(folder)) == 2


def _damage(path: Path, how: str) -> None:
    data = path.read_bytes()
    if how == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif how == "empty":
        path.write_bytes(b"")
    elif how == "flip a byte":                      # inside the source: still valid JSON
        entry = json.loads(data)
        k = data.index(b"def forward")
        path.write_bytes(data[:k] + b"e" + data[k + 1:])
        assert json.loads(path.read_bytes())["source"] != entry["source"]
    elif how == "edit the source":                  # a hand edit that keeps the JSON valid
        entry = json.loads(data)
        entry["source"] = "raise SystemExit('executed a tampered entry')\n" + entry["source"]
        path.write_text(json.dumps(entry))
    elif how == "edit the meta":
        entry = json.loads(data)
        entry["meta"]["inputs"] = ["a", "b", "c"]
        path.write_text(json.dumps(entry))
    elif how == "wrong types":
        entry = json.loads(data)
        entry["meta"]["stats"] = "many"
        path.write_text(json.dumps(entry))
    elif how == "not an object":
        path.write_text("[1, 2, 3]")
    elif how == "not JSON":
        path.write_bytes(b"\x80\x81 garbage {")
    elif how == "deep nesting":
        path.write_text("[" * 200_000 + "]" * 200_000)
    elif how == "a directory":
        path.unlink()
        path.mkdir()
    else:
        raise AssertionError(how)


@pytest.mark.parametrize("how", ["truncate", "empty", "flip a byte", "edit the source",
                                 "edit the meta", "wrong types", "not an object", "not JSON",
                                 "deep nesting", "a directory"])
def test_a_damaged_entry_is_recompiled_and_rewritten(folder, how):
    first = symback.compile(TEXT)
    (path,) = entries(folder)
    _damage(path, how)
    calls = []
    real = api_module._compile

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)
    api_module._compile = counting
    try:
        again = symback.compile(TEXT)
    finally:
        api_module._compile = real
    assert calls == [1]                             # recompiled, not read
    assert again.source == first.source
    assert again.value_and_grad(1, 3, 3) == (144.0, (72.0, 72.0, 96.0))
    if how != "a directory":                        # rewritten: the next one is a hit
        assert json.loads(path.read_text())["source"] == first.source
        assert symback.compile(TEXT)._expression is None


def test_an_entry_under_another_key_is_not_used(folder):
    symback.compile("x * y")
    symback.compile("x + y")
    a, b = entries(folder)
    b.write_bytes(a.read_bytes())                   # a whole, valid entry, misplaced
    assert symback.compile("x + y").forward(1, 2) + symback.compile("x * y").forward(1, 2) \
        == 3.0 + 2.0


def test_a_folder_others_can_write_is_not_used(folder):
    folder.mkdir(mode=0o700)
    symback.compile(TEXT)
    assert len(entries(folder)) == 1
    os.chmod(folder, 0o777)
    try:
        assert cache.load(cache.key(TEXT, _options())) is None
        assert cache.info()["usable"] is False
    finally:
        os.chmod(folder, 0o700)
    assert cache.load(cache.key(TEXT, _options())) is not None


def _options(**changes):
    options = {"wrt": None, "name": None, "backend": "python", "hessian": False, "mode": "auto",
               "max_chars": api_module.DEFAULT_MAX_CHARS,
               "max_nodes": api_module.DEFAULT_MAX_NODES, "strict": False, "sparse": False,
               "shapes": None, "loops": "auto"}
    options.update(changes)
    return options


def test_an_unwritable_cache_folder_never_fails_a_compile(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("SYMBACK_CACHE_DIR", str(blocker / "cache"))
    assert symback.compile(TEXT, cache=True).forward(1, 3, 3) == 144.0


def test_warnings_are_given_again_on_a_hit(folder):
    text = "loss = (x - y)**2; los * 2"
    for _ in range(2):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            symback.compile(text)
        (w,) = [c.message for c in caught if isinstance(c.message, SymbackWarning)]
        assert "did you mean 'loss'" in w.message and (w.line, w.column) == (1, 20)
    assert len(entries(folder)) == 1


def _compile_in_worker(args):
    barrier, text = args
    barrier.wait()
    f = symback.compile(text)
    return f.source


def test_processes_racing_on_one_key(folder):
    text = open(Path(__file__).parent.parent / "benchmarks/workloads/rosenbrock_10.expr").read()
    ctx = multiprocessing.get_context("spawn")
    with ctx.Manager() as manager:
        barrier = manager.Barrier(4)
        with ctx.Pool(4) as pool:
            sources = pool.map(_compile_in_worker, [(barrier, text)] * 4)
    assert len(set(sources)) == 1
    (path,) = entries(folder)
    assert not [p for p in folder.iterdir() if p.name.endswith(".tmp")]
    assert cache.load(path.stem) is not None
    assert symback.compile(text, cache=False).source == sources[0]


def test_directory_choice(tmp_path, monkeypatch):
    monkeypatch.setenv("SYMBACK_CACHE_DIR", str(tmp_path / "here"))
    assert cache.directory() == tmp_path / "here"
    monkeypatch.delenv("SYMBACK_CACHE_DIR")
    monkeypatch.setitem(sys.modules, "platformdirs", None)     # not installed
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache.directory() == tmp_path / "xdg" / "symback"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache.directory() == tmp_path / "home" / ".cache" / "symback"
    fake = types.ModuleType("platformdirs")
    fake.user_cache_dir = lambda app, appauthor=None: str(tmp_path / "pd" / app)
    monkeypatch.setitem(sys.modules, "platformdirs", fake)
    assert cache.directory() == tmp_path / "pd" / "symback"


def _cli(*args, env):
    return subprocess.run([sys.executable, "-m", "symback", *args], capture_output=True,
                          text=True, env=env, timeout=120)


def test_cli_compile_uses_the_cache_and_cache_info_clear(tmp_path):
    folder = tmp_path / "cache"
    env = dict(os.environ, SYMBACK_CACHE_DIR=str(folder), SYMBACK_CACHE="1")
    info = _cli("cache", "info", env=env)
    assert info.returncode == 0 and f"directory: {folder}" in info.stdout
    assert "entries: 0" in info.stdout
    first = _cli("compile", "x * sin(y)", env=env)
    second = _cli("compile", "x * sin(y)", env=env)
    assert first.returncode == second.returncode == 0 and first.stdout == second.stdout
    assert _cli("compile", "x * cos(y)", "--no-cache", env=env).returncode == 0
    assert len(entries(folder)) == 1
    (folder / "notes.txt").write_text("not ours")
    info = _cli("cache", "info", env=env)
    assert "entries: 1" in info.stdout and "cache: on" in info.stdout
    cleared = _cli("cache", "clear", env=env)
    assert cleared.returncode == 0 and "removed 1 cache entry" in cleared.stdout
    assert entries(folder) == [] and (folder / "notes.txt").exists()
    assert "entries: 0" in _cli("cache", "info", env=env).stdout
    bad = _cli("cache", "nope", env=env)
    assert bad.returncode == 2
