"""The committed release is what `labkit release` makes today, and it gives nothing away."""
from __future__ import annotations

import re

import assignment_helpers as helpers
import pytest

from autograder.authoring import release
from autograder.course import config
from autograder.course import vocabulary as authoring
from autograder.preprocessors import hinted_stubs

SETTINGS = helpers.SETTINGS


def comparable(notebook) -> dict:
    """What must match between two releases: cells' type, source and metadata, and the notebook's
    metadata (not execution counts, outputs or nbformat's minor version)."""
    return {
        "metadata": dict(notebook.metadata),
        "cells": [(c.cell_type, c.source, dict(c.metadata)) for c in notebook.cells],
    }


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory, monkeypatch_module, prepared):
    """`labkit release` in a throw-away copy of the course; returns (course settings, notebook)."""
    course = helpers.copy_course(tmp_path_factory.mktemp("release-course"))
    monkeypatch_module.setenv("LABKIT_CACHE", str(SETTINGS.cache_dir))
    settings = config.load(course / "course_config.py")
    notebook_path = release.release(settings, say=lambda message: None)
    return settings, helpers.read(notebook_path)


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def test_committed_release_is_current(regenerated):
    _, notebook = regenerated
    committed = helpers.read(helpers.RELEASE_NOTEBOOK)
    assert comparable(notebook) == comparable(committed), (
        "release/ is out of date: run `labkit release` and commit release/")


def test_release_holds_no_solution_hidden_test_or_rubric():
    text = helpers.RELEASE_NOTEBOOK.read_text()
    for marker in release.LEAK_MARKERS:
        assert marker not in text
    source = helpers.read(helpers.SOURCE_NOTEBOOK)
    released = helpers.read(helpers.RELEASE_NOTEBOOK)
    for grade_id, answer in helpers.solution_sources(source).items():
        stub = helpers.cell(released, grade_id).source
        if "\n" in answer:  # one-line answers (model.summary()) may be spelled out by their hint
            assert answer not in stub
    for candidate in released.cells:
        if authoring.is_test_cell(candidate) and authoring.grade_id(candidate).endswith("_hidden"):
            code = [line for line in candidate.source.splitlines() if not line.startswith("#")]
            assert code == [], f"hidden test {authoring.grade_id(candidate)} shows code: {code}"


def test_every_stub_raises_not_implemented_with_a_hint():
    released = helpers.read(helpers.RELEASE_NOTEBOOK)
    stubs = [c for c in released.cells if c.cell_type == "code" and authoring.nbgrader_meta(c).get("solution")]
    assert len(stubs) >= 13
    for stub in stubs:
        activity = authoring.activity_of(stub)
        match = re.search(r"raise NotImplementedError\('Activity (\d+): (.{10,})'\)", stub.source)
        assert match, stub.source
        assert int(match.group(1)) == activity


def test_regenerated_release_folder_has_only_the_student_files(regenerated):
    settings, _ = regenerated
    shipped = sorted(p.name for p in settings.release_dir.iterdir())
    assert shipped == sorted([settings.notebook_name, "lab_settings.json", settings.base_model_file,
                              settings.train_dir.split("/")[0]])
    hidden = {p.name for p in settings.hidden_test_dir.rglob("*.png")}
    released = {p.name for p in settings.release_dir.rglob("*.png")}
    assert hidden and not hidden & released
    assert not list(settings.release_dir.rglob("manifest.json"))
    assert not list(settings.release_dir.rglob("reference_base*"))


def test_hidden_split_and_grader_files_are_outside_the_source_folder():
    source = SETTINGS.source_dir.resolve()
    assert not SETTINGS.hidden_test_dir.resolve().is_relative_to(source)
    assert not SETTINGS.reference_base.resolve().is_relative_to(source)


def test_release_refuses_stray_files(tmp_path, monkeypatch, prepared):
    course = helpers.copy_course(tmp_path / "course")
    monkeypatch.setenv("LABKIT_CACHE", str(SETTINGS.cache_dir))
    settings = config.load(course / "course_config.py")
    (settings.source_dir / "answers_for_graders.txt").write_text("secret")
    with pytest.raises(release.ReleaseError, match="answers_for_graders.txt"):
        release.check_source(settings)
    (settings.source_dir / "answers_for_graders.txt").unlink()
    (settings.source_dir / "transfer_model.png").write_bytes(b"png")
    release.check_source(settings, clean=True, say=lambda message: None)
    assert not (settings.source_dir / "transfer_model.png").exists()


def test_hint_moves_from_comment_into_the_stub():
    source = '# Hint: write x = 1\n### BEGIN SOLUTION\nx = 1\n### END SOLUTION\nprint(x)'
    cleaned, hint = hinted_stubs.split_hint(source)
    assert hint == "write x = 1" and not cleaned.startswith("# Hint")
    assert hinted_stubs.stub_for(hint, 3) == "# YOUR CODE HERE\nraise NotImplementedError('Activity 3: write x = 1')"
