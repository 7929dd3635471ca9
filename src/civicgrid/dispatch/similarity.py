"""Text similarity for duplicate reports (重复诉求): character shingles, MinHash and LSH, with numpy.

- A text's **shingles** are its overlapping 3-character pieces after normalisation (whitespace
  removed, anonymised codes and numbers folded), hashed to 32 bits. Two reports of one problem share
  many of them even when worded differently; the Jaccard similarity |A∩B| / |A∪B| measures it.
- **MinHash** keeps, for each of ``PERMUTATIONS`` hash functions, the smallest hashed shingle: the
  share of equal positions between two signatures estimates their Jaccard similarity.
- **LSH** cuts a signature into ``BANDS`` bands; texts that agree on a whole band land in the same
  bucket. With 32 bands of 2 rows a pair at Jaccard 0.3 meets in some band with probability
  1 − (1 − 0.3²)³² ≈ 95 %, a pair at 0.1 with 28 %: candidates are then checked exactly.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from civicgrid.dispatch.textmodel import normalise

SHINGLE = 3
PERMUTATIONS = 64
BANDS = 32
ROWS = PERMUTATIONS // BANDS
_rng = np.random.default_rng(20200101)  # fixed: signatures must be comparable across processes
_SEEDS = _rng.integers(1, 1 << 63, size=PERMUTATIONS, dtype=np.uint64)
_MASK32 = np.uint64(0xFFFFFFFF)
EARTH_RADIUS_M = 6_371_000.0


def shingles(text: str) -> np.ndarray:
    """Sorted unique 32-bit hashes of a text's character 3-grams (its characters, when shorter)."""
    t = normalise(text)
    if not t:
        return np.empty(0, dtype=np.uint32)
    cps = np.frombuffer(t.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    if len(cps) < SHINGLE:
        grams = cps
    else:
        grams = (cps[:-2] << np.uint64(42)) ^ (cps[1:-1] << np.uint64(21)) ^ cps[2:]
    # A cheap integer mix (splitmix64's finaliser) spreads the code-point patterns over 32 bits.
    return np.unique((_mix(grams) & _MASK32).astype(np.uint32))


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: a bijection of 64-bit integers that scatters nearby inputs
    (wrapping multiplication is intended)."""
    x = x ^ (x >> np.uint64(30))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Exact Jaccard similarity of two shingle sets (sorted unique arrays)."""
    if len(a) == 0 or len(b) == 0:
        return 0.0
    inter = len(np.intersect1d(a, b, assume_unique=True))
    return inter / (len(a) + len(b) - inter)


def minhash(sh: np.ndarray) -> np.ndarray:
    """The MinHash signature (``PERMUTATIONS`` uint32) of a shingle set."""
    if len(sh) == 0:
        return np.full(PERMUTATIONS, 0xFFFFFFFF, dtype=np.uint32)
    # One independent hash per "permutation": the shingle mixed with that permutation's seed.
    h = _mix(sh.astype(np.uint64)[None, :] ^ _SEEDS[:, None])
    return (h.min(axis=1) >> np.uint64(32)).astype(np.uint32)


def band_keys(signature: np.ndarray) -> list[bytes]:
    """One bucket key per band (the band's number and its rows)."""
    return [bytes([b]) + signature[b * ROWS:(b + 1) * ROWS].tobytes() for b in range(BANDS)]


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


@dataclass
class Hit:
    """One candidate found by the index: its position and estimated similarity."""

    key: int
    similarity: float
    distance_m: float | None
    hours_apart: float


class DuplicateIndex:
    """An in-memory index of open cases for duplicate search: LSH buckets over MinHash signatures
    (text); the time window and the radius filter what the buckets propose. Keys are the callers' ids."""

    def __init__(self) -> None:
        self.keys: list[int] = []
        self.sigs: list[np.ndarray] = []
        self.times: list[float] = []  # epoch seconds
        self.points: list[tuple[float, float] | None] = []
        self.buckets: dict[bytes, list[int]] = defaultdict(list)
        self.max_key = 0

    def __len__(self) -> int:
        return len(self.keys)

    def add(self, key: int, text: str, at: float, lon: float | None = None, lat: float | None = None) -> None:
        row = len(self.keys)
        sig = minhash(shingles(text))
        self.keys.append(key)
        self.sigs.append(sig)
        self.times.append(at)
        self.points.append((lon, lat) if lon is not None and lat is not None else None)
        for bk in band_keys(sig):
            self.buckets[bk].append(row)
        self.max_key = max(self.max_key, key)

    def add_many(self, items: Iterable[tuple[int, str, float, float | None, float | None]]) -> None:
        for key, text, at, lon, lat in items:
            self.add(key, text, at, lon, lat)

    def search(self, text: str, *, at: float, lon: float | None = None, lat: float | None = None,
               radius_m: float, window_hours: float, min_similarity: float,
               limit: int = 10) -> list[Hit]:
        """Rows within ``window_hours`` of ``at`` whose estimated similarity reaches ``min_similarity``
        and, when both have a place, that lie within ``radius_m`` — best first."""
        sig = minhash(shingles(text))
        rows: set[int] = set()
        for bk in band_keys(sig):
            rows.update(self.buckets.get(bk, ()))
        hits: list[Hit] = []
        window_s = window_hours * 3600.0
        for r in rows:
            hours = abs(self.times[r] - at) / 3600.0
            if hours * 3600.0 > window_s:
                continue
            dist = None
            other = self.points[r]
            if other is not None and lon is not None and lat is not None:
                dist = distance_m(lon, lat, other[0], other[1])
                if dist > radius_m:
                    continue
            sim = float(np.count_nonzero(self.sigs[r] == sig)) / PERMUTATIONS
            if sim >= min_similarity:
                hits.append(Hit(self.keys[r], sim, dist, hours))
        hits.sort(key=lambda h: (-h.similarity, h.distance_m if h.distance_m is not None else 1e12))
        return hits[:limit]


# ---------------------------------------------------------------------------------------------
# clusters of a message file (hot issues)


def clusters(texts: Sequence[str], *, threshold: float) -> list[list[int]]:
    """Groups of texts that are near-duplicates of each other (single link over pairs with exact
    shingle Jaccard ≥ ``threshold``, pairs proposed by LSH), largest first; singletons left out."""
    sh = [shingles(t) for t in texts]
    sigs = [minhash(s) for s in sh]
    buckets: dict[bytes, list[int]] = defaultdict(list)
    for i, sig in enumerate(sigs):
        for bk in band_keys(sig):
            buckets[bk].append(i)
    parent = list(range(len(texts)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    checked: set[tuple[int, int]] = set()
    for members in buckets.values():
        if len(members) < 2:
            continue
        for a_pos, a in enumerate(members):
            for b in members[a_pos + 1:]:
                pair = (a, b) if a < b else (b, a)
                if pair in checked or find(a) == find(b):
                    continue
                checked.add(pair)
                if jaccard(sh[a], sh[b]) >= threshold:
                    parent[find(a)] = find(b)
    groups: dict[int, list[int]] = defaultdict(list)
    for i in range(len(texts)):
        groups[find(i)].append(i)
    return sorted((g for g in groups.values() if len(g) > 1), key=lambda g: (-len(g), g[0]))
