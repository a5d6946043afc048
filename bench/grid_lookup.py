"""Point-to-grid lookups per second: Gezhi's in-process index beside PostGIS ST_Contains.

    .venv/bin/python bench/grid_lookup.py [--grids 20000] [--points 100000] [--database-url URL]

Builds a synthetic city near 滕州 (a square cut into communities, each cut into grids with
gezhi.regions.tiling.split_polygon), draws random points over it (a few fall outside every
grid), and times, on the same polygons and points in the same run:

- Gezhi single:   GridIndex.lookup(lon, lat) per point
- Gezhi batched:  GridIndex.lookup_many over chunks of --chunk points
- PostGIS single: one parameterised, prepared query per point over one connection
- PostGIS batched: one query per chunk, joining unnest() arrays of points to the grids

PostGIS runs in a throwaway cluster (bench/pgtemp.py) unless --database-url is given. Every
point must get the same grid from both, except points on a shared edge, where ST_Contains
(which excludes edges) finds none and Gezhi picks one; any other difference fails the run.
No Django database is needed: the index is built with build_index directly.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from gezhi.regions.geometry import geojson_geometry  # noqa: E402
from gezhi.regions.spatial import build_index  # noqa: E402
from gezhi.regions.tiling import rectangle, split_polygon  # noqa: E402

TENGZHOU = (117.16, 35.08)


def synthetic_city(grids: int, *, seed: int = 0, per_community: int = 100) -> list:
    """`grids` polygons tiling a square near 滕州 (about 0.08 km² a grid)."""
    communities = max(1, round(grids / per_community))
    side_m = (grids * 80_000) ** 0.5
    city = rectangle(*TENGZHOU, side_m, side_m)
    cells: list = []
    base, extra = divmod(grids, communities)
    for i, community in enumerate(split_polygon(city, communities, seed=seed, relax=1)):
        cells += split_polygon(community, base + (i < extra), seed=seed + i + 1, relax=1)
    return cells


def random_points(polys: list, n: int, *, seed: int = 0, on_edges: int = 0
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Uniform over the city's bounding box grown by 1% each side, so a few are outside,
    and `on_edges` of them replaced by grid corners, which lie on edges shared by grids."""
    minx, miny, maxx, maxy = shapely.total_bounds(polys)
    dx, dy = (maxx - minx) * 0.01, (maxy - miny) * 0.01
    rng = np.random.default_rng(seed)
    xs, ys = rng.uniform(minx - dx, maxx + dx, n), rng.uniform(miny - dy, maxy + dy, n)
    if on_edges:
        corners = shapely.get_coordinates(shapely.boundary(np.array(polys, dtype=object)))
        picked = corners[rng.choice(len(corners), on_edges, replace=False)]
        slots = rng.choice(n, on_edges, replace=False)
        xs[slots], ys[slots] = picked[:, 0], picked[:, 1]
    return xs, ys


def timed(fn, repeat: int = 1):
    """fn's result and its best time of `repeat` runs (the least disturbed by other load)."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return result, best


def gezhi_single(index, xs: list, ys: list) -> list:
    lookup = index.lookup
    return [lookup(x, y) for x, y in zip(xs, ys, strict=True)]


def gezhi_batched(index, xs: np.ndarray, ys: np.ndarray, chunk: int) -> list:
    out: list = []
    for start in range(0, len(xs), chunk):
        out += index.lookup_many(xs[start:start + chunk], ys[start:start + chunk])
    return out


def postgis_load(conn, polys: list, ids: list) -> None:
    conn.execute("DROP TABLE IF EXISTS bench_grid")
    conn.execute("CREATE TABLE bench_grid (id integer PRIMARY KEY,"
                 " geom geometry(MultiPolygon, 4326) NOT NULL)")
    multi = [p if p.geom_type == "MultiPolygon" else shapely.MultiPolygon([p]) for p in polys]
    wkb = shapely.to_wkb(shapely.set_srid(np.array(multi, dtype=object), 4326),
                         hex=True, include_srid=True)
    with conn.cursor() as cur, cur.copy("COPY bench_grid (id, geom) FROM STDIN") as copy:
        for region_id, hexwkb in zip(ids, wkb.tolist(), strict=True):
            copy.write_row((region_id, hexwkb))
    conn.execute("CREATE INDEX bench_grid_geom ON bench_grid USING gist (geom)")
    conn.execute("VACUUM ANALYZE bench_grid")


SINGLE_SQL = ("SELECT min(id) FROM bench_grid"
              " WHERE ST_Contains(geom, ST_SetSRID(ST_MakePoint(%s, %s), 4326))")
BATCH_SQL = ("SELECT p.i, min(g.id) FROM unnest(%s::int[], %s::float8[], %s::float8[])"
             " AS p(i, x, y) JOIN bench_grid g"
             " ON ST_Contains(g.geom, ST_SetSRID(ST_MakePoint(p.x, p.y), 4326)) GROUP BY p.i")


def postgis_single(conn, xs: list, ys: list) -> list:
    out = []
    with conn.cursor() as cur:
        for x, y in zip(xs, ys, strict=True):
            cur.execute(SINGLE_SQL, (x, y), prepare=True)
            out.append(cur.fetchone()[0])
    return out


def round_trip(conn, n: int = 2000) -> float:
    """Seconds per prepared `SELECT 1`: the floor under any one-query-per-point lookup."""
    with conn.cursor() as cur:
        start = time.perf_counter()
        for _ in range(n):
            cur.execute("SELECT 1", prepare=True)
            cur.fetchone()
        return (time.perf_counter() - start) / n


def postgis_batched(conn, xs: np.ndarray, ys: np.ndarray, chunk: int) -> list:
    out: list = [None] * len(xs)
    with conn.cursor() as cur:
        for start in range(0, len(xs), chunk):
            cx, cy = xs[start:start + chunk].tolist(), ys[start:start + chunk].tolist()
            cur.execute(BATCH_SQL, (list(range(len(cx))), cx, cy), prepare=True)
            for i, region_id in cur.fetchall():
                out[start + i] = region_id
    return out


def disagreements(gezhi: list, postgis: list, polys_by_id: dict, xs, ys) -> tuple[int, int]:
    """(points on an edge, unexplained differences) among the points where the answers differ.

    ST_Contains leaves out a polygon's boundary; Gezhi includes it and picks one grid. So a
    difference is explained when the point lies on the boundary of the grid either side found.
    """
    on_edge = unexplained = 0
    for k, (a, b) in enumerate(zip(gezhi, postgis, strict=True)):
        if a == b:
            continue
        if any(g is not None and shapely.intersects_xy(polys_by_id[g].boundary, xs[k], ys[k])
               for g in (a, b)):
            on_edge += 1
        else:
            unexplained += 1
    return on_edge, unexplained


def machine() -> dict:
    cpu = "?"
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    ram = "?"
    with contextlib.suppress(OSError), open("/proc/meminfo") as f:
        kb = int(f.readline().split()[1])
        ram = f"{kb / 1024 / 1024:.1f} GiB"
    return {"nproc": os.cpu_count(), "cpu": cpu, "ram": ram,
            "python": platform.python_version(), "shapely": shapely.__version__,
            "geos": shapely.geos_version_string, "numpy": np.__version__,
            "load": " ".join(f"{v:.1f}" for v in os.getloadavg())}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--grids", type=int, default=20_000)
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--chunk", type=int, default=10_000, help="points per batch")
    parser.add_argument("--on-edges", type=int, default=100,
                        help="points placed exactly on grid corners (default 100)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="time each lookup mode this many times and keep the best (default 3)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--database-url", default="",
                        help="a PostgreSQL with PostGIS available; default: a throwaway cluster")
    parser.add_argument("--skip-postgis", action="store_true")
    args = parser.parse_args(argv)

    info = machine()
    print("machine: {nproc} CPU ({cpu}), {ram} RAM; Python {python}, Shapely {shapely}, "
          "GEOS {geos}, NumPy {numpy}; load average {load}".format(**info))

    polys, seconds = timed(lambda: synthetic_city(args.grids, seed=args.seed))
    ids = list(range(1, len(polys) + 1))
    print(f"city: {len(polys)} grids tiled in {seconds:.1f} s")
    rows = [(i, geojson_geometry(p), False) for i, p in zip(ids, polys, strict=True)]
    index, build_s = timed(lambda: build_index(rows, 1))
    print(f"Gezhi index built in {build_s:.2f} s")
    xs, ys = random_points(polys, args.points, seed=args.seed, on_edges=args.on_edges)
    xl, yl = xs.tolist(), ys.tolist()

    gezhi_single(index, xl[:1000], yl[:1000])  # warm up
    single, single_s = timed(lambda: gezhi_single(index, xl, yl), args.repeat)
    batched, batched_s = timed(lambda: gezhi_batched(index, xs, ys, args.chunk),
                               args.repeat)
    if single != batched:
        print("FAIL: lookup and lookup_many disagree", file=sys.stderr)
        return 1
    results = [("Gezhi single (GridIndex.lookup)", single_s),
               (f"Gezhi batched (lookup_many, {args.chunk}/batch)", batched_s)]
    outside = sum(v is None for v in single)
    print(f"points: {args.points}, {outside} outside every grid")

    ratios = {}
    if not args.skip_postgis:
        with _postgis(args.database_url) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
            # JIT compiling the batched join costs more than the join itself at these sizes.
            conn.execute("SET jit = off")
            versions = conn.execute(
                "SELECT split_part(version(), ' ', 2), postgis_lib_version(),"
                " postgis_geos_version()").fetchone()
            print(f"PostgreSQL {versions[0]}, PostGIS {versions[1]} (GEOS {versions[2]})")
            _, load_s = timed(lambda: postgis_load(conn, polys, ids))
            print(f"PostGIS table loaded and indexed (GiST) in {load_s:.1f} s")
            postgis_single(conn, xl[:1000], yl[:1000])
            floor_s = round_trip(conn)
            print(f"PostgreSQL round trip (prepared SELECT 1): {floor_s * 1e6:.0f} µs")
            pg_single, pg_single_s = timed(lambda: postgis_single(conn, xl, yl), args.repeat)
            pg_batched, pg_batched_s = timed(
                lambda: postgis_batched(conn, xs, ys, args.chunk), args.repeat)
            conn.execute("DROP TABLE bench_grid")
        polys_by_id = dict(zip(ids, polys, strict=True))
        for label, answers in (("single", pg_single), ("batched", pg_batched)):
            edge, unexplained = disagreements(single, answers, polys_by_id, xl, yl)
            print(f"agreement ({label}): {args.points - edge - unexplained} same, "
                  f"{edge} on an edge, {unexplained} different")
            if unexplained:
                print("FAIL: Gezhi and PostGIS disagree off the edges", file=sys.stderr)
                return 1
        results += [("PostGIS single (ST_Contains, prepared)", pg_single_s),
                    (f"PostGIS batched (unnest join, {args.chunk}/batch)", pg_batched_s)]
        ratios = {0: pg_single_s, 1: pg_batched_s}

    print(f"\nbest of {args.repeat} runs each; load average now "
          + " ".join(f"{v:.1f}" for v in os.getloadavg()))
    print("| lookup | points | seconds | lookups/s | Gezhi/PostGIS |")
    print("|---|---:|---:|---:|---:|")
    for k, (label, seconds) in enumerate(results):
        ratio = f"{ratios[k] / seconds:.1f}×" if k in ratios else ""
        print(f"| {label} | {args.points} | {seconds:.3f} | {args.points / seconds:,.0f} "
              f"| {ratio} |")
    if ratios:
        worst = min(ratios[k] / results[k][1] for k in ratios)
        print(f"\ntarget Gezhi ≥ 5× PostGIS: {'met' if worst >= 5 else 'MISSED'} "
              f"(lowest ratio {worst:.1f}×)")
    return 0


@contextlib.contextmanager
def _postgis(database_url: str):
    import psycopg

    if database_url:
        with psycopg.connect(database_url, autocommit=True) as conn:
            yield conn
        return
    from pgtemp import temporary_cluster

    with temporary_cluster() as url, psycopg.connect(url, autocommit=True) as conn:
        yield conn


if __name__ == "__main__":
    try:
        sys.exit(main())
    except subprocess.CalledProcessError as exc:
        sys.exit(f"{exc.cmd[0]} failed: {exc.stderr.decode(errors='replace') if exc.stderr else exc}")
