"""Search quality probes: paraphrase queries, a BM25 keyword baseline, precision@k.

The queries describe what a shopper wants without naming the category ("denim trousers" for
Jeans, "winter coat" for Outerwear & Coats: never the category's head word). A result is relevant when its category is one the query means; where
the shop has the same garment under a department's own category (Men's Pants, Women's Pants
& Capris), both count. Shared by ``tests/test_embed_quality.py`` and ``bench/embeddings.py``.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence

import numpy as np

from ecommerce_assets.embeddings.search import top_k

PARAPHRASE_QUERIES: dict[str, frozenset[str]] = {q: frozenset(c) for q, c in {
    "denim trousers": {"Jeans"},
    "winter coat": {"Outerwear & Coats"},
    "board shorts for the beach": {"Swim"},
    "something to wear at the pool": {"Swim"},
    "warm knitwear for cold days": {"Sweaters"},
    "cashmere jumper": {"Sweaters"},
    "bra and panties": {"Intimates"},
    "lingerie": {"Intimates"},
    "evening gown for a party": {"Dresses"},
    "pregnancy clothes": {"Maternity"},
    "pajamas for sleeping": {"Sleep & Lounge"},
    "running and gym workout gear": {"Active"},
    "hosiery and tights": {"Socks & Hosiery"},
    "something warm for my feet": {"Socks", "Socks & Hosiery"},
    "boxer briefs": {"Underwear"},
    "tuxedo for a wedding": {"Suits & Sport Coats", "Suits"},
    "tailored jacket for the office": {"Blazers & Jackets", "Suits & Sport Coats", "Suits"},
    "one-piece playsuit": {"Jumpsuits & Rompers"},
    "a-line midi": {"Skirts"},
    "belts hats and wallets": {"Accessories"},
    "graphic t-shirt": {"Tops & Tees"},
    "zip-up fleece pullover": {"Fashion Hoodies & Sweatshirts"},
    "chinos and khakis": {"Pants", "Pants & Capris"},
    "cut-offs for summer": {"Shorts"},
    "larger size clothing": {"Plus"},
    "matching two-piece outfit": {"Clothing Sets"},
    "nightwear": {"Sleep & Lounge"},
    "clothes for expecting mothers": {"Maternity"},
}.items()}

_WORD = re.compile(r"[a-z0-9]+")


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


class BM25:
    """Okapi BM25 over short texts (k1=1.5, b=0.75): the plain keyword baseline."""

    def __init__(self, texts: Sequence[str], k1: float = 1.5, b: float = 0.75) -> None:
        self.n = len(texts)
        postings: dict[str, list[tuple[int, int]]] = defaultdict(list)
        lengths = np.zeros(self.n, np.float64)
        for doc, text in enumerate(texts):
            tokens = words(text)
            lengths[doc] = len(tokens)
            for term, tf in Counter(tokens).items():
                postings[term].append((doc, tf))
        norm = k1 * (1 - b + b * lengths / max(lengths.mean(), 1e-9))
        self.index: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for term, pairs in postings.items():
            docs, tfs = (np.array(x) for x in zip(*pairs, strict=True))
            idf = math.log(1 + (self.n - len(docs) + 0.5) / (len(docs) + 0.5))
            self.index[term] = (docs, idf * tfs * (k1 + 1) / (tfs + norm[docs]))

    def scores(self, query: str) -> np.ndarray:
        total = np.zeros(self.n, np.float64)
        for term in set(words(query)):
            if term in self.index:
                docs, weights = self.index[term]
                total[docs] += weights
        return total


def precision_at_k(rank: Callable[[str], np.ndarray], categories: np.ndarray,
                   queries: dict[str, frozenset[str]] = PARAPHRASE_QUERIES,
                   k: int = 10) -> dict[str, float]:
    """Per query: the share of the top ``k`` (by ``rank(query)`` scores) whose category is
    relevant. Ties (BM25 zeros) are broken by row order, as a keyword engine would."""
    out = {}
    for query, relevant in queries.items():
        top = top_k(rank(query), k)
        out[query] = float(np.isin(categories[top], list(relevant)).mean())
    return out
