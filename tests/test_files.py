"""course/files.py: the kit's one atomic write leaves either the old file or the new one, never half."""
from __future__ import annotations

import pytest

from autograder.course.files import atomic_path, copy_atomic, write_json_atomic, write_text_atomic


def test_a_failed_write_leaves_the_old_file_and_no_partial(tmp_path):
    target = write_text_atomic(tmp_path / "grades.csv", "old\n")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as partial:
            partial.write_text("half")
            raise RuntimeError("killed mid-write")
    assert target.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["grades.csv"]


def test_a_partial_is_hidden_from_globs_and_nbgrader(tmp_path):
    with atomic_path(tmp_path / "state" / "alice.json") as partial:
        partial.write_text("{}")
        assert partial.name.startswith(".alice.json.partial-")
        assert list((tmp_path / "state").glob("*.json")) == []
    assert [p.name for p in (tmp_path / "state").glob("*.json")] == ["alice.json"]


def test_keep_suffix_for_writers_that_choose_the_format_by_it(tmp_path):
    with atomic_path(tmp_path / "base.keras", keep_suffix=True) as partial:
        assert partial.suffix == ".keras" and partial.name.startswith(".base.partial-")
        partial.write_bytes(b"weights")
    assert (tmp_path / "base.keras").read_bytes() == b"weights"


def test_json_and_copy(tmp_path):
    source = write_json_atomic(tmp_path / "a.json", {"x": 1}, indent=1)
    assert source.read_text() == '{\n "x": 1\n}'
    assert copy_atomic(source, tmp_path / "b" / "a.json").read_text() == source.read_text()
