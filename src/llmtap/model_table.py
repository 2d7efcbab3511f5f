"""llmtap's model table: prices, limits and capabilities, one JSON file per provider.

The files live in data/models/ (their sources and date are in the README there). They are read
on first use, never at import: ``import llmtap`` costs nothing for them. Each file maps a model
name, as the peer spells it (``gpt-4o``, ``groq/llama-3.3-70b-versatile``), to its row; rows use
the peer's field names so ``llmtap.model_cost`` reads like ``litellm.model_cost``. Files are
merged in name order and ``_curated.json`` last: its fields override (and complete) the row of
the same name, so a hand-written correction wins.
"""

from __future__ import annotations

import json
from typing import Any

CURATED = "_curated.json"


def load() -> dict[str, dict[str, Any]]:
    from importlib import resources

    folder = resources.files("llmtap").joinpath("data/models")
    names = sorted(entry.name for entry in folder.iterdir() if entry.name.endswith(".json"))
    if CURATED in names:
        names.remove(CURATED)
        names.append(CURATED)
    table: dict[str, dict[str, Any]] = {}
    for name in names:
        rows = json.loads(folder.joinpath(name).read_text("utf-8"))
        for model, row in rows.items():
            if isinstance(row, dict) and not model.startswith("_"):
                # a curated row corrects or completes the generated one; other files add rows
                table[model] = {**table.get(model, {}), **row} if name == CURATED else row
    return table
