"""Summarize a py-spy raw (collapsed) profile: ``python -m bench.profile FILE [N]``.

Prints the functions with the most inclusive and self samples (line numbers dropped), so
"what costs" can be read without a flame graph viewer.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

_LINE = re.compile(r":\d+\)$")


def _frame(raw: str) -> str:
    name = _LINE.sub(")", raw.strip())
    return name.replace(str(Path.cwd()) + "/", "").replace(
        "/.venv/lib/python3.11/site-packages/", ""
    )


def summarize(path: Path, top: int = 25) -> str:
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    idle = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_frame(f) for f in stack.split(";")]
        total += count
        if not frames:
            continue
        if frames[-1].startswith(("run_forever", "_run_once")) or "select" in frames[-1]:
            idle += count
        for name in set(frames):
            inclusive[name] += count
        own[frames[-1]] += count
    out = [f"{path.name}: {total} samples ({idle} in the idle event loop)", "", "inclusive:"]
    out += [f"  {n / total:6.1%}  {name}" for name, n in inclusive.most_common(top)]
    out += ["", "self:"]
    out += [f"  {n / total:6.1%}  {name}" for name, n in own.most_common(top)]
    return "\n".join(out)


if __name__ == "__main__":
    print(summarize(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 25))
