"""Copy the dashboard's front-end files from npm packages into the Python package.

Run by hand when a pinned version in ``package.json`` changes::

    python scripts/vendor_web.py

It installs exactly what ``package-lock.json`` records (``npm ci``) in a temporary folder, so no
``node_modules`` appears in the repository, and copies the few files the page loads into
``src/eventwire/web/static/vendor/``. The copies are committed: serving needs no build step and
no network.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENDOR = ROOT / "src" / "eventwire" / "web" / "static" / "vendor"

#: (package, file inside the package, name under static/vendor/). Data, not logic.
FILES: tuple[tuple[str, str, str], ...] = (
    ("leaflet", "dist/leaflet.js", "leaflet/leaflet.js"),
    ("leaflet", "dist/leaflet.css", "leaflet/leaflet.css"),
    ("leaflet", "dist/images/layers.png", "leaflet/images/layers.png"),
    ("leaflet", "dist/images/layers-2x.png", "leaflet/images/layers-2x.png"),
    ("leaflet", "dist/images/marker-icon.png", "leaflet/images/marker-icon.png"),
    ("leaflet", "dist/images/marker-icon-2x.png", "leaflet/images/marker-icon-2x.png"),
    ("leaflet", "dist/images/marker-shadow.png", "leaflet/images/marker-shadow.png"),
    ("leaflet", "LICENSE", "leaflet/LICENSE"),
    ("leaflet.markercluster", "dist/leaflet.markercluster.js",
     "markercluster/leaflet.markercluster.js"),
    ("leaflet.markercluster", "dist/MarkerCluster.css", "markercluster/MarkerCluster.css"),
    ("leaflet.markercluster", "dist/MarkerCluster.Default.css",
     "markercluster/MarkerCluster.Default.css"),
    ("leaflet.markercluster", "MIT-LICENCE.txt", "markercluster/LICENSE"),
    ("topojson-client", "dist/topojson-client.min.js", "topojson/topojson-client.min.js"),
    ("topojson-client", "LICENSE", "topojson/LICENSE"),
    ("world-atlas", "countries-110m.json", "world-atlas/countries-110m.json"),
    ("world-atlas", "LICENSE", "world-atlas/LICENSE"),
)  # fmt: skip


def vendor(dest: Path = VENDOR) -> dict[str, str]:
    """Install the locked packages in a temporary folder and copy :data:`FILES` to ``dest``.

    Returns:
        Package name to installed version, as written to ``dest/VERSIONS.json``.
    """
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit("npm not found: install Node.js and npm (apt-get install -y npm)")
    with tempfile.TemporaryDirectory(prefix="eventwire-vendor-") as tmp:
        work = Path(tmp)
        shutil.copy(ROOT / "package.json", work / "package.json")
        shutil.copy(ROOT / "package-lock.json", work / "package-lock.json")
        subprocess.run(
            [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund"], cwd=work, check=True
        )
        modules = work / "node_modules"
        if dest.exists():
            shutil.rmtree(dest)
        versions: dict[str, str] = {}
        for package, inner, target in FILES:
            out = dest / target
            out.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(modules / package / inner, out)
            meta = json.loads((modules / package / "package.json").read_text(encoding="utf-8"))
            versions[package] = meta["version"]
    (dest / "VERSIONS.json").write_text(json.dumps(versions, indent=2) + "\n", encoding="utf-8")
    return versions


def main() -> int:
    """Vendor the files and print what was copied."""
    versions = vendor()
    for package, version in sorted(versions.items()):
        print(f"{package} {version}")
    print(f"-> {VENDOR.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
