"""Answer-versus-reference similarity: token F1 and chrF, both Unicode-aware.

Token F1 is the SQuAD measure over our Swedish word tokens (lower-cased, NFC;
no stemming, so it rewards the reference's own wording). chrF is Popović's
character n-gram F-score (n = 1..6, beta = 2, whitespace ignored, as in
sacreBLEU's defaults), computed over Unicode code points after NFC
normalisation so that 'ö' typed as o + combining diaeresis counts as one
character. Both return values in [0, 1] (sacreBLEU prints chrF × 100).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

from assistant.text import tokenize

_MARKER_RE = re.compile(r"\s*\[\d+\]")


def strip_markers(text: str) -> str:
    return _MARKER_RE.sub("", text)


def token_f1(prediction: str, reference: str) -> float:
    pred = Counter(tokenize(strip_markers(prediction)))
    ref = Counter(tokenize(reference))
    if not pred or not ref:
        return float(pred == ref)
    common = sum((pred & ref).values())
    if common == 0:
        return 0.0
    precision = common / sum(pred.values())
    recall = common / sum(ref.values())
    return 2 * precision * recall / (precision + recall)


def _chars(text: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFC", text) if not ch.isspace())


def _ngrams(chars: str, n: int) -> Counter[str]:
    return Counter(chars[i : i + n] for i in range(len(chars) - n + 1))


def chrf(prediction: str, reference: str, max_order: int = 6, beta: float = 2.0) -> float:
    """Character n-gram F-beta: precision and recall averaged over the orders both texts reach."""
    if max_order <= 0:
        raise ValueError(f"max_order must be > 0, got {max_order}")
    hyp, ref = _chars(strip_markers(prediction)), _chars(reference)
    precisions, recalls = [], []
    for n in range(1, max_order + 1):
        h, r = _ngrams(hyp, n), _ngrams(ref, n)
        if not h or not r:
            continue
        matches = sum((h & r).values())
        precisions.append(matches / sum(h.values()))
        recalls.append(matches / sum(r.values()))
    if not precisions:
        return 0.0
    p = sum(precisions) / len(precisions)
    r = sum(recalls) / len(recalls)
    if p == 0 and r == 0:
        return 0.0
    b2 = beta * beta
    return (1 + b2) * p * r / (b2 * p + r)
