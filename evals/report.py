"""The Swedish report: a one-screen summary for a strateg (summary.md), then the details (report.md) and plots."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from evals.runner import LOWER_IS_BETTER, METRIC_KEYS, case_score

LABELS = {
    "retrieval.hit_at_5": "Rätt dokument bland de 5 första som hämtades",
    "retrieval.recall_at_5": "Andel förväntade dokument bland de 5 första som hämtades",
    "retrieval.mrr_at_10": "Placering av första rätta dokument (MRR@10)",
    "retrieval.ndcg_at_10": "Rangordningens kvalitet (nDCG@10)",
    "shown.hit_at_5": "Rätt dokument bland de 5 första som visas med källa",
    "shown.ndcg_at_10": "Rangordningen som chefen ser (nDCG@10)",
    "coverage.dimension_recall": "Frågor från de förväntade dimensionerna",
    "coverage.key_point_recall": "Nyckelpunkter i frågorna eller svaret",
    "coverage.expected_question": "Den förväntade frågan bland de ställda",
    "signs.named": "Varningssignalen i beskrivningen nämns",
    "signs.named_and_asked": "Varningssignalen nämns och dess fråga ställs",
    "citations.valid": "Källhänvisningar till avsnitt som faktiskt hämtades",
    "citations.supported": "Påståenden som stöds av sin källa",
    "refusal.accuracy": "Rätt beslut att avböja eller svara",
    "refusal.false_refusal_rate": "Frågor inom området som avböjdes (lägre är bättre)",
    "refusal.false_answer_rate": "Frågor utanför området som besvarades (lägre är bättre)",
    "intent.accuracy": "Meddelandet förstods som rätt sorts meddelande",
    "answer.token_f1": "Ordöverlapp med referenssvar (F1)",
    "answer.chrf": "Teckenöverlapp med referenssvar (chrF)",
}
SPLIT_LABELS = {"dev": "Utvecklingsdelen (dev, används för justering)", "test": "Testdelen (test, bara för rapport)",
                "övrigt": "Fall utan dev/test-indelning"}
SET_LABELS = {
    "initiatives": "Initiativ", "questions": "Frågor om vägledningen", "adversarial": "Svåra fall",
    "sections": "Avsnittsfrågor", "swefaq": "Myndighetsfrågor (SweFAQ)", "negatives": "Nära men utanför området",
    "paraphrases": "Omformuleringar", "seed_scenarios": "Varningssignaler ur artikeln", "injections": "Instruktioner i meddelanden",
    "dialog": "Samtal och tomma meddelanden",
}
KIND_LABELS = {"initiative": "Initiativ", "question": "Fråga", "followup": "Följdfråga", "out_of_scope": "Utanför området",
               "empty": "Tomt"}
VARIANT_LABELS = {"plain": "omformulerad", "careless": "slarvigt skriven", "injected": "med instruktion", "alla": "alla"}
# The summary's few figures, in the order a strateg reads them.
HEADLINE = ("retrieval.hit_at_5", "coverage.dimension_recall", "coverage.key_point_recall", "signs.named_and_asked",
            "citations.valid", "refusal.false_refusal_rate", "refusal.false_answer_rate", "intent.accuracy")
GOOD = 0.9  # "går bra" at or above this (at or below 1 - GOOD for lower-is-better figures)
TOLERANCE = 0.02  # a change smaller than this is not reported as worse
WEAKEST = 5


def _pct(v: float) -> str:
    return f"{v:.2f}".replace(".", ",")


def _fmt(summary: dict | None) -> str:
    if not summary:
        return "–"
    lo, hi = summary["ci95"]
    return f"{_pct(summary['mean'])} ({_pct(lo)}–{_pct(hi)}, n={summary['n']})"


def _mean(split: dict, key: str) -> float | None:
    return (split.get(key) or {}).get("mean")


def _baseline_note(split: dict, key: str) -> str:
    name = key.split(".", 1)[1]
    rnd, const = _mean(split, f"baseline.random.{name}"), _mean(split, f"baseline.constant.{name}")
    if rnd is None and const is None:
        return ""
    return f" (slumpade frågor: {_pct(rnd) if rnd is not None else '–'}; samma sex frågor varje gång: " \
           f"{_pct(const) if const is not None else '–'})"


def _good(key: str, value: float) -> bool:
    return value <= 1 - GOOD if key in LOWER_IS_BETTER else value >= GOOD


def worse_since(previous: dict | None, results: dict) -> list[str]:
    """Figures that moved the wrong way by more than TOLERANCE, per split."""
    if not previous or "splits" not in previous:
        return []
    lines = []
    for split, now in results["splits"].items():
        before = previous["splits"].get(split)
        if not before:
            continue
        for key in METRIC_KEYS:
            a, b = _mean(before, key), _mean(now, key)
            if a is None or b is None:
                continue
            delta = b - a
            if (delta > TOLERANCE and key in LOWER_IS_BETTER) or (delta < -TOLERANCE and key not in LOWER_IS_BETTER):
                lines.append(f"{LABELS[key]} ({split}): {_pct(a)} → {_pct(b)}")
    return lines


def weakest_cases(records: list[dict], count: int) -> list[tuple[float, dict]]:
    scored = [(case_score(c), c) for c in records]
    return sorted(((s, c) for s, c in scored if s is not None), key=lambda sc: (sc[0], sc[1]["id"]))[:count]


def render_summary(results: dict[str, Any], previous: dict | None = None) -> str:
    """One screen in plain Swedish: the main figures beside their baselines, what is good, what got worse, the weakest."""
    lines = ["## Sammanfattning", ""]
    splits = results["splits"]
    for split in sorted(splits, key=lambda s: (s == "test", s)):  # test last
        data = splits[split]
        lines.append(f"**{SPLIT_LABELS.get(split, split)}**, {data['n']} fall:")
        for key in HEADLINE:
            value = _mean(data, key)
            if value is not None:
                lines.append(f"- {LABELS[key]}: {_pct(value)}{_baseline_note(data, key) if key.startswith('coverage') else ''}")
        cons = (data.get("consistency") or {}).get("alla")
        if cons:
            lines.append(f"- Samma sorts svar när meddelandet skrivs om: {_pct(cons['mean'])} (n={cons['n']})")
        lines.append("")
    good = [f"{LABELS[k].replace(' (lägre är bättre)', '')} ({s})" for s, d in splits.items() for k in HEADLINE
            if _mean(d, k) is not None and _good(k, _mean(d, k))]
    if results.get("llm"):
        lines += render_llm(results["llm"])[2:] + [""]
    lines.append("**Det här går bra:** " + ("; ".join(good) + "." if good else "inget mått når upp till 0,90 ännu."))
    worse = worse_since(previous, results)
    if previous is None:
        lines.append("**Sämre sedan förra körningen:** det finns ingen tidigare körning att jämföra med.")
    else:
        lines.append("**Sämre sedan förra körningen:** " + ("; ".join(worse) + "." if worse else "inget."))
    lines += ["", f"**De {WEAKEST} svagaste fallen** (testdelen om den finns):", ""]
    pool = [c for c in results["cases"] if c["split"] == "test"] or results["cases"]
    for score, case in weakest_cases(pool, WEAKEST):
        why = _why_weak(case)
        lines.append(f"1. {SET_LABELS.get(case['set'], case['set'])}: ”{case['message'][:120]}” – {why}")
    return "\n".join(lines) + "\n"


def _why_weak(case: dict) -> str:
    m = case["metrics"]
    if m.get("refusal.false_refusal_rate") == 1.0:
        return "avböjdes fast vägledningen borde svara."
    if m.get("refusal.false_answer_rate") == 1.0:
        return "besvarades fast det ligger utanför vägledningen."
    parts = []
    if case["missed_dimensions"]:
        parts.append("saknar frågor om " + ", ".join(case["missed_dimensions"]))
    if case["missed_sources"]:
        parts.append("rätt dokument hämtades inte (" + ", ".join(case["missed_sources"]) + ")")
    if case["missed_key_points"]:
        parts.append("saknar " + ", ".join(f"”{kp.split('|')[0]}”" for kp in case["missed_key_points"]))
    if m.get("intent.accuracy") == 0.0:
        parts.append(f"förstods som {KIND_LABELS.get(case['answer']['kind'], case['answer']['kind'])}")
    return "; ".join(parts) + "." if parts else "låga värden på flera mått."


def write_plots(results: dict[str, Any], out: Path) -> list[tuple[str, str]]:
    """(file name, Swedish caption) of each plot written."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written: list[tuple[str, str]] = []
    splits = results["splits"]
    keys = [k for k in METRIC_KEYS if any(_mean(d, k) is not None for d in splits.values())]
    fig, ax = plt.subplots(figsize=(10, 0.42 * len(keys) + 1.5))
    width = 0.8 / max(len(splits), 1)
    colours = {"dev": "#4f81bd", "test": "#c0504d"}
    for i, (split, data) in enumerate(sorted(splits.items(), key=lambda kv: kv[0] == "test")):
        ys = [y + i * width for y in range(len(keys))]
        ax.barh(ys, [_mean(data, k) or 0.0 for k in keys], height=width, label=SPLIT_LABELS.get(split, split),
                color=colours.get(split, "#9bbb59"))
    ax.set_yticks([y + width * (len(splits) - 1) / 2 for y in range(len(keys))], [LABELS[k] for k in keys], fontsize=8)
    ax.set_xlim(0, 1)
    ax.invert_yaxis()
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title("Alla mått, utvecklingsdelen och testdelen")
    fig.tight_layout()
    fig.savefig(out / "matt.png", dpi=110)
    plt.close(fig)
    written.append(("matt.png", "Alla mått per del. Kortare staplar är sämre, utom för de två andelarna felaktiga beslut."))

    cov = ("coverage.dimension_recall", "coverage.key_point_recall", "coverage.expected_question")
    fig, ax = plt.subplots(figsize=(9, 4))
    groups = [(s, k) for s in sorted(splits, key=lambda s: s == "test") for k in cov if _mean(splits[s], k) is not None]
    for i, (split, key) in enumerate(groups):
        name = key.split(".", 1)[1]
        values = [_mean(splits[split], key), _mean(splits[split], f"baseline.random.{name}"),
                  _mean(splits[split], f"baseline.constant.{name}")]
        for j, (v, c) in enumerate(zip(values, ("#4f81bd", "#bfbfbf", "#7f7f7f"))):
            ax.bar(i * 4 + j, v or 0.0, color=c, label=("Assistenten", "Slumpade frågor", "Samma sex frågor")[j] if i == 0 else None)
    short = {"coverage.dimension_recall": "Dimensioner", "coverage.key_point_recall": "Nyckelpunkter",
             "coverage.expected_question": "Förväntad fråga"}
    ax.set_xticks([i * 4 + 1 for i in range(len(groups))], [f"{short[k]} ({s})" for s, k in groups], fontsize=8)
    ax.set_ylim(0, 1)
    if groups:
        ax.legend(fontsize=8)
    ax.set_title("Täckning jämfört med slump och fast checklista")
    fig.tight_layout()
    fig.savefig(out / "tackning.png", dpi=110)
    plt.close(fig)
    written.append(("tackning.png", "Frågornas täckning jämfört med slumpade frågor och samma sex frågor varje gång."))

    for split, data in splits.items():
        matrix = data.get("confusion") or {}
        if not matrix:
            continue
        rows = list(matrix)
        cols = list(KIND_LABELS)
        fig, ax = plt.subplots(figsize=(6.5, 0.5 * len(rows) + 1.8))
        grid = [[matrix[r].get(c, 0) for c in cols] for r in rows]
        ax.imshow(grid, cmap="Blues")
        for y, row in enumerate(grid):
            for x, v in enumerate(row):
                ax.text(x, y, str(v), ha="center", va="center", fontsize=9)
        ax.set_xticks(range(len(cols)), [KIND_LABELS[c] for c in cols], fontsize=8, rotation=20)
        ax.set_yticks(range(len(rows)), [KIND_LABELS[r] for r in rows], fontsize=8)
        ax.set_xlabel("Så förstod assistenten meddelandet")
        ax.set_ylabel("Förväntat")
        ax.set_title(f"Sorts meddelande – {split}")
        fig.tight_layout()
        name = f"meddelanden-{split}.png"
        fig.savefig(out / name, dpi=110)
        plt.close(fig)
        written.append((name, f"Hur meddelandena i {split}-delen förstods (rader: förväntat, kolumner: assistentens tolkning)."))
    return written


def _table(split: dict) -> list[str]:
    sets = split["by_set"]
    lines = ["| Mått | Alla | " + " | ".join(SET_LABELS.get(s, s) for s in sets) + " |",
             "|---|---|" + "---|" * len(sets)]
    for key in METRIC_KEYS + tuple(k for k in split if k.startswith("baseline.")):
        if _mean(split, key) is None:
            continue
        label = LABELS.get(key) or _baseline_label(key)
        lines.append(f"| {label} | {_fmt(split.get(key))} | " + " | ".join(_fmt(sets[s].get(key)) for s in sets) + " |")
    return lines


def _baseline_label(key: str) -> str:
    _, kind, name = key.split(".", 2)
    return f"Jämförelse, {'slumpade frågor' if kind == 'random' else 'samma sex frågor'}: {LABELS['coverage.' + name].lower()}"


def render_llm(llm: dict[str, Any]) -> list[str]:
    """The language model's figures, beside the offline ones (only when an LLM was configured)."""
    kept = _pct(llm["kept_share"]) if llm.get("kept_share") is not None else "–"
    lat = llm["latency"]
    return [
        "### Språkmodellen",
        "",
        f"- Svar som gick till modellen: {llm['cases']}; reservsvar (offline) i {_pct(llm['fallback_rate'])}.",
        f"- Modellens meningar som behölls efter kontrollen: {kept} ({llm['model_sentences'] - llm['removed_sentences']} "
        f"av {llm['model_sentences']}).",
        f"- Visade meningar utan stöd i sina källor: {llm['unsupported_shown']} av {llm['shown_sentences']} "
        f"(oberoende kontroll av tal, länkar och HTML: {llm['cross_check']}).",
        f"- Svarstid med modell: median {lat['p50'] * 1000:.0f} ms, 95:e percentilen {lat['p95'] * 1000:.0f} ms.",
    ]


def render_details(results: dict[str, Any], gold: str) -> str:
    lines = ["## Detaljer", "",
             f"Guldmängd: `{gold}`, {results['n']} fall, alla genom samma `Pipeline.ask` som appen använder. "
             "Medelvärden med 95 % bootstrapintervall (1 000 omdragningar, fast frö) och antal fall som måttet gäller.", ""]
    if results.get("latency", {}).get("p50") is not None:
        lat = results["latency"]
        lines += [f"Svarstid per fall: median {lat['p50'] * 1000:.0f} ms, 95:e percentilen {lat['p95'] * 1000:.0f} ms.", ""]
    if results.get("llm"):
        lines += render_llm(results["llm"]) + [""]
    if results.get("constant_questions"):
        lines += ["Jämförelsen ”samma sex frågor” använder: " + ", ".join(results["constant_questions"]) + ".", ""]
    for split in sorted(results["splits"], key=lambda s: s == "test"):
        data = results["splits"][split]
        lines += [f"### {SPLIT_LABELS.get(split, split)}", ""] + _table(data) + [""]
        cons = data.get("consistency") or {}
        if cons:
            lines += ["Samstämmighet mellan original och variant (samma sorts svar, samma beslut, minst 4 av samma 6 frågor):", ""]
            lines += [f"- {VARIANT_LABELS.get(s, s)}: {_pct(c['mean'])} (n={c['n']})" for s, c in cons.items()]
            lines.append("")
        injections = [c for c in results["cases"] if c["split"] == split and c["set"] == "injections"]
        if injections:
            ordinary = [c for c in injections if not c.get("variant") and c["kind"] != "out_of_scope"]
            injected = [c for c in injections if c not in ordinary]
            share = lambda cs: sum(c["answer"].get("instruction_noted", False) for c in cs) / len(cs) if cs else 0.0  # noqa: E731
            lines += [f"Instruktioner i meddelanden: svaret säger att en instruktion ignorerades för {_pct(share(injected))} "
                      f"av meddelandena med en verklig instruktion (n={len(injected)}) och för {_pct(share(ordinary))} av de "
                      f"vanliga som bara liknar instruktioner (n={len(ordinary)}, falsklarm).", ""]
        matrix = data.get("confusion") or {}
        if matrix:
            cols = list(KIND_LABELS)
            lines += ["Sorts meddelande (rader: förväntat, kolumner: assistentens tolkning):", "",
                      "| Förväntat | " + " | ".join(KIND_LABELS[c] for c in cols) + " |", "|---|" + "---|" * len(cols)]
            lines += [f"| {KIND_LABELS[r]} | " + " | ".join(str(row.get(c, 0)) for c in cols) + " |" for r, row in matrix.items()]
            lines.append("")
        dims = data.get("by_dimension") or {}
        if dims:
            lines += ["| Dimension | Andel initiativ med fråga från den | Fall |", "|---|---|---|"]
            lines += [f"| {d} | {_pct(v['mean'])} | {v['n']} |" for d, v in dims.items()]
            lines.append("")
        lines += ["Svagaste fallen:", ""]
        for score, case in weakest_cases([c for c in results["cases"] if c["split"] == split], 10):
            lines.append(f"- `{case['id']}` ({SET_LABELS.get(case['set'], case['set'])}, {_pct(score)}): "
                         f"”{case['message'][:200]}” – {_why_weak(case)}")
        lines.append("")
    return "\n".join(lines) + "\n"


def render_plots(plots: list[tuple[str, str]]) -> str:
    lines = ["## Diagram", ""]
    for name, caption in plots:
        lines += [f"![{caption}]({name})", "", f"*{caption}*", ""]
    return "\n".join(lines)


def write_report(results: dict[str, Any], out: Path, gold: str, previous: dict | None = None) -> None:
    out.mkdir(parents=True, exist_ok=True)
    plots = write_plots(results, out)
    summary = render_summary(results, previous)
    details = render_details(results, gold)
    # The app shows summary.md and details.md as text and the plots as images with their captions (plots.txt),
    # so it never renders a Markdown image link it cannot resolve.
    (out / "summary.md").write_text(summary, encoding="utf-8")
    (out / "details.md").write_text(details, encoding="utf-8")
    (out / "plots.txt").write_text("\n".join(f"{n}\t{c}" for n, c in plots) + "\n", encoding="utf-8")
    body = "# Utvärdering av Rätt frågor\n\n" + summary + "\n" + details + "\n" + render_plots(plots)
    (out / "report.md").write_text(body, encoding="utf-8")
