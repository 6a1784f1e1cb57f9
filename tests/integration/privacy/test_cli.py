"""``concierge privacy export|erase`` as an operator runs them (a real subprocess)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from core.config import PROJECT_ROOT, Settings
from core.storage.migrate import upgrade
from tests.integration.privacy.conftest import (
    EMAIL,
    World,
    find_needles,
    seed_everywhere,
    sqlite_url,
)


def test_export_to_a_file_then_erase_with_yes(tmp_path: Path) -> None:
    data = tmp_path / "data"
    settings = Settings(_env_file=None, data_dir=data)  # type: ignore[call-arg]
    upgrade(settings.sqlalchemy_url)
    world = World(
        settings, settings.sqlalchemy_url, data / "rasa-tracker.db", data / "rasa-events.db"
    )
    seed_everywhere(world)
    env = {"CONCIERGE_DATA_DIR": str(data), "PATH": "/usr/bin:/bin"}

    def concierge(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bot.cli", "privacy", *args],
            cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
            stdin=subprocess.DEVNULL,
        )  # fmt: skip

    out = tmp_path / "export.json"
    exported = concierge("export", EMAIL, "--out", str(out))
    assert exported.returncode == 0, exported.stderr
    assert EMAIL not in exported.stdout  # the terminal shows no personal data
    document = json.loads(out.read_text())
    assert document["found"] and document["leads"]
    assert out.stat().st_mode & 0o077 == 0

    unconfirmed = concierge("erase", EMAIL)
    assert unconfirmed.returncode == 1 and "--yes" in unconfirmed.stderr
    assert find_needles(world.app_url)

    erased = concierge("erase", EMAIL, "--yes")
    assert erased.returncode == 0, erased.stderr
    assert "erased (done)" in erased.stdout
    for url in (world.app_url, sqlite_url(world.tracker_path), sqlite_url(world.broker_path)):
        assert find_needles(url) == [], url

    refused = concierge("export", "not-an-email")
    assert (
        refused.returncode == 1 and "email" in refused.stderr and "Traceback" not in refused.stderr
    )
