"""Charts render in a fresh process whose HOME is unset or unwritable, and never open a socket.

Each case starts a new Python, because matplotlib reads MPLCONFIGDIR once, on first import.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Any socket opened while importing matplotlib or rendering fails the run loudly.
RENDER = """
import socket, warnings
warnings.simplefilter("error")
def _refuse(*args, **kwargs):
    raise AssertionError("a chart opened a socket")
socket.socket.connect = _refuse
socket.socket.connect_ex = _refuse
socket.getaddrinfo = _refuse
{setup}
from datetime import date
from rapport.reports.charts import Point, Series, series_chart
svg = series_chart(title="PHQ-9 total", description="", series=[Series("Sam", [Point(date(2026, 3, 3), 12)])],
                   y_min=0, y_max=27, higher_is_better=False)
assert svg.startswith("<svg"), svg[:80]
print("rendered")
"""


def _render(env: dict[str, str], *, setup: str = "") -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("RAPPORT_", "DATABASE_URL", "MPLCONFIGDIR", "HOME", "XDG_"))}
    base.update(env)
    return subprocess.run(  # noqa: S603
        [sys.executable, "-c", RENDER.format(setup=setup)], cwd=ROOT, env=base, capture_output=True, text=True, timeout=120, check=False
    )


def test_it_renders_with_mplconfigdir_in_a_temp_dir_and_home_unwritable(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir(mode=0o500)
    config = tmp_path / "mpl"

    result = _render({"HOME": str(home), "MPLCONFIGDIR": str(config)})

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "rendered"
    assert list(config.glob("fontlist-*.json")), "the font cache belongs in MPLCONFIGDIR"
    assert list(home.iterdir()) == []


def test_under_django_the_font_cache_goes_to_the_var_dir_when_home_is_unset(tmp_path: Path) -> None:
    result = _render(
        {"DJANGO_SETTINGS_MODULE": "config.settings", "RAPPORT_ENV": "test", "RAPPORT_VAR_DIR": str(tmp_path)},
        setup="import django; django.setup()",
    )

    # warnings are errors in the child: matplotlib's "created a temporary cache directory" would fail it.
    assert result.returncode == 0, result.stderr
    assert list((tmp_path / "matplotlib").glob("fontlist-*.json"))


def test_an_operators_own_mplconfigdir_wins_over_the_var_dir(tmp_path: Path) -> None:
    own = tmp_path / "own"
    result = _render(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "RAPPORT_ENV": "test",
            "RAPPORT_VAR_DIR": str(tmp_path / "var"),
            "MPLCONFIGDIR": str(own),
        },
        setup="import django; django.setup()",
    )

    assert result.returncode == 0, result.stderr
    assert list(own.glob("fontlist-*.json"))
    assert not (tmp_path / "var" / "matplotlib").exists()
