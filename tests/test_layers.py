"""The layer rules are real: the import-linter contracts hold, and breaking one makes `lint-imports` fail."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def lint(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", "import sys; from importlinter.cli import lint_imports_command; "
                           "sys.exit(lint_imports_command())", "--config", str(root / "pyproject.toml"),
                           "--no-cache"], cwd=root, capture_output=True, text=True, timeout=300,
                          env={"PYTHONPATH": str(root / "src"), "PATH": "/usr/bin:/bin"})


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("tree")
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    shutil.copytree(ROOT / "src" / "paperscope", root / "src" / "paperscope",
                    ignore=shutil.ignore_patterns("*.npy", "*.gz", "tokenizer.json", "__pycache__", "static"))
    return root


def test_the_contracts_hold(tree: Path) -> None:
    res = lint(tree)
    assert res.returncode == 0, res.stdout + res.stderr


@pytest.mark.parametrize("module, line, contract", [
    ("sources/arxiv_api.py", "import paperscope.store.sqlite", "Sources only read"),
    ("scoring/metrics.py", "import paperscope.service.papers", "Pure layers"),
    ("store/fts5.py", "import paperscope.library", "Layers"),
    ("store/pg_tables.py", "import paperscope.store.sqlite", "The two stores"),
])
def test_a_broken_rule_fails(tree: Path, tmp_path: Path, module: str, line: str, contract: str) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(tree, broken)
    target = broken / "src" / "paperscope" / module
    target.write_text(target.read_text(encoding="utf-8") + f"\n{line}  # a layer violation\n", encoding="utf-8")
    res = lint(broken)
    assert res.returncode != 0
    assert "BROKEN" in res.stdout and contract in res.stdout
