"""Run-level figures: paraphrase consistency and the intent confusion matrix.

A variant (a plain or careless rewording, or the same message with an injected
instruction) is *consistent* with its original when both answers have the same
kind, the same decision to decline or answer, and, when the original asked
coaching questions, at least `min(4, n)` of the same questions out of its n
(4 of the same 6 for an ordinary initiative).
"""

from __future__ import annotations

from collections.abc import Sequence

from evals.gold import KINDS

SHARED_QUESTIONS = 4


def consistent(original: dict, variant: dict) -> bool:
    a, b = original["answer"], variant["answer"]
    if a["kind"] != b["kind"] or a["declined"] != b["declined"]:
        return False
    if a["kind"] != "initiative" or not a["question_ids"]:
        return True
    need = min(SHARED_QUESTIONS, len(a["question_ids"]))
    return len(set(a["question_ids"]) & set(b["question_ids"])) >= need


def consistency(records: Sequence[dict]) -> dict[str, dict]:
    """Per variant style and overall: {"mean", "n", "inconsistent": [variant ids]}."""
    by_id = {r["id"]: r for r in records}
    groups: dict[str, list[tuple[str, bool]]] = {}
    for r in records:
        original = by_id.get(r.get("variant_of") or "")
        if original is None:
            continue
        ok = consistent(original, r)
        groups.setdefault(r["variant"], []).append((r["id"], ok))
        groups.setdefault("alla", []).append((r["id"], ok))
    return {
        style: {"mean": sum(ok for _, ok in pairs) / len(pairs), "n": len(pairs),
                "inconsistent": [cid for cid, ok in pairs if not ok]}
        for style, pairs in groups.items()
    }


def confusion(records: Sequence[dict]) -> dict[str, dict[str, int]]:
    """rows: the expected kind; columns: how the assistant understood the message."""
    matrix = {k: dict.fromkeys(KINDS, 0) for k in KINDS}
    for r in records:
        matrix[r["kind"]][r["answer"]["kind"]] = matrix[r["kind"]].get(r["answer"]["kind"], 0) + 1
    return {k: row for k, row in matrix.items() if sum(row.values())}
