"""The production recipe in deploy/ runs and serves over TLS: deploy/smoke starts the systemd units'
command lines and the nginx site on this machine and checks sign-in, a webhook processed into an
open event stream, and /metrics with its token (deploy/smoke.py). The recipe is for PostgreSQL, so
this runs in the PostgreSQL pass of the suite (TEST_DATABASE_URL), on a fresh database of that
server; two to three minutes on the shared CI machine. Needs nginx (deploy/smoke installs it when
root)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import _server_database_url

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.deploy


def test_the_deploy_recipe_serves_over_tls():
    server = _server_database_url()
    if server is None:
        pytest.skip("the production recipe runs on PostgreSQL: set TEST_DATABASE_URL")
    if not (shutil.which("nginx") or Path("/usr/sbin/nginx").exists()) and os.geteuid() != 0:
        pytest.fail("nginx is missing and only root may install it: install nginx-light (.ci/run does)")
    args = ["deploy/smoke", "--database-url", server.replace("postgres://", "postgresql://", 1)]
    done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-3000:]
    assert "smoke: PASS" in done.stdout
