"""What importing ivrhooks costs: ``import ivrhooks``, declaring an app, and the core alone.

    python bench/import_time.py                    # this checkout
    python bench/import_time.py --baseline DIR     # and another checkout, alternating

Each figure is a fresh interpreter (``python -c``) timing its own import with
``time.perf_counter``, so the interpreter's own start-up is not counted; runs alternate between
the checkouts so the machine's noise falls on both alike; medians are printed, with the modules
loaded and which heavy libraries came along.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("starlette", "httpx", "uvicorn", "click", "passlib", "bcrypt", "pydantic", "redis")
STATEMENTS = {
    "import ivrhooks": "import ivrhooks",
    "declare an app": "from ivrhooks import IVRHooks, call\napp = IVRHooks(['8000'], env=False)",
    "the masks": "from ivrhooks.core.masks import parse_mask",
}
#: Before the core moved to ivrhooks.core, the masks lived at ivrhooks.masks.
OLD_MASKS = "from ivrhooks.masks import parse_mask"


def measure(checkout: Path, statement: str) -> dict[str, object]:
    script = (
        "import json, sys, time\n"
        "t = time.perf_counter()\n"
        f"{statement}\n"
        "took = time.perf_counter() - t\n"
        "print(json.dumps({'ms': took * 1000,"
        " 'modules': sum(m.startswith('ivrhooks') for m in sys.modules),"
        f" 'heavy': [m for m in {HEAVY!r} if m in sys.modules]}}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=checkout,
        env={"PYTHONPATH": str(checkout), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    figures: dict[str, object] = json.loads(done.stdout)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--baseline", type=Path, help="another checkout, measured alternately")
    args = parser.parse_args()
    checkouts = {"now": ROOT}
    if args.baseline is not None:
        checkouts["before"] = args.baseline.resolve()
    for label, statement in STATEMENTS.items():
        times: dict[str, list[float]] = {name: [] for name in checkouts}
        last: dict[str, dict[str, object]] = {}
        for _ in range(args.runs):
            for name, checkout in checkouts.items():
                spelled = statement
                if label == "the masks" and not (checkout / "ivrhooks" / "core").exists():
                    spelled = OLD_MASKS
                last[name] = measure(checkout, spelled)
                times[name].append(float(last[name]["ms"]))  # type: ignore[arg-type]
        print(f"{label}:")
        for name in checkouts:
            figures = last[name]
            median = statistics.median(times[name])
            print(
                f"  {name:6} median {median:7.1f} ms (min {min(times[name]):.1f}), "
                f"{figures['modules']} ivrhooks modules, heavy: {figures['heavy'] or 'none'}"
            )
        if "before" in times:
            ratio = statistics.median(times["now"]) / statistics.median(times["before"])
            print(f"  now / before: {ratio:.2f}")


if __name__ == "__main__":
    main()
