"""Files the repository promises beside the code: the license, the citation file, the benchmark results
the docs cite (every cited file exists, every stored file is cited), and strict JSON in every shipped
instance and result file (no NaN or Infinity, which Python's ``json`` accepts by default)."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
#: The reference docs: the README and docs/ outside the research log (benchmarks/README.md indexes the
#: results but does not count as citing them).
REFERENCE_DOCS = sorted([ROOT / "README.md", *(p for p in (ROOT / "docs").rglob("*.md") if "research" not in p.parts)])
#: Every document that may name a results file (and must then name one that exists).
ALL_DOCS = sorted({*REFERENCE_DOCS, *(ROOT / "docs").rglob("*.md"), ROOT / "benchmarks" / "README.md"})
RESULT_PATH = re.compile(r"benchmarks/results/([A-Za-z0-9_.\-]+[A-Za-z0-9_\-])")


def _cited(docs: list[Path]) -> dict[str, list[str]]:
    """Results file name -> the docs (relative paths) that name it as ``benchmarks/results/NAME``."""
    out: dict[str, list[str]] = {}
    for doc in docs:
        for name in RESULT_PATH.findall(doc.read_text(encoding="utf-8")):
            out.setdefault(name, []).append(str(doc.relative_to(ROOT)))
    return out


def _reject_constant(name: str) -> None:
    raise ValueError(f"non-standard JSON constant {name}")


def _strict_load(text: str) -> object:
    return json.loads(text, parse_constant=_reject_constant)


def test_license_is_mit_with_the_project_copyright() -> None:
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License")
    assert "Copyright (c) 2026 the lpsched authors" in text
    assert "WITHOUT WARRANTY OF ANY KIND" in text


def test_citation_file_matches_the_package() -> None:
    cff = (ROOT / "CITATION.cff").read_text(encoding="utf-8")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    fields = dict(re.findall(r"^([a-z-]+): *(.+)$", cff, flags=re.MULTILINE))
    assert fields["cff-version"] == "1.2.0"
    assert fields["title"] == project["name"] == "lpsched"
    assert fields["version"] == project["version"]
    assert fields["license"] == project["license"]["text"] == "MIT"
    assert "- name: the lpsched developers" in cff
    assert "arXiv:2508.14544" in cff and "arXiv:2502.07115" in cff


def test_every_cited_results_file_exists() -> None:
    missing = {name: docs for name, docs in _cited(ALL_DOCS).items() if not (RESULTS / name).is_file()}
    assert not missing, f"docs cite results files that are not in benchmarks/results/: {missing}"


def test_every_results_file_is_cited_by_a_reference_doc() -> None:
    cited = _cited(REFERENCE_DOCS)
    stored = sorted(p.name for p in RESULTS.iterdir() if p.is_file())
    assert stored, "benchmarks/results/ is empty"
    uncited = [name for name in stored if name not in cited]
    assert not uncited, f"benchmarks/results/ holds files no reference doc cites (git keeps history): {uncited}"


def test_benchmarks_folder_holds_scripts_only() -> None:
    loose = sorted(p.name for p in (ROOT / "benchmarks").iterdir() if p.is_file() and p.suffix not in (".py", ".md"))
    assert not loose, f"result files outside benchmarks/results/: {loose}"


def _json_files() -> list[object]:
    files = sorted((ROOT / "instances").rglob("*.json")) + sorted(RESULTS.glob("*.json"))
    return [pytest.param(f, id=str(f.relative_to(ROOT))) for f in files]


@pytest.mark.parametrize("path", _json_files())
def test_json_file_is_strict_json(path: Path) -> None:
    _strict_load(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", sorted(RESULTS.glob("*.jsonl")), ids=lambda p: p.name)
def test_jsonl_results_are_strict_json(path: Path) -> None:
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert lines
    for line in lines:
        assert isinstance(_strict_load(line), dict)


def test_strict_parser_rejects_nan_and_infinity() -> None:
    for bad in ('{"x": NaN}', '{"x": Infinity}', '{"x": -Infinity}'):
        with pytest.raises(ValueError, match="non-standard JSON constant"):
            _strict_load(bad)
    assert _strict_load('{"x": null}') == {"x": None}
