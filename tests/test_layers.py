"""The library's layers (pyproject.toml, [tool.importlinter]): each module imports only from the
layers below its own, so there is no import cycle; and jarlib imports sit at the top of a module,
except where a comment says why (an optional heavy dependency such as torch)."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_the_layers_contract_holds():
    pytest.importorskip("importlinter", reason="import-linter is a test dependency: pip install -e '.[test]'")
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which("lint-imports")
    assert exe, "lint-imports not found beside this Python"
    done = subprocess.run([exe, "--config", str(ROOT / "pyproject.toml")], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "KEPT" in done.stdout and "BROKEN" not in done.stdout


def _unexplained_imports_in_functions(path: Path) -> list[str]:
    lines = path.read_text().splitlines()
    found = []
    for fn in ast.walk(ast.parse("\n".join(lines))):
        if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for node in ast.walk(fn):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("jarlib") \
                    or isinstance(node, ast.Import) and any(a.name.startswith("jarlib") for a in node.names):
                i = node.lineno - 1
                while i > 0 and lines[i - 1].strip().startswith(("from jarlib", "import jarlib")):
                    i -= 1                     # one comment may explain a group of imports
                if "#" not in lines[node.lineno - 1] and not lines[i - 1].strip().startswith("#") \
                        and "#" not in lines[i]:
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_jarlib_imports_inside_functions_say_why():
    found = [f for p in sorted((ROOT / "jarlib").rglob("*.py")) for f in _unexplained_imports_in_functions(p)]
    assert not found, "move these imports to the top of their module, or say in a comment why not: " + ", ".join(found)


def test_the_contract_names_every_module():
    """A new top-level module must be placed in a layer (else import-linter would not check it)."""
    text = (ROOT / "pyproject.toml").read_text()
    modules = {p.stem for p in (ROOT / "jarlib").glob("*.py") if p.stem not in ("__init__", "__main__")}
    modules |= {p.name for p in (ROOT / "jarlib").iterdir() if (p / "__init__.py").exists()}
    missing = sorted(m for m in modules if f'jarlib.{m}"' not in text and f"jarlib.{m} " not in text)
    assert not missing, f"add to a layer in pyproject.toml [tool.importlinter]: {', '.join(missing)}"
