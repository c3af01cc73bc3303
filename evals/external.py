"""Gold cases read in place from a data set that lives outside the project.

An `*.external.yaml` file in a gold folder says where the data is and which
part of it belongs to the folder's split. The data itself is never copied into
the project (SweFAQ is CC BY 4.0 from Språkbanken Text and is laid beside the
checkout in `../shared`). Example:

    format: swefaq                        # the only format so far
    path: ../shared/data/swefaq/swefaq_dev.jsonl   # relative to the project root
    take: even                            # even | odd: which lines (0-based) this split gets
    kind: out_of_scope
    expect_refusal: true
    id_prefix: swefaq
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml

from evals.gold import GoldCase, GoldError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
_TAKE = {"even": 0, "odd": 1, "all": None}


def read_external(spec_file: Path, split: str | None) -> list[GoldCase]:
    try:
        spec = yaml.safe_load(spec_file.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise GoldError(f"{spec_file.name}: ogiltig YAML ({exc})") from exc
    if spec.get("format") != "swefaq":
        raise GoldError(f"{spec_file.name}: okänt format {spec.get('format')!r}; bara 'swefaq' stöds")
    take = spec.get("take", "all")
    if take not in _TAKE:
        raise GoldError(f"{spec_file.name}: take måste vara even, odd eller all, fick {take!r}")
    path = (PROJECT_ROOT / str(spec.get("path", ""))).resolve()
    if not path.is_file():
        print(f"Varning: {spec_file.name} pekar på {path}, som inte finns; den mängden hoppas över.", file=sys.stderr)
        return []
    parity = _TAKE[take]
    prefix = str(spec.get("id_prefix", "extern"))
    cases = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
        if not line.strip() or (parity is not None and lineno % 2 != parity):
            continue
        item = json.loads(line)
        cases.append(GoldCase(
            id=f"{prefix}-{lineno:03d}",
            kind=str(spec.get("kind", "out_of_scope")),
            message=str(item["question"]),
            expect_refusal=spec.get("expect_refusal"),
            origin=f"SweFAQ 2.0 dev (Språkbanken Text, CC BY 4.0), rad {lineno + 1}, kategori {item.get('category_id')}",
        ))
    return cases
