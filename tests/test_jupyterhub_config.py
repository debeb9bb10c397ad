"""The sample `jupyterhub_config.py` part in docs/jupyterhub.md initialises a real JupyterHub: its
groups, roles (with scopes JupyterHub validates) and the course service are created as described."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import jupyterhub  # noqa: F401  (in the test extras: the probe below runs it)

REPO = Path(__file__).resolve().parent.parent
DOC = REPO / "docs" / "jupyterhub.md"

# Initialise the hub (database, roles, users, groups, services) without starting the proxy or
# any server, then print what it created.
PROBE = """
import asyncio, json
from jupyterhub.app import JupyterHub
from jupyterhub import orm

async def main():
    app = JupyterHub()
    await app.initialize(["-f", "jupyterhub_config.py", "--JupyterHub.db_url=sqlite:///hub.sqlite"])
    db = app.db
    print(json.dumps({
        "groups": {g.name: sorted(u.name for u in g.users) for g in db.query(orm.Group)},
        "roles": {r.name: {"scopes": sorted(r.scopes), "groups": sorted(g.name for g in r.groups),
                           "services": sorted(s.name for s in r.services)}
                  for r in db.query(orm.Role)},
        "commands": {name: list(s.command) for name, s in app._service_map.items()},
        "services": sorted(s.name for s in db.query(orm.Service)),
        "admins": sorted(u.name for u in db.query(orm.User) if u.admin),
    }))

asyncio.run(main())
"""


def sample_config() -> str:
    text = DOC.read_text()
    section = text[text.index("## Sample `jupyterhub_config.py`"):]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def initialise(config_text: str, folder: Path) -> subprocess.CompletedProcess:
    (folder / "jupyterhub_config.py").write_text(config_text)
    return subprocess.run([sys.executable, "-c", PROBE], cwd=folder, capture_output=True, text=True, timeout=180)


def test_sample_hub_config_creates_the_course_groups_roles_and_service(settings, tmp_path):
    text = sample_config()
    assert f'course = "{settings.course_id}"' in text  # the service name must be the course id
    run = initialise(text, tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    hub = json.loads(run.stdout.strip().splitlines()[-1])
    course = settings.course_id
    assert hub["services"] == [course]
    assert hub["groups"][f"formgrade-{course}"] == sorted([f"grader-{course}", "instructor1", "instructor2"])
    assert hub["groups"][f"nbgrader-{course}"] == ["student1", "student2"]
    assert hub["roles"][f"formgrade-{course}"] == {"scopes": [f"access:services!service={course}"],
                                                   "groups": [f"formgrade-{course}"], "services": []}
    # the course service's nbgrader reads the grader's courses and keeps the students' group
    service_role = hub["roles"][f"course-service-{course}"]
    assert service_role["services"] == [course]
    assert f"read:users:groups!user=grader-{course}" in service_role["scopes"]
    assert f"groups!group=nbgrader-{course}" in service_role["scopes"]
    # nbgrader #1870: the course service lets JupyterLab frame formgrader (same origin only)
    assert any("frame-ancestors 'self'" in part for part in hub["commands"][course])
    assert "read:users:groups!user" in hub["roles"]["server"]["scopes"]
    assert hub["admins"] == ["instructor1", "instructor2"]


def test_a_wrong_scope_in_the_sample_is_refused_by_the_hub(tmp_path):
    broken = sample_config().replace("read:users:groups!user", "read:user:group!user")
    run = initialise(broken, tmp_path)
    assert run.returncode != 0 and "read:user:group" in run.stderr
