"""A start imports what serving needs and nothing more: the voice-conference media stack
(aiortc, PyAV, numpy), httpx and boto3 cost seconds of every start and are imported when a
node first needs them (a call's mixer, a DING gateway, media on S3)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

# Imported on first need only (see knock.main's conference_media, ding/delivery.py and
# media/store.py); each costs from 0.1 s to over a second of a start.
LATE = ("aiortc", "av", "numpy", "httpx", "boto3", "botocore", "PIL")


@pytest.mark.slow
def test_building_the_app_imports_no_media_stack(tmp_path: Path) -> None:
    # A fresh interpreter: the test process has imported everything already.
    script = textwrap.dedent(
        f"""
        import sys
        from knock.config import load_settings
        from knock.main import create_app

        create_app(load_settings(environ={{}}, data_dir={str(tmp_path)!r}))
        print(",".join(sorted(m for m in {LATE!r} if m in sys.modules)))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.strip() == ""
