"""Instances: JSON round trips, defaults and one clear validation error per mistake."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lpsched import Instance, InstanceError, Job, instance_from_dict, load_instance, save_instance

EXAMPLE = {
    "M": 50,
    "jobs": [
        {"id": "j0", "arrival": 0, "prompt": 3, "output": 12, "lower": 6, "upper": 20},
        {"id": "j1", "prompt": 2, "output": 5},
    ],
}


def test_example_from_issue_and_defaults() -> None:
    inst = instance_from_dict(EXAMPLE)
    assert inst.n == 2 and inst.M == 50
    j1 = inst.job(1)
    assert j1 == Job(id="j1", prompt=2, output=5, arrival=0, lower=5, upper=5)
    assert inst.job(0).lower == 6 and inst.job(0).upper == 20
    assert inst.predicted is None and inst.arrival_time is None


def test_id_defaults_to_position() -> None:
    inst = instance_from_dict({"M": 10, "jobs": [{"prompt": 1, "output": 2}, {"prompt": 1, "output": 3}]})
    assert inst.ids == ("0", "1")


def test_round_trip_preserves_every_field(tmp_path) -> None:
    data = {
        "name": "demo",
        "M": 40,
        "meta": {"generator": "hand", "seed": 7, "nested": {"a": [1, 2]}},
        "jobs": [
            {"id": "a", "arrival": 3, "prompt": 0, "output": 4, "lower": 2, "upper": 9, "predicted": 5,
             "arrival_time": 0.25},
            {"id": "b", "arrival": 0, "prompt": 7, "output": 30, "lower": 31, "upper": 33,
             "arrival_time": 1.5},
        ],
    }
    inst = instance_from_dict(data)
    path = tmp_path / "x.json"
    save_instance(inst, path)
    again = load_instance(path)
    assert again == inst
    assert again.to_dict() == data
    assert again.name == "demo" and again.meta == data["meta"]
    assert again.job(0).predicted == 5 and again.job(1).predicted is None
    assert again.arrival_time is not None and again.arrival_time.tolist() == [0.25, 1.5]
    assert again.content_hash() == inst.content_hash()


def test_miss_is_accepted_and_counted() -> None:
    inst = instance_from_dict({"M": 100, "jobs": [
        {"prompt": 1, "output": 10, "lower": 11, "upper": 20},
        {"prompt": 1, "output": 30, "lower": 11, "upper": 20},
        {"prompt": 1, "output": 15, "lower": 11, "upper": 20},
    ]})
    assert inst.n_misses == 2
    assert inst.misses.tolist() == [True, True, False]


def test_content_hash_ignores_name_and_meta_but_not_jobs() -> None:
    a = instance_from_dict(EXAMPLE)
    b = instance_from_dict({**EXAMPLE, "name": "other", "meta": {"x": 1}})
    c = instance_from_dict({"M": 51, "jobs": EXAMPLE["jobs"]})
    assert a.content_hash() == b.content_hash() != c.content_hash()


def _job_error(jobs: list[dict], M: int = 50) -> str:
    with pytest.raises(InstanceError) as exc:
        instance_from_dict({"M": M, "jobs": jobs})
    return str(exc.value)


@pytest.mark.parametrize(
    ("job", "must_contain"),
    [
        ({"id": "x", "prompt": 1}, ["'x'", "'output'", "missing"]),
        ({"id": "x", "output": 3}, ["'x'", "'prompt'", "missing"]),
        ({"id": "x", "prompt": 1.5, "output": 3}, ["'x'", "'prompt'", "integer"]),
        ({"id": "x", "prompt": "3", "output": 3}, ["'x'", "'prompt'", "integer"]),
        ({"id": "x", "prompt": True, "output": 3}, ["'x'", "'prompt'", "integer"]),
        ({"id": "x", "prompt": -1, "output": 3}, ["'x'", "'prompt'", ">= 0"]),
        ({"id": "x", "prompt": 1, "output": 0}, ["'x'", "'output'", ">= 1"]),
        ({"id": "x", "prompt": 1, "output": 3, "lower": 5, "upper": 4}, ["'x'", "'upper'", "lower"]),
        ({"id": "x", "prompt": 1, "output": 3, "lower": 0, "upper": 4}, ["'x'", "'lower'", ">= 1"]),
        ({"id": "x", "prompt": 1, "output": 3, "arrival": -2}, ["'x'", "'arrival'", ">= 0"]),
        ({"id": "x", "prompt": 20, "output": 31}, ["'x'", "'output'", "M = 50"]),
        ({"id": "x", "prompt": 1, "output": 3, "ouput": 3}, ["'x'", "unknown field 'ouput'"]),
        ({"id": "x", "prompt": 1, "output": 3, "predicted": 0}, ["'x'", "'predicted'"]),
    ],
)
def test_validation_names_job_and_field(job: dict, must_contain: list[str]) -> None:
    msg = _job_error([{"id": "ok", "prompt": 1, "output": 2}, job])
    for part in must_contain:
        assert part in msg, msg
    assert "index 1" in msg


def test_peak_exactly_M_is_valid() -> None:
    inst = instance_from_dict({"M": 50, "jobs": [{"prompt": 20, "output": 30}]})
    assert int(inst.peak[0]) == 50


def test_duplicate_ids() -> None:
    msg = _job_error([{"id": "a", "prompt": 1, "output": 2}, {"id": "a", "prompt": 1, "output": 3}])
    assert "'a'" in msg and "index 1" in msg and "duplicate" in msg


@pytest.mark.parametrize(
    ("data", "part"),
    [
        ([], "top level"),
        ({"jobs": []}, "'M' is missing"),
        ({"M": 0, "jobs": []}, "'M'"),
        ({"M": 5.0, "jobs": []}, "'M'"),
        ({"M": 5}, "'jobs'"),
        ({"M": 5, "jobs": {}}, "'jobs'"),
        ({"M": 5, "jobs": [], "extra": 1}, "unknown top-level field 'extra'"),
        ({"M": 5, "jobs": [3]}, "index 0"),
        ({"M": 5, "jobs": [], "meta": []}, "'meta'"),
    ],
)
def test_top_level_errors(data, part: str) -> None:
    with pytest.raises(InstanceError) as exc:
        instance_from_dict(data)
    assert part in str(exc.value)


def test_load_errors_name_the_file(tmp_path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(InstanceError, match=r"bad\.json: not valid JSON"):
        load_instance(bad)
    with pytest.raises(InstanceError, match="cannot read"):
        load_instance(tmp_path / "missing.json")
    bad.write_text(json.dumps({"M": 5, "jobs": [{"id": "q", "prompt": 1, "output": 9}]}))
    with pytest.raises(InstanceError, match=r"bad.json: job 'q' \(index 0\): field 'output'"):
        load_instance(bad)


def test_from_arrays_and_subset() -> None:
    inst = Instance.from_arrays(M=20, prompt=[1, 2, 3], output=[4, 5, 6], arrival=[0, 1, 2])
    sub = inst.subset([2, 0])
    assert sub.ids == ("2", "0")
    assert sub.output.tolist() == [6, 4] and sub.arrival.tolist() == [2, 0]
    assert inst.lower.tolist() == inst.output.tolist()
    with pytest.raises(InstanceError, match=r"'prompt' has 2 entries"):
        Instance.from_arrays(M=20, prompt=[1, 2], output=[4, 5, 6])


def test_columns_are_read_only() -> None:
    inst = Instance.from_arrays(M=20, prompt=[1], output=[4])
    with pytest.raises(ValueError):
        inst.output[0] = 100
    assert isinstance(inst.output, np.ndarray)


def test_the_column_path_reads_files_as_the_job_by_job_path_does(monkeypatch) -> None:
    import json as _json
    from pathlib import Path as _Path

    import lpsched.instance as inst_mod

    files = sorted((_Path(__file__).resolve().parents[1] / "instances").rglob("*.json"))
    assert files
    extra = {"M": 50, "jobs": [{"id": 7, "prompt": 3, "output": 4, "predicted": 5, "arrival_time": 0.5,
                                "arrival": 2, "lower": 1, "upper": 9},
                               {"prompt": 1, "output": 2, "predicted": 1, "arrival_time": 1}]}
    datas = [_json.loads(f.read_text()) for f in files] + [extra]
    fast = [inst_mod.instance_from_dict(d) for d in datas]
    assert inst_mod._instance_from_columns(50, extra["jobs"], None, {}) is not None
    monkeypatch.setattr(inst_mod, "_instance_from_columns", lambda *a: None)
    slow = [inst_mod.instance_from_dict(d) for d in datas]
    for a, b in zip(fast, slow, strict=True):
        assert a.content_hash() == b.content_hash() and a.ids == b.ids and a.meta == b.meta
        assert (a.predicted is None) == (b.predicted is None) and (a.arrival_time is None) == (b.arrival_time is None)
