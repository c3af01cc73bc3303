"""The Swedish report (report.md) and its PNG plots, written from the results.json body."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from evals.runner import LOWER_IS_BETTER, METRIC_KEYS, case_score

LABELS = {
    "retrieval.hit_at_5": "Träff bland 5 första dokumenten",
    "retrieval.recall_at_5": "Andel förväntade källor bland 5 första",
    "retrieval.mrr_at_10": "MRR@10 (första rätta källans placering)",
    "retrieval.ndcg_at_10": "nDCG@10",
    "coverage.dimension_recall": "Andel förväntade dimensioner med en fråga",
    "coverage.key_point_recall": "Andel nyckelpunkter i svaret",
    "citations.valid": "Hänvisningar som pekar på hämtade avsnitt",
    "citations.supported": "Påståenden som stöds av sin källa",
    "refusal.accuracy": "Rätt beslut att avböja eller svara",
    "refusal.false_refusal_rate": "Felaktigt avböjda frågor (lägre är bättre)",
    "answer.token_f1": "Ordöverlapp med referenssvar (F1)",
    "answer.chrf": "Teckenöverlapp med referenssvar (chrF)",
}
KIND_LABELS = {"initiative": "Initiativ", "question": "Frågor om vägledningen", "out_of_scope": "Utanför området"}
WEAKEST = 10


def _fmt(summary: dict | None) -> str:
    if not summary:
        return "–"
    lo, hi = summary["ci95"]
    return f"{summary['mean']:.2f} ({lo:.2f}–{hi:.2f}, n={summary['n']})"


def write_plots(results: dict[str, Any], out: Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    keys = [k for k in METRIC_KEYS if results.get(k)]
    fig, ax = plt.subplots(figsize=(9, 5))
    means = [results[k]["mean"] for k in keys]
    errs = [[m - results[k]["ci95"][0] for k, m in zip(keys, means)], [results[k]["ci95"][1] - m for k, m in zip(keys, means)]]
    ax.barh(keys, means, xerr=errs, color=["#c0504d" if k in LOWER_IS_BETTER else "#4f81bd" for k in keys])
    ax.set_xlim(0, 1)
    ax.invert_yaxis()
    ax.set_title(f"Mått med 95 % bootstrapintervall (n = {results['n']})")
    fig.tight_layout()
    fig.savefig(out / "metrics.png", dpi=110)
    plt.close(fig)
    written.append("metrics.png")

    kinds = list(results["by_kind"])
    fig, ax = plt.subplots(figsize=(10, 5))
    width = 0.8 / max(len(kinds), 1)
    for i, kind in enumerate(kinds):
        values = [(results["by_kind"][kind].get(k) or {}).get("mean", 0.0) for k in keys]
        ax.barh([y + i * width for y in range(len(keys))], values, height=width, label=KIND_LABELS.get(kind, kind))
    ax.set_yticks([y + width * (len(kinds) - 1) / 2 for y in range(len(keys))], keys)
    ax.set_xlim(0, 1)
    ax.invert_yaxis()
    ax.legend(loc="lower right")
    ax.set_title("Mått per typ av fall")
    fig.tight_layout()
    fig.savefig(out / "by_kind.png", dpi=110)
    plt.close(fig)
    written.append("by_kind.png")

    dims = results.get("by_dimension") or {}
    if dims:
        fig, ax = plt.subplots(figsize=(8, 4.5))
        names = list(dims)
        ax.barh(names, [dims[d]["mean"] for d in names], color="#9bbb59")
        for y, d in enumerate(names):
            ax.text(0.01, y, f"n={dims[d]['n']}", va="center", fontsize=8)
        ax.set_xlim(0, 1)
        ax.invert_yaxis()
        ax.set_title("Andel initiativ som fick en fråga från förväntad dimension")
        fig.tight_layout()
        fig.savefig(out / "by_dimension.png", dpi=110)
        plt.close(fig)
        written.append("by_dimension.png")
    return written


def weakest_cases(results: dict[str, Any], count: int = WEAKEST) -> list[tuple[float, dict]]:
    scored = [(case_score(c), c) for c in results["cases"]]
    return sorted(((s, c) for s, c in scored if s is not None), key=lambda sc: (sc[0], sc[1]["id"]))[:count]


def render_markdown(results: dict[str, Any], plots: list[str], gold: str) -> str:
    lines = [
        "# Utvärdering av Rätt frågor",
        "",
        f"Guldmängd: `{gold}` – {results['n']} fall. Varje fall har körts genom samma `Pipeline.ask` som appen använder.",
        "Medelvärden med 95 % bootstrapintervall (1 000 omdragningar, fast frö) och antal fall som måttet gäller.",
        "",
        "## Sammanfattning",
        "",
        "| Mått | Förklaring | Alla fall | " + " | ".join(KIND_LABELS.get(k, k) for k in results["by_kind"]) + " |",
        "|---|---|---|" + "---|" * len(results["by_kind"]),
    ]
    for key in METRIC_KEYS:
        per_kind = " | ".join(_fmt(results["by_kind"][k].get(key)) for k in results["by_kind"])
        lines.append(f"| `{key}` | {LABELS[key]} | {_fmt(results.get(key))} | {per_kind} |")
    lines += ["", "## Diagram", ""] + [f"![{p}]({p})" for p in plots]
    dims = results.get("by_dimension") or {}
    if dims:
        lines += ["", "## Per dimension", "", "| Dimension | Andel med fråga | Fall |", "|---|---|---|"]
        lines += [f"| {d} | {v['mean']:.2f} | {v['n']} |" for d, v in dims.items()]
    lines += ["", "## Svagaste fallen", "", "Sorterade efter fallets medelvärde över de mått som gäller för det.", ""]
    for score, case in weakest_cases(results):
        lines.append(f"### {case['id']} ({KIND_LABELS.get(case['kind'], case['kind'])}) – {score:.2f}")
        lines.append("")
        lines.append(f"> {case['message'][:300]}")
        lines.append("")
        shown = {k: round(v, 2) for k, v in case["metrics"].items() if v is not None}
        lines.append("Mått: " + ", ".join(f"`{k}` {v}" for k, v in shown.items()))
        if case["answer"]["refused"]:
            lines.append("- Svaret avböjde.")
        for label, field in (("Saknade nyckelpunkter", "missed_key_points"), ("Saknade dimensioner", "missed_dimensions"),
                             ("Källor som inte kom bland de 5 första", "missed_sources")):
            if case[field]:
                lines.append(f"- {label}: " + "; ".join(case[field]))
        lines.append("")
    return "\n".join(lines) + "\n"


def write_report(results: dict[str, Any], out: Path, gold: str) -> None:
    out.mkdir(parents=True, exist_ok=True)
    plots = write_plots(results, out)
    (out / "report.md").write_text(render_markdown(results, plots, gold), encoding="utf-8")
