"""The text classifier behind dispatch suggestions (派单建议模型): pure numpy/scikit-learn, no Django.

Why these features (fixed, not tuned per data set; see docs/architecture.md):

- **Characters, not words.** Citizen messages are short, noisy Chinese with typos and local names; a
  word segmenter trained on news adds a dependency and errors. Character unigrams and bigrams cover
  most two-character words and survive typos.
- **Subject and details as two blocks.** The subject (留言主题) says what the problem is in a dozen
  characters; the details are long and mostly context. Separate blocks let the linear model weigh them
  apart instead of drowning the subject.
- **Anonymised codes and digits folded** (``A3区``, ``A00012``, house numbers → ``A``, ``0``): they name
  places and people, not problems.
- **Unlabelled text is used**: the IDF weights and a 200-dimension LSA (truncated SVD) space are fitted
  on the training text plus any background corpus (the platform's own open and closed cases, or a file
  of unlabelled messages). Labelled data is scarce and unlabelled data is cheap: the LSA space groups
  characters that occur together (物业/小区/业主) so a message about a topic is close to others about it
  even when they share few exact characters.
- **A linear SVM** (one-vs-rest, C=1, the library default) on the concatenation; its decision values
  are turned into a confidence by a softmax whose temperature is fitted on out-of-fold decisions
  (3-fold), so that "0.8" means about 80 % right on unseen messages.

The featuriser is written with numpy (no per-n-gram Python objects): a batch of texts becomes arrays of
code points; n-gram keys are int64 numbers looked up in a sorted vocabulary with ``searchsorted``.

A trained model is a set of numpy arrays plus a JSON header, serialised with ``numpy.savez`` and read
back with ``allow_pickle=False``: loading a model never executes code from the stored bytes.
"""

from __future__ import annotations

import io
import json
import re
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

FORMAT = "civicgrid-dispatch-1"
MIN_PER_CLASS = 20  # a tree level is learnt below a node only when ≥ 2 children have this many examples
LSA_DIM = 200
LSA_VOCAB = 20_000  # the most frequent n-grams used for the LSA space (keeps the model small)
MAX_VOCAB = 400_000
# "Not enough signal": a text with fewer distinct character n-grams the model has seen than this (about
# six characters of known text: 今天天气很好 has 10 at most, 你好 3, 123 one) is not classified: a
# person decides. The shortest real subject among the 495 labelled messages has 15 known n-grams even
# alone; below 12 the model's confidence measures its length normalisation, not evidence.
MIN_KNOWN_NGRAMS = 12

_WS = re.compile(r"\s+")
_CODES = re.compile(r"[A-Za-z]+\d*")
_DIGITS = re.compile(r"\d+")
_BIGRAM_FLAG = np.int64(1) << np.int64(42)


def normalise(text: str) -> str:
    """Whitespace removed, anonymised codes and numbers folded (A3区 → A区, 2019年 → 0年)."""
    text = "".join((text or "").split())
    text = _CODES.sub("A", text)
    return _DIGITS.sub("0", text)


def _batch_keys(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """The int64 keys of the character unigrams and bigrams of many (normalised) texts, with repeats,
    and the row each key belongs to. Unigram keys are code points; bigram keys set bit 42 and hold
    both code points. All texts are encoded at once; bigrams that would span two texts are dropped."""
    n = len(texts)
    if n == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=n)
    cps = np.frombuffer("".join(texts).encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
    rows = np.repeat(np.arange(n, dtype=np.int64), lengths)
    same = rows[:-1] == rows[1:]
    bigrams = (_BIGRAM_FLAG | (cps[:-1] << np.int64(21)) | cps[1:])[same]
    return np.concatenate([cps, bigrams]), np.concatenate([rows, rows[:-1][same]])


def _counts_of(keys: np.ndarray, rows: np.ndarray, n: int, vocab: np.ndarray) -> sp.csr_matrix:
    """Term counts (``n`` documents × vocabulary) of keys found in a sorted key vocabulary."""
    if len(vocab) == 0 or len(keys) == 0:
        return sp.csr_matrix((n, len(vocab)), dtype=np.float32)
    pos = _lookup(vocab, keys)
    hit = pos >= 0
    m = sp.coo_matrix((np.ones(int(hit.sum()), dtype=np.float32), (rows[hit], pos[hit])), shape=(n, len(vocab)))
    return m.tocsr()  # duplicates are summed


_UNIGRAM_TABLES: dict[int, tuple[np.ndarray, np.ndarray, int]] = {}


def _lookup(vocab: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Position of each key in the sorted vocabulary, -1 when absent. Unigrams (keys below 2^21, first
    in the vocabulary) are read from a code-point table; bigrams are found by binary search."""
    table_entry = _UNIGRAM_TABLES.get(id(vocab))
    if table_entry is None or table_entry[0] is not vocab:
        n_uni = int(np.searchsorted(vocab, 1 << 21))
        table = np.full(int(vocab[n_uni - 1]) + 1 if n_uni else 1, -1, dtype=np.int64)
        table[vocab[:n_uni]] = np.arange(n_uni)
        table_entry = (vocab, table, n_uni)
        if len(_UNIGRAM_TABLES) > 8:
            _UNIGRAM_TABLES.clear()
        _UNIGRAM_TABLES[id(vocab)] = table_entry
    _, table, n_uni = table_entry
    pos = np.full(len(keys), -1, dtype=np.int64)
    uni = keys < (1 << 21)
    uk = keys[uni]
    inside = uk < len(table)
    found = np.full(len(uk), -1, dtype=np.int64)
    found[inside] = table[uk[inside]]
    pos[uni] = found
    bigram_vocab = vocab[n_uni:]
    if len(bigram_vocab):
        bk = keys[~uni]
        at = np.searchsorted(bigram_vocab, bk)
        at[at >= len(bigram_vocab)] = 0
        pos[~uni] = np.where(bigram_vocab[at] == bk, at + n_uni, -1)
    return pos


def _counts(texts: Sequence[str], vocab: np.ndarray) -> sp.csr_matrix:
    keys, rows = _batch_keys(texts)
    return _counts_of(keys, rows, len(texts), vocab)


def _tfidf(counts: sp.csr_matrix, idf: np.ndarray) -> sp.csr_matrix:
    """Sublinear TF (1 + log tf) times IDF, rows scaled to unit length."""
    x = counts.copy()
    x.sum_duplicates()
    x.data = ((1.0 + np.log(x.data)) * idf[x.indices]).astype(np.float32)
    row_of = np.repeat(np.arange(x.shape[0]), np.diff(x.indptr))
    norms = np.sqrt(np.bincount(row_of, weights=x.data.astype(np.float64) ** 2, minlength=x.shape[0]))
    norms[norms == 0] = 1.0
    x.data = (x.data / norms[row_of]).astype(np.float32)
    return x


def _idf(counts: sp.csr_matrix) -> np.ndarray:
    df = np.bincount(counts.indices, minlength=counts.shape[1]).astype(np.float64)
    n = counts.shape[0]
    return (np.log((1.0 + n) / (1.0 + df)) + 1.0).astype(np.float32)


def _vocabulary(texts: Sequence[str], *, min_df: int, limit: int) -> np.ndarray:
    """Sorted keys of the n-grams found in at least ``min_df`` texts (the ``limit`` most frequent)."""
    keys, rows = _batch_keys(texts)
    if len(keys) == 0:
        return np.empty(0, dtype=np.int64)
    # One entry per (key, document): keys use 43 bits, so the document fits in the 20 bits below.
    per_doc = np.unique((keys << np.int64(20)) | (rows & np.int64(0xFFFFF))) >> np.int64(20)
    uniq, df = np.unique(per_doc, return_counts=True)
    keep = df >= min_df
    uniq, df = uniq[keep], df[keep]
    if len(uniq) > limit:
        top = np.argsort(-df, kind="stable")[:limit]
        uniq = np.sort(uniq[top])
    return uniq


@dataclass
class Featuriser:
    """Subject block + details block (TF-IDF of character 1–2-grams) + the LSA block."""

    vocab: np.ndarray
    idf_title: np.ndarray
    idf_body: np.ndarray
    lsa_index: np.ndarray  # positions in ``vocab`` of the n-grams of the LSA space
    lsa_idf: np.ndarray
    lsa_components: np.ndarray  # LSA_DIM × len(lsa_index), float32
    _lsa_t: np.ndarray | None = field(default=None, repr=False)

    _lsa_pos: np.ndarray | None = field(default=None, repr=False)

    def _lsa_counts(self, counts: sp.csr_matrix) -> sp.csr_matrix:
        """The columns of the LSA n-grams, by a vocabulary-long position map (O(non-zeros))."""
        if self._lsa_pos is None:
            pos = np.full(len(self.vocab), -1, dtype=np.int64)
            pos[self.lsa_index] = np.arange(len(self.lsa_index))
            self._lsa_pos = pos
        coo = counts.tocoo()
        cols = self._lsa_pos[coo.col]
        keep = cols >= 0
        shape = (counts.shape[0], len(self.lsa_index))
        return sp.csr_matrix((coo.data[keep], (coo.row[keep], cols[keep])), shape=shape)

    def _projection(self) -> np.ndarray:
        # A contiguous transpose, made once: multiplying by ``components.T`` would copy it each call.
        if self._lsa_t is None:
            self._lsa_t = np.ascontiguousarray(self.lsa_components.T)
        return self._lsa_t

    @classmethod
    def fit(cls, titles: Sequence[str], bodies: Sequence[str], background: Sequence[str] = (),
            *, lsa_dim: int = LSA_DIM, seed: int = 0) -> Featuriser:
        from sklearn.decomposition import TruncatedSVD

        titles = [normalise(t) for t in titles]
        bodies = [normalise(b) for b in bodies]
        background = [normalise(b) for b in background]
        joined = [t + "。" + b for t, b in zip(titles, bodies, strict=True)]
        corpus = joined + background
        # An n-gram seen once in the whole corpus cannot generalise; with a small corpus keep all.
        vocab = _vocabulary(corpus, min_df=2 if len(corpus) >= 200 else 1, limit=MAX_VOCAB)
        # IDF of each block from the texts of that kind: training subjects/details plus the background.
        idf_title = _idf(_counts(titles + background, vocab))
        idf_body = _idf(_counts(bodies + background, vocab))
        all_counts = _counts(corpus, vocab)
        df = np.bincount(all_counts.indices, minlength=len(vocab))
        lsa_index = np.sort(np.argsort(-df, kind="stable")[:LSA_VOCAB]).astype(np.int64)
        lsa_counts = all_counts[:, lsa_index]
        lsa_idf = _idf(lsa_counts)
        x = _tfidf(lsa_counts, lsa_idf)
        dim = max(0, min(lsa_dim, x.shape[0] - 1, x.shape[1] - 1))
        if dim >= 2:
            svd = TruncatedSVD(n_components=dim, random_state=seed, algorithm="randomized", n_iter=5)
            svd.fit(x)
            components = svd.components_.astype(np.float32)
        else:
            components = np.zeros((0, len(lsa_index)), dtype=np.float32)
        return cls(vocab, idf_title, idf_body, lsa_index, lsa_idf, components)

    def known_ngrams(self, titles: Sequence[str], bodies: Sequence[str]) -> np.ndarray:
        """How many distinct character n-grams of each subject + details are in the vocabulary."""
        keys, rows = _batch_keys([normalise(t) + "\n" + normalise(b) for t, b in zip(titles, bodies, strict=True)])
        pos = _lookup(self.vocab, keys) if len(self.vocab) and len(keys) else np.full(len(keys), -1)
        hit = pos >= 0
        pairs = np.unique(rows[hit] * np.int64(len(self.vocab) + 1) + pos[hit])
        return np.bincount(pairs // np.int64(len(self.vocab) + 1), minlength=len(titles))

    def transform(self, titles: Sequence[str], bodies: Sequence[str]) -> sp.csr_matrix:
        n = len(titles)
        kt, rt = _batch_keys([normalise(t) for t in titles])
        kb, rb = _batch_keys([normalise(b) for b in bodies])
        # One vocabulary look-up for both fields: subjects are rows 0…n-1, details rows n…2n-1.
        counts = _counts_of(np.concatenate([kt, kb]), np.concatenate([rt, rb + n]), 2 * n, self.vocab)
        ct, cb = counts[:n], counts[n:]
        blocks = [_tfidf(ct, self.idf_title), _tfidf(cb, self.idf_body)]
        if self.lsa_components.shape[0]:
            dense = _tfidf(self._lsa_counts(ct + cb), self.lsa_idf) @ self._projection()
            norms = np.linalg.norm(dense, axis=1, keepdims=True)
            norms[norms == 0] = 1.0
            blocks.append(sp.csr_matrix((dense / norms).astype(np.float32)))
        return sp.hstack(blocks, format="csr", dtype=np.float32)


@dataclass
class Node:
    """One classifier of the tree: below ``path`` (``()`` = the top level), choose among ``labels``."""

    path: tuple[str, ...]
    labels: list[str]
    coef: np.ndarray  # classes × features (one row, for two classes, as scikit-learn gives)
    intercept: np.ndarray
    temperature: float = 1.0
    examples: int = 0  # training examples of this node: no answer is surer than n / (n + 1)
    _coef_t: np.ndarray | None = field(default=None, repr=False)

    def decision(self, x: sp.csr_matrix) -> np.ndarray:
        if self._coef_t is None:  # contiguous features × classes, made once
            self._coef_t = np.ascontiguousarray(self.coef.T)
        d = np.asarray(x @ self._coef_t) + self.intercept
        if d.shape[1] == 1:  # two classes: one score, positive for the second label
            d = np.hstack([-d / 2, d / 2])
        return d

    def proba(self, x: sp.csr_matrix) -> np.ndarray:
        p = _softmax(self.decision(x) / self.temperature)
        if self.examples:
            # A few hundred examples cannot make anyone 99.99 % sure: shrink towards uniform so the
            # best class is at most n / (n + 1) (Laplace's rule of succession).
            cap = self.examples / (self.examples + 1.0)
            k = p.shape[1]
            top = p.max(axis=1, keepdims=True)
            w = np.where(top > cap, (cap - 1.0 / k) / np.maximum(top - 1.0 / k, 1e-12), 1.0)
            p = w * p + (1.0 - w) / k
        return p


def _softmax(d: np.ndarray) -> np.ndarray:
    d = d - d.max(axis=1, keepdims=True)
    e = np.exp(d)
    return e / e.sum(axis=1, keepdims=True)


def _fit_temperature(decisions: np.ndarray, y: np.ndarray) -> float:
    """The softmax temperature that minimises the log loss of out-of-fold decisions (a grid search)."""
    best, best_t = np.inf, 1.0
    for t in np.exp(np.linspace(np.log(0.02), np.log(5.0), 60)):
        p = _softmax(decisions / t)
        loss = -np.mean(np.log(np.clip(p[np.arange(len(y)), y], 1e-12, None)))
        if loss < best:
            best, best_t = loss, float(t)
    return best_t


def _fit_node(path: tuple[str, ...], x: sp.csr_matrix, labels: list[str], seed: int) -> Node:
    from sklearn.model_selection import StratifiedKFold
    from sklearn.svm import LinearSVC

    classes = sorted(set(labels))
    y = np.array([classes.index(label) for label in labels])
    if len(classes) < 2:  # the caller learns a node only where there is a choice
        raise ValueError("a tree node needs at least two classes")
    temperature = 1.0
    smallest = min(Counter(y.tolist()).values())
    folds = min(3, smallest)
    if folds >= 2 and len(y) >= 30:
        oof = np.zeros((len(y), len(classes)))
        for tr, te in StratifiedKFold(folds, shuffle=True, random_state=seed).split(np.zeros(len(y)), y):
            if len(set(y[tr].tolist())) < len(classes):
                continue
            clf = LinearSVC(C=1.0, random_state=seed).fit(x[tr], y[tr])
            tmp = Node(path, classes, clf.coef_.astype(np.float32), clf.intercept_.astype(np.float32))
            oof[te] = tmp.decision(x[te])
        temperature = _fit_temperature(oof, y)
    clf = LinearSVC(C=1.0, random_state=seed).fit(x, y)
    return Node(path, classes, clf.coef_.astype(np.float32), clf.intercept_.astype(np.float32), temperature,
                examples=len(labels))


@dataclass
class Prediction:
    """The path chosen down the tree, with the probability of each step given the one above."""

    path: list[str]
    step_confidence: list[float]
    top: list[tuple[str, float]] = field(default_factory=list)  # top-level alternatives, best first

    @property
    def confidences(self) -> list[float]:
        """Confidence of each level of the path (the product of the steps down to it)."""
        out, acc = [], 1.0
        for c in self.step_confidence:
            acc *= c
            out.append(acc)
        return out


@dataclass
class TextModel:
    """A trained dispatch model: the featuriser and one classifier per learnt tree node."""

    featuriser: Featuriser
    nodes: dict[tuple[str, ...], Node]
    meta: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def fit(cls, titles: Sequence[str], bodies: Sequence[str], labels: Sequence[Sequence[str]], *,
            background: Sequence[str] = (), seed: int = 0, min_per_class: int = MIN_PER_CLASS,
            lsa_dim: int = LSA_DIM) -> TextModel:
        """Learn from subjects, details and label paths (top level first: ``("城乡建设",)`` or
        ``("R01", "R0103")``). The top level is always learnt; below a node, the next level is learnt
        when at least two of its children have ``min_per_class`` examples."""
        if not (len(titles) == len(bodies) == len(labels)):
            raise ValueError("titles, bodies and labels differ in length")
        paths = [tuple(str(p) for p in label if str(p)) for label in labels]
        if not paths or any(not p for p in paths):
            raise ValueError("every example needs a label")
        if len({p[0] for p in paths}) < 2:
            raise ValueError("training needs at least two different categories")
        started = time.perf_counter()
        feats = Featuriser.fit(titles, bodies, background, lsa_dim=lsa_dim, seed=seed)
        x = feats.transform(titles, bodies)
        nodes: dict[tuple[str, ...], Node] = {}
        todo: list[tuple[str, ...]] = [()]
        while todo:
            prefix = todo.pop()
            depth = len(prefix)
            rows = [i for i, p in enumerate(paths) if p[:depth] == prefix and len(p) > depth]
            child = Counter(paths[i][depth] for i in rows)
            if depth == 0:
                keep = set(child)
            else:
                keep = {c for c, n in child.items() if n >= min_per_class}
                if len(keep) < 2:
                    continue
            rows = [i for i in rows if paths[i][depth] in keep]
            nodes[prefix] = _fit_node(prefix, x[rows], [paths[i][depth] for i in rows], seed)
            todo.extend((*prefix, c) for c in keep)
        meta = {"format": FORMAT, "documents": len(paths), "background": len(background),
                "classes": sorted({p[0] for p in paths}), "levels": max(len(k) for k in nodes) + 1,
                "features": int(x.shape[1]), "train_seconds": round(time.perf_counter() - started, 3)}
        return cls(feats, nodes, meta)

    def predict(self, titles: Sequence[str], bodies: Sequence[str]) -> list[Prediction]:
        x = self.featuriser.transform(titles, bodies)
        root = self.nodes[()]
        p_root = root.proba(x)
        out: list[Prediction] = []
        orders = np.argsort(-p_root, axis=1)[:, :5].tolist()
        probs = p_root.tolist()
        for i in range(x.shape[0]):
            top = [(root.labels[j], probs[i][j]) for j in orders[i]]
            path, steps = [top[0][0]], [top[0][1]]
            node = self.nodes.get(tuple(path))
            while node is not None:
                p = node.proba(x[i])[0]
                j = int(np.argmax(p))
                path.append(node.labels[j])
                steps.append(float(p[j]))
                node = self.nodes.get(tuple(path))
            out.append(Prediction(path, steps, top))
        return out

    def predict_top(self, titles: Sequence[str], bodies: Sequence[str]) -> list[str]:
        """The top-level label of each text (vectorised: the fast path for evaluation)."""
        x = self.featuriser.transform(titles, bodies)
        root = self.nodes[()]
        return [root.labels[j] for j in np.argmax(root.decision(x), axis=1)]

    # -- serialisation: numpy arrays and a JSON header, never pickle -----------------------------

    def to_bytes(self) -> bytes:
        f = self.featuriser
        arrays: dict[str, np.ndarray] = {
            "vocab": f.vocab, "idf_title": f.idf_title, "idf_body": f.idf_body,
            "lsa_index": f.lsa_index, "lsa_idf": f.lsa_idf, "lsa_components": f.lsa_components,
        }
        nodes = []
        for i, node in enumerate(self.nodes.values()):
            arrays[f"coef_{i}"] = node.coef
            arrays[f"intercept_{i}"] = node.intercept
            nodes.append({"path": list(node.path), "labels": node.labels, "temperature": node.temperature,
                          "examples": node.examples})
        header = {"format": FORMAT, "meta": self.meta, "nodes": nodes}
        arrays["header"] = np.frombuffer(json.dumps(header, ensure_ascii=False).encode("utf-8"), dtype=np.uint8)
        buf = io.BytesIO()
        np.savez_compressed(buf, **arrays)
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> TextModel:
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as npz:
                arrays = {k: npz[k] for k in npz.files}
            header = json.loads(bytes(arrays["header"]).decode("utf-8"))
        except (ValueError, KeyError, OSError) as exc:
            raise ValueError(f"not a dispatch model: {exc}") from None
        if header.get("format") != FORMAT:
            raise ValueError(f"unknown model format {header.get('format')!r}")
        feats = Featuriser(arrays["vocab"], arrays["idf_title"], arrays["idf_body"], arrays["lsa_index"],
                           arrays["lsa_idf"], arrays["lsa_components"])
        nodes = {}
        for i, n in enumerate(header["nodes"]):
            path = tuple(n["path"])
            nodes[path] = Node(path, list(n["labels"]), arrays[f"coef_{i}"], arrays[f"intercept_{i}"],
                               float(n["temperature"]), int(n.get("examples", 0)))
        return cls(feats, nodes, header.get("meta", {}))


# ---------------------------------------------------------------------------------------------
# evaluation


@dataclass
class Evaluation:
    """Cross-validated figures of one approach on one labelled set (top level)."""

    labels: list[str]
    macro_f1: float
    accuracy: float
    precision: dict[str, float]
    recall: dict[str, float]
    support: dict[str, int]
    confusion: list[list[int]]  # rows: true label, columns: predicted, in ``labels`` order
    folds: int
    documents: int
    train_seconds: float  # mean per fold
    docs_per_second: float  # prediction throughput over all held-out documents

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def score(y_true: Sequence[str], y_pred: Sequence[str], labels: Sequence[str] | None = None) -> dict[str, Any]:
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

    labels = list(labels or sorted(set(y_true) | set(y_pred)))
    p, r, _f, s = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    return {
        "labels": labels,
        "macro_f1": float(f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)),
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "precision": {lab: float(v) for lab, v in zip(labels, p, strict=True)},
        "recall": {lab: float(v) for lab, v in zip(labels, r, strict=True)},
        "support": {lab: int(v) for lab, v in zip(labels, s, strict=True)},
        "confusion": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
    }


def cross_validate(titles: Sequence[str], bodies: Sequence[str], labels: Sequence[Sequence[str]], *,
                   folds: int = 5, background: Sequence[str] = (), seed: int = 0,
                   lsa_dim: int = LSA_DIM) -> Evaluation:
    """Stratified k-fold evaluation of the top-level choice."""
    from sklearn.model_selection import StratifiedKFold

    top = [str(label[0]) for label in labels]
    smallest = min(Counter(top).values())
    if folds < 2:
        raise ValueError("--folds must be at least 2")
    if smallest < folds:
        rare = sorted(c for c, n in Counter(top).items() if n < folds)
        raise ValueError(f"{folds}-fold evaluation needs at least {folds} examples of each category; "
                         f"too few: {', '.join(rare[:10])}")
    predicted = [""] * len(top)
    train_s = predict_s = 0.0
    splitter = StratifiedKFold(folds, shuffle=True, random_state=seed)
    for tr, te in splitter.split(np.zeros(len(top)), top):
        t0 = time.perf_counter()
        model = TextModel.fit([titles[i] for i in tr], [bodies[i] for i in tr], [labels[i] for i in tr],
                              background=background, seed=seed, lsa_dim=lsa_dim)
        t1 = time.perf_counter()
        for i, p in zip(te, model.predict_top([titles[i] for i in te], [bodies[i] for i in te]), strict=True):
            predicted[i] = p
        train_s += t1 - t0
        predict_s += time.perf_counter() - t1
    s = score(top, predicted)
    return Evaluation(folds=folds, documents=len(top), train_seconds=train_s / folds,
                      docs_per_second=len(top) / predict_s if predict_s else 0.0, **s)
