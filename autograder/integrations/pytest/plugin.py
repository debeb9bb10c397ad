"""pytest plugin (registered as `labkit_grading` in pyproject.toml's pytest11 entry points).

    pytest --pyargs autograder.integrations.pytest --notebook path/to/student.ipynb
        [--activity 2 --activity 5]    only the tests of these activities
        [--grading-plan plan.json]     the graded cells, when the source notebook is not at hand
        [--grading-cache cache.json]   reuse the run of this very notebook across several commands
        [--grading-json results.json]  every test's points and message, for other graders
        [--course-config course_config.py]

Nothing happens unless a test asks for the fixtures below; other test suites are unaffected."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

POINTS_MARKER = "points"
_RESULTS = pytest.StashKey[dict]()
_GRADED = pytest.StashKey[object]()


def pytest_addoption(parser) -> None:
    group = parser.getgroup("labkit", "grade one notebook of the lab (autograder.integrations.pytest)")
    group.addoption("--notebook", default=None, help="the submitted notebook to grade (runs in its folder)")
    group.addoption("--activity", action="append", default=[],
                    help="only the tests of this activity (repeat, or give a comma list)")
    group.addoption("--grading-plan", default=None,
                    help="plan JSON of the graded cells (default: read the source notebook)")
    group.addoption("--grading-cache", default=None,
                    help="JSON file that keeps the run of this notebook for later commands")
    group.addoption("--grading-json", default=None, help="write every test's points and message here")
    group.addoption("--course-config", default=None,
                    help="course_config.py to use (default: $LABKIT_CONFIG or the kit's)")


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", f"{POINTS_MARKER}(activity, points, hidden=False, grade_id=''): "
                                       "what a grading test is worth and which activity it belongs to")
    config.stash[_RESULTS] = {}


def selected_activities(config) -> set[int]:
    chosen = set()
    for value in config.getoption("activity") or []:
        for part in str(value).split(","):
            if part.strip():
                try:
                    chosen.add(int(part))
                except ValueError:
                    raise pytest.UsageError(f"--activity must be a number from 1 to 13, got {part!r}") from None
    return chosen


def load_settings(config):
    from autograder.course import config as course

    try:
        return course.load(config.getoption("course_config"))
    except course.ConfigError as error:
        raise pytest.UsageError(f"course configuration: {error}") from None


def load_plan(config, settings=None):
    from autograder.course import plan

    path = config.getoption("grading_plan")
    try:
        return plan.Plan.read(path) if path else plan.from_settings(settings or load_settings(config))
    except plan.PlanError as error:
        raise pytest.UsageError(str(error)) from None


def pytest_generate_tests(metafunc) -> None:
    """One test per graded cell of the plan, carrying the cell's points."""
    if "graded_property" not in metafunc.fixturenames:
        return
    if not metafunc.config.getoption("notebook"):
        raise pytest.UsageError("pass the notebook to grade: --notebook path/to/notebook.ipynb")
    plan = load_plan(metafunc.config)
    params = [pytest.param(prop, id=prop.grade_id,
                           marks=[getattr(pytest.mark, POINTS_MARKER)(
                               activity=prop.activity, points=prop.points, hidden=prop.hidden,
                               grade_id=prop.grade_id)])
              for prop in plan.properties]
    metafunc.parametrize("graded_property", params)


def pytest_collection_modifyitems(config, items) -> None:
    """--activity N keeps only the grading tests of those activities."""
    chosen = selected_activities(config)
    if not chosen:
        return
    keep, drop = [], []
    for item in items:
        marker = item.get_closest_marker(POINTS_MARKER)
        (keep if marker is None or marker.kwargs["activity"] in chosen else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture(scope="session")
def grading_settings(pytestconfig):
    """The course settings the grading runs under."""
    return load_settings(pytestconfig)


@pytest.fixture(scope="session")
def grading_plan(pytestconfig, grading_settings):
    return load_plan(pytestconfig, grading_settings)


@pytest.fixture(scope="session")
def graded_submission(pytestconfig, grading_settings, grading_plan):
    """The notebook, run once (or read from --grading-cache) with every grade cell's outcome."""
    from autograder.integrations.pytest.run import cached_grade

    notebook = Path(pytestconfig.getoption("notebook")).expanduser()
    graded = cached_grade(notebook, grading_plan, grading_settings, pytestconfig.getoption("grading_cache"))
    pytestconfig.stash[_GRADED] = graded
    return graded


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each grading test's outcome (its call, or a setup that failed) for --grading-json."""
    report = yield
    marker = item.get_closest_marker(POINTS_MARKER)
    if marker is None or not (report.when == "call" or (report.when == "setup" and not report.passed)):
        return report
    prop = item.callspec.params.get("graded_property") if hasattr(item, "callspec") else None
    passed = report.passed and report.when == "call"
    item.config.stash[_RESULTS][item.nodeid] = {
        "name": prop.title if prop else item.name, "test": item.name,
        "grade_id": marker.kwargs.get("grade_id", ""), "activity": marker.kwargs["activity"],
        "hidden": bool(marker.kwargs.get("hidden")), "passed": passed,
        "points": float(marker.kwargs["points"]) if passed else 0.0,
        "max_points": float(marker.kwargs["points"]),
        "output": getattr(item, "grading_output", "") if passed else failure_text(report),
    }
    return report


def failure_text(report) -> str:
    """The failure message without pytest's decoration (a check's message is shown verbatim)."""
    if report.skipped and isinstance(report.longrepr, tuple):
        return f"not graded: {report.longrepr[2]}"
    text = str(report.longrepr).strip()
    return text[len("Failed: "):] if text.startswith("Failed: ") else text


def pytest_sessionfinish(session) -> None:
    """Write --grading-json: the tests in plan order with points, outputs and the run's facts."""
    path = session.config.getoption("grading_json", None)
    if not path:
        return
    tests = list(session.config.stash[_RESULTS].values())
    graded = session.config.stash.get(_GRADED, None)
    data = {
        "notebook": session.config.getoption("notebook"),
        "tests": tests,
        "score": round(sum(t["points"] for t in tests), 4),
        "max_score": round(sum(t["max_points"] for t in tests), 4),
        "execution": graded.execution if graded else {},
        "problem": graded.problem if graded else "",
        "seconds": graded.seconds if graded else 0.0,
    }
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(data, indent=1) + "\n")
