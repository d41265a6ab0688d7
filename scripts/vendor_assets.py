#!/usr/bin/env python3
"""Fetch the JavaScript/CSS that geo_dx maps inline, from the npm registry, into geo_dx/maps/static/.

The HTML maps geo_dx writes must open with no internet, so Leaflet and the one plugin we use
are committed under ``geo_dx/maps/static/`` (with their licences) and inlined into every map.
This script is how they got there; re-run it to refresh or to bump a version::

    python scripts/vendor_assets.py            # fetch with `npm pack`, copy, write SOURCES.txt
    python scripts/vendor_assets.py --check    # only verify the committed files against SOURCES.txt

It needs ``npm`` on PATH and access to the npm registry. It only copies the files listed in
``PACKAGES`` and records each file's SHA-256 in ``geo_dx/maps/static/SOURCES.txt``.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ASSETS = Path(__file__).resolve().parent.parent / "geo_dx" / "maps" / "static"

#: npm package spec -> {path inside the package tarball: path under geo_dx/maps/static/}
PACKAGES: dict[str, dict[str, str]] = {
    "leaflet@1.9.4": {
        "package/dist/leaflet.js": "leaflet/leaflet.js",
        "package/dist/leaflet.css": "leaflet/leaflet.css",
        "package/dist/images/layers.png": "leaflet/images/layers.png",
        "package/dist/images/layers-2x.png": "leaflet/images/layers-2x.png",
        "package/dist/images/marker-icon.png": "leaflet/images/marker-icon.png",
        "package/dist/images/marker-icon-2x.png": "leaflet/images/marker-icon-2x.png",
        "package/dist/images/marker-shadow.png": "leaflet/images/marker-shadow.png",
        "package/LICENSE": "leaflet/LICENSE",
    },
    "leaflet.fullscreen@3.0.2": {
        "package/Control.FullScreen.js": "leaflet.fullscreen/Control.FullScreen.js",
        "package/Control.FullScreen.css": "leaflet.fullscreen/Control.FullScreen.css",
        "package/icon-fullscreen.svg": "leaflet.fullscreen/icon-fullscreen.svg",
        "package/LICENSE": "leaflet.fullscreen/LICENSE",
    },
}

SOURCES = ASSETS / "SOURCES.txt"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fetch() -> None:
    """Run ``npm pack`` for each package and copy the listed files into geo_dx/maps/static/."""
    if shutil.which("npm") is None:
        sys.exit("npm not found on PATH; install Node.js/npm (Debian: apt-get install npm)")
    lines = [
        "# Files vendored by scripts/vendor_assets.py from the npm registry (npm pack).",
        "# package-spec  asset-path  sha256",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        for spec, files in PACKAGES.items():
            out = subprocess.run(
                ["npm", "pack", spec, "--silent"],
                cwd=tmp,
                check=True,
                capture_output=True,
                text=True,
            ).stdout.strip().splitlines()[-1]
            with tarfile.open(Path(tmp) / out) as tar:
                for member, target in files.items():
                    data = tar.extractfile(member)
                    if data is None:
                        sys.exit(f"{spec}: {member} is not a regular file in the tarball")
                    dest = ASSETS / target
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    dest.write_bytes(data.read())
                    lines.append(f"{spec}  {target}  {_sha256(dest)}")
                    print(f"{spec}: {member} -> geo_dx/maps/static/{target}")
    SOURCES.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {SOURCES}")


def check() -> int:
    """Verify the committed assets against SOURCES.txt; return a process exit code."""
    bad = 0
    for line in SOURCES.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        spec, target, digest = line.split()
        path = ASSETS / target
        if not path.exists() or _sha256(path) != digest:
            print(f"MISMATCH {spec} {target}")
            bad += 1
    print("assets OK" if not bad else f"{bad} asset(s) differ from SOURCES.txt")
    return 1 if bad else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="verify only, fetch nothing")
    args = parser.parse_args()
    if args.check:
        return check()
    fetch()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
