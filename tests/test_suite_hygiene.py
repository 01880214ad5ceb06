"""The test suite cleans up after itself: it never writes into the checkout's instance/ folder
(the developer's database and secret key) and leaves nothing in the temporary folder."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    if not folder.exists():
        return {}
    return {str(p.relative_to(folder)): (p.stat().st_mtime_ns, p.stat().st_size) for p in folder.rglob("*")}


def test_a_test_run_leaves_no_temporary_folders_and_does_not_touch_instance(tmp_path):
    temp = tmp_path / "tmp"
    temp.mkdir()
    instance = ROOT / "instance"
    existed, before = instance.exists(), _snapshot(instance)
    env = {k: v for k, v in os.environ.items() if k not in {"ATENDE_INSTANCE_PATH", "TEST_REDIS_URL"}}
    env["TMPDIR"] = str(temp)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--basetemp={tmp_path / 'basetemp'}",
         "tests/test_cli.py::test_init_creates_one_demo_admin_once", "tests/test_config.py"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert sorted(p.name for p in temp.iterdir()) == []
    assert instance.exists() == existed
    assert _snapshot(instance) == before
