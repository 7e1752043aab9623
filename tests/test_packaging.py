"""Packaging: the wheel ships templates/ inside the package, a non-editable install in a
fresh virtual environment compiles and runs (templates found in site-packages), and the sdist
holds everything its tests read."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytest.importorskip("hatchling", reason="the packaging test builds the wheel with hatchling")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(out), str(ROOT)], check=True, capture_output=True)
    (path,) = out.glob("symback-*.whl")
    return path


def test_wheel_contains_package_and_templates(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for template in (ROOT / "templates").iterdir():
        assert f"symback/templates/{template.name}" in names
    assert "symback/ops.py" in names and "symback/cli.py" in names
    entry = [n for n in names if n.endswith("entry_points.txt")]
    text = zipfile.ZipFile(wheel).read(entry[0]).decode()
    assert "symback = symback.cli:main" in text


def test_non_editable_install_in_a_fresh_venv(wheel, tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)],
                   check=True)
    python = venv / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index",
                    str(wheel)], check=True, capture_output=True)
    work = tmp_path / "work"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run([str(venv / "bin" / "symback"), "compile", "((x + y) * z)**2",
                             "-o", "seed_grad.py"], cwd=work, env=env, capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stderr
    code = ("import seed_grad as m, symback.render as r; print(m.forward(1, 3, 3), "
            "m.gradient(1, 3, 3)); print(r.templates_dir())")
    out = subprocess.run([str(python), "-c", code], cwd=work, env=env, capture_output=True,
                         text=True, check=True).stdout.splitlines()
    assert out[0] == "144.0 (72.0, 72.0, 96.0)"
    assert "site-packages" in out[1] and out[1].endswith("symback/templates")


# What the tests read outside tests/: an sdist must carry it, or its tests cannot run.
READ_BY_TESTS = ["benchmarks/workloads", "benchmarks", "generated", "templates", "tests/oracles"]


def test_sdist_holds_what_the_tests_read(tmp_path):
    subprocess.run([sys.executable, "-m", "hatchling", "build", "-t", "sdist", "-d",
                    str(tmp_path)], cwd=ROOT, check=True, capture_output=True)
    (sdist,) = tmp_path.glob("symback-*.tar.gz")
    with tarfile.open(sdist) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    for folder in READ_BY_TESTS:
        files = [p for p in (ROOT / folder).rglob("*") if p.is_file()
                 and "__pycache__" not in p.parts and "results" not in p.parts]
        assert files, folder
        missing = [str(p.relative_to(ROOT)) for p in files
                   if str(p.relative_to(ROOT)) not in names]
        assert not missing, f"the sdist lacks {missing[:5]}"
    assert "pyproject.toml" in names and "symback/api.py" in names
