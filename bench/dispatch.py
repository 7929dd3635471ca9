"""Smart dispatch: category accuracy on real messages, prediction speed, model size, and duplicate search.

    python -m bench.dispatch [--open-cases 100000] [--queries 500] [--seeds 0,1,2,3,4]

Classification: the 495 labelled messages of ``../shared/data/teddy2020/csv/示例数据_附件2.csv`` (7
first-level classes), 5-fold stratified cross-validation repeated with each of ``--seeds`` (the seed
shuffles the folds), macro-F1 and accuracy of each approach as mean ± standard deviation over the
seeds (and the range):

- ``baseline``: the issue's plain character n-gram linear model — one TF-IDF of character 1–2-grams
  over subject + details (sublinear tf), linear SVM (scikit-learn defaults);
- ``civicgrid``: the dispatch model (``civicgrid.dispatch.textmodel``): subject and details as separate
  character 1–2-gram blocks, codes and digits folded, a 200-dimension LSA block, linear SVM;
- ``civicgrid + unlabelled``: the same, its IDF and LSA space also fitted on the 7,142 unlabelled
  messages of 附件3 and 附件4 (the kept approach: in production the platform's own case texts).

Speed of the kept model trained on all 495 (+ unlabelled): ``model.predict`` per second in batches of
1,000 and p50/p99 of one message, on one core; the stored model's size. Then the production path on a
real database (a SQLite file with the demo city, the 7 classes as categories with catalogue lines):
``selectors.suggest(text, title=, region=<grid code>)`` end to end (model cache check, region look-up,
prediction, category and department look-ups), p50/p99 of one message.

Duplicates: ``--open-cases`` open cases in the same database whose texts are pieces of the real
附件3/附件4 messages, spread over a city 30 km wide and 30 days; each query is a reworded copy of one
of them (characters dropped and changed) 0–24 h later, and the production
``selectors.duplicate_candidates`` is timed with a point nearby and text-only (p50/p99, with the
share of planted duplicates found); the first text-only query builds the process's LSH index.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.report import machine_description, markdown_table, print_table, write_section

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("CIVICGRID_SHARED_DATA", REPO.parent / "shared" / "data")) / "teddy2020" / "csv"
@dataclass
class TextModelData:
    titles: list[str]
    bodies: list[str]
    labels: list[str]
    background: list[str]


TARGETS = {"macro_f1": 0.82, "per_second": 5000, "p99_ms": 5.0, "size_mb": 50.0, "dup_p99_ms": 20.0}


def _read(name: str) -> list[dict[str, str]]:
    with open(DATA / name, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _baseline_cv(titles: list[str], bodies: list[str], labels: list[str], seed: int) -> tuple[float, float, float]:
    """The plain character n-gram linear model of the issue: char 1–2-gram TF-IDF + LinearSVC."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.model_selection import StratifiedKFold
    from sklearn.svm import LinearSVC

    from civicgrid.dispatch.textmodel import score

    texts = [f"{t}。{b}" for t, b in zip(titles, bodies, strict=True)]
    predicted = [""] * len(texts)
    train_s = 0.0
    for tr, te in StratifiedKFold(5, shuffle=True, random_state=seed).split(np.zeros(len(labels)), labels):
        t0 = time.perf_counter()
        vec = TfidfVectorizer(analyzer="char", ngram_range=(1, 2), sublinear_tf=True)
        clf = LinearSVC().fit(vec.fit_transform([texts[i] for i in tr]), [labels[i] for i in tr])
        train_s += time.perf_counter() - t0
        for i, p in zip(te, clf.predict(vec.transform([texts[i] for i in te])), strict=True):
            predicted[i] = p
    s = score(labels, predicted)
    return s["macro_f1"], s["accuracy"], train_s / 5


def _spread(values: list[float]) -> str:
    mean = statistics.mean(values)
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{mean:.3f} ± {sd:.3f} ({min(values):.3f}–{max(values):.3f})"


def classification(seeds: list[int]) -> tuple[list[list[object]], dict[str, float], TextModelData]:
    from civicgrid.dispatch.textmodel import MIN_KNOWN_NGRAMS, TextModel, cross_validate

    rows = _read("示例数据_附件2.csv")
    titles = [r["留言主题"] for r in rows]
    bodies = [r["留言详情"] for r in rows]
    labels = [(r["一级分类"],) for r in rows]
    background = [f"{r['留言主题']}。{r['留言详情']}" for r in _read("附件3.csv") + _read("附件4.csv")]
    table: list[list[object]] = []
    means: list[float] = []
    approaches = [("baseline: char 1–2-gram TF-IDF + linear SVM", None),
                  ("civicgrid (495 only)", ()), ("civicgrid + unlabelled 附件3/4 (kept)", background)]
    for name, bg in approaches:
        f1s, accs, trs = [], [], []
        for seed in seeds:
            if bg is None:
                f1, acc, tr = _baseline_cv(titles, bodies, [lab[0] for lab in labels], seed)
            else:
                ev = cross_validate(titles, bodies, labels, folds=5, background=bg, seed=seed)
                f1, acc, tr = ev.macro_f1, ev.accuracy, ev.train_seconds
            f1s.append(f1)
            accs.append(acc)
            trs.append(tr)
        table.append([name, _spread(f1s), _spread(accs), f"{statistics.mean(trs):.2f}"])
        means.append(statistics.mean(f1s))
        print(f"{name} done: {table[-1][1]}", flush=True)
    kept_f1 = means[-1]
    seed = seeds[0]

    t0 = time.perf_counter()
    model = TextModel.fit(titles, bodies, labels, background=background, seed=seed)
    train_all = time.perf_counter() - t0
    blob = model.to_bytes()
    model = TextModel.from_bytes(blob)
    batch_t = (titles * 3)[:1000]
    batch_b = (bodies * 3)[:1000]
    model.predict(batch_t[:10], batch_b[:10])  # warm-up
    runs = []
    for _ in range(5):
        t0 = time.perf_counter()
        model.predict(batch_t, batch_b)
        runs.append(time.perf_counter() - t0)
    per_second = 1000 / statistics.median(runs)
    single = []
    for i in range(1000):
        t0 = time.perf_counter()
        model.predict([titles[i % len(titles)]], [bodies[i % len(bodies)]])
        single.append(time.perf_counter() - t0)
    p50 = float(np.percentile(single, 50)) * 1000
    p99 = float(np.percentile(single, 99)) * 1000
    known = model.featuriser.known_ngrams(titles, bodies)
    figures = {"macro_f1": kept_f1, "train_all": train_all, "per_second": per_second, "p50_ms": p50,
               "p99_ms": p99, "size_mb": len(blob) / 2**20, "features": float(model.meta["features"]),
               "guarded": float((known < MIN_KNOWN_NGRAMS).sum()), "min_known": float(known.min())}
    return table, figures, TextModelData(titles, bodies, [lab[0] for lab in labels], background)


def _reword(text: str, rng: random.Random) -> str:
    chars = list(text)
    for _ in range(max(1, len(chars) // 15)):  # drop or change about one character in fifteen
        i = rng.randrange(len(chars))
        chars[i] = "" if rng.random() < 0.5 else rng.choice("的了是在有和很请")
    return "".join(chars)


def _percentiles(ms: list[float]) -> tuple[float, float]:
    return float(np.percentile(ms, 50)), float(np.percentile(ms, 99))


def production(data: TextModelData, open_cases: int, queries: int, seed: int) -> dict[str, float]:
    """The production selectors on a real database (a SQLite file): suggest and duplicate search."""
    import datetime as dt

    from bench.django_env import fresh_database, setup_django

    setup_django(fresh_database("sqlite", "bench_dispatch"))
    from django.db import transaction
    from django.utils import timezone

    from civicgrid.cases.models import Case
    from civicgrid.demo.services import demo_city_load
    from civicgrid.dispatch import selectors, services
    from civicgrid.geo.models import Region
    from civicgrid.taxonomy.models import Category
    from civicgrid.taxonomy.services import category_create, dispatch_rule_set

    out: dict[str, float] = {}
    demo_city_load()
    functions = ["urban_management", "housing", "water", "landscaping", "traffic", "environment", "market"]
    for i, name in enumerate(sorted(set(data.labels))):
        cat = (Category.objects.filter(kind="request", parent__isnull=True, name=name).first()
               or category_create(actor=None, name=name, kind="request"))
        dispatch_rule_set(actor=None, category=cat, region_level="district",
                          department_function=functions[i % len(functions)])
    services.model_train(actor=None, titles=data.titles, bodies=data.bodies, labels=[(x,) for x in data.labels],
                         background=data.background, source="bench: 495 + 附件3/4")
    grids = list(Region.objects.filter(level="grid", is_active=True).values_list("code", flat=True))
    rng = random.Random(seed)
    selectors.suggest(data.bodies[0], title=data.titles[0], region=grids[0])  # loads the model once
    ms, auto, with_dept = [], 0, 0
    for i in range(1000):
        k = i % len(data.titles)
        t0 = time.perf_counter()
        s = selectors.suggest(data.bodies[k], title=data.titles[k], region=rng.choice(grids))
        ms.append((time.perf_counter() - t0) * 1000)
        auto += s.auto
        with_dept += s.department is not None
    out["suggest_p50"], out["suggest_p99"] = _percentiles(ms)
    out["suggest_dept"] = with_dept / 1000

    source = [f"{r['留言主题']}。{' '.join(r['留言详情'].split())}" for r in _read("附件3.csv") + _read("附件4.csv")]
    lon0, lat0, span = 112.9, 28.1, 30_000 / 111_320  # a city about 30 km wide
    now = timezone.now()
    texts, points, times = [], [], []
    t0 = time.perf_counter()
    batch: list[Case] = []
    with transaction.atomic():
        for key in range(open_cases):
            s_ = rng.choice(source)
            start = rng.randrange(max(1, len(s_) - 60))
            text = s_[start:start + rng.randint(60, 160)]
            lon, lat = lon0 + rng.random() * span, lat0 + rng.random() * span
            at = now - dt.timedelta(seconds=rng.random() * 30 * 86400)
            texts.append(text)
            points.append((lon, lat))
            times.append(at)
            batch.append(Case(case_type="drill", state="new", tracking_code=f"BENCH{key:09d}", title="",
                              text=text, lon=lon, lat=lat, created_at=at))
            if len(batch) == 5000:
                Case.objects.bulk_create(batch)
                batch = []
        Case.objects.bulk_create(batch)
    out["seed_s"] = time.perf_counter() - t0
    ids = list(Case.objects.filter(tracking_code__startswith="BENCH").order_by("tracking_code")
               .values_list("pk", flat=True))
    plan = []
    for _ in range(queries):
        k = rng.randrange(open_cases)
        plan.append((k, _reword(texts[k], rng), points[k][0] + rng.uniform(-0.001, 0.001),
                     points[k][1] + rng.uniform(-0.001, 0.001), times[k] + dt.timedelta(hours=rng.uniform(0, 24))))
    k, query, lon, lat, at = plan[0]
    t0 = time.perf_counter()
    selectors.duplicate_candidates(text=query, at=at, user=None)  # the first text-only search builds the LSH index
    out["index_build_s"] = time.perf_counter() - t0
    for mode in ("point", "text"):
        ms, found, hits = [], 0, []
        for k, query, lon, lat, at in plan:
            kw = {"lon": lon, "lat": lat} if mode == "point" else {}
            t0 = time.perf_counter()
            got = selectors.duplicate_candidates(text=query, at=at, user=None, **kw)
            ms.append((time.perf_counter() - t0) * 1000)
            found += any(c.case_id == ids[k] for c in got)
            hits.append(len(got))
        out[f"dup_{mode}_p50"], out[f"dup_{mode}_p99"] = _percentiles(ms)
        out[f"dup_{mode}_recall"] = found / len(plan)
        out[f"dup_{mode}_hits"] = float(np.mean(hits))
    out["open_cases"] = open_cases
    out["queries"] = queries
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--open-cases", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--seeds", default="0,1,2,3,4", help="fold seeds of the repeated cross-validation")
    parser.add_argument("--skip-production", action="store_true", help="no database part (suggest, duplicates)")
    args = parser.parse_args(argv)
    seeds = [int(x) for x in args.seeds.split(",") if x.strip()]
    sys.path.insert(0, str(REPO / "src"))
    if not (DATA / "示例数据_附件2.csv").is_file():
        print(f"the teddy2020 data is missing ({DATA}): nothing measured")
        return 1
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - comes with scikit-learn
        threadpool_limits = None
    limiter = threadpool_limits(1) if threadpool_limits else None  # one core, as the target says

    table, fig, data = classification(seeds)
    prod = None if args.skip_production else production(data, args.open_cases, args.queries, seeds[0])
    if limiter is not None:
        limiter.unregister()

    headers = [f"approach (5-fold stratified CV × {len(seeds)} fold seeds, 495 messages)",
               "macro-F1 mean ± sd (range)", "accuracy mean ± sd (range)", "train s/fold"]
    print_table(headers, table)
    speed_headers = ["figure", "value", "target"]
    speed = [
        ["macro-F1, kept approach (mean over seeds)", f"{fig['macro_f1']:.3f}", f"≥ {TARGETS['macro_f1']}"],
        ["training on all 495 + 7,142 unlabelled (s)", f"{fig['train_all']:.1f}", ""],
        ["model.predict/s, batches of 1,000, one core", f"{fig['per_second']:,.0f}",
         f"≥ {TARGETS['per_second']:,}"],
        ["model.predict, one message, p50 (ms)", f"{fig['p50_ms']:.2f}", ""],
        ["model.predict, one message, p99 (ms)", f"{fig['p99_ms']:.2f}", f"< {TARGETS['p99_ms']}"],
        ["stored model (MB)", f"{fig['size_mb']:.1f}", f"< {TARGETS['size_mb']:.0f}"],
        ["features", f"{fig['features']:,.0f}", ""],
        ["of the 495 messages, too little known text (no suggestion)", f"{fig['guarded']:.0f}",
         f"fewest known n-grams: {fig['min_known']:.0f}"],
    ]
    if prod is not None:
        n = f"{prod['open_cases']:,.0f}"
        speed += [
            ["selectors.suggest end to end (region by grid code), p50 (ms)", f"{prod['suggest_p50']:.2f}", ""],
            ["selectors.suggest end to end (region by grid code), p99 (ms)", f"{prod['suggest_p99']:.2f}",
             f"< {TARGETS['p99_ms']}"],
            ["suggestions naming a department", f"{prod['suggest_dept']:.1%}", ""],
            [f"{n} open cases written to the SQLite file (s)", f"{prod['seed_s']:.1f}", ""],
            ["first text-only duplicate search: builds the LSH index (s)", f"{prod['index_build_s']:.1f}", ""],
        ]
        for mode, label in (("point", "with a point"), ("text", "text only")):
            speed += [
                [f"duplicate_candidates over {n} open cases, {label}, p50 (ms)", f"{prod[f'dup_{mode}_p50']:.2f}",
                 ""],
                [f"duplicate_candidates over {n} open cases, {label}, p99 (ms)", f"{prod[f'dup_{mode}_p99']:.2f}",
                 f"< {TARGETS['dup_p99_ms']:.0f}"],
                [f"planted duplicates found, {label}", f"{prod[f'dup_{mode}_recall']:.1%}", ""],
                [f"candidates per query, {label} (mean)", f"{prod[f'dup_{mode}_hits']:.2f}", ""],
            ]
    print()
    print_table(speed_headers, speed)
    md = "\n".join([
        "## Smart dispatch (bench/dispatch.py)",
        "",
        f"`python -m bench.dispatch --open-cases {args.open_cases} --queries {args.queries} --seeds {args.seeds}`"
        f" on {machine_description()}, {time.strftime('%Y-%m-%d')}; data: `../shared/data/teddy2020/csv/`"
        " (示例数据_附件2.csv labelled, 附件3.csv + 附件4.csv unlabelled). One BLAS thread.",
        "",
        markdown_table(headers, table),
        "",
        markdown_table(speed_headers, speed),
        "",
        "Features and hyperparameters are fixed in `civicgrid/dispatch/textmodel.py` (character 1–2-grams,"
        " subject and details as separate blocks, 200 LSA dimensions, linear SVM C=1) and were not searched"
        " on these folds; see docs/architecture.md for why. The baseline is the issue's plain character"
        " n-gram linear model (char 1–2-gram TF-IDF + LinearSVC). The suggest and duplicate figures time the"
        " production selectors on a SQLite file holding the demo city, the model and the open cases;"
        " duplicate candidates are read from the database (the LSH index proposes them when more than"
        " `CIVICGRID_DISPATCH_LSH_FROM` open cases fall in the window) and checked exactly.",
    ])
    write_section("dispatch", md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
