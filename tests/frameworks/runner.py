"""Run one framework's scenarios in THIS interpreter (a framework virtualenv) and print JSON.

    python runner.py <framework> <llmtap|peer>

``llmtap``: ``llmtap.install_as_litellm()`` runs before the framework is imported, so the
framework's ``import litellm`` gets llmtap. ``peer``: the real litellm the framework installed.
Either way the provider is llmtap's emulator (started here, real sockets), and each scenario
returns the facts the test compares between the two modes.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import traceback

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")


def main() -> None:
    framework, mode = sys.argv[1], sys.argv[2]
    if mode == "llmtap":
        import llmtap

        llmtap.install_as_litellm()
    from llmtap.testing import Emulator

    with Emulator() as emu:
        os.environ["OPENAI_API_KEY"] = "sk-framework-test"
        os.environ["OPENAI_BASE_URL"] = os.environ["OPENAI_API_BASE"] = emu.openai_base
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        module = importlib.import_module(f"scenarios_{framework}")
        if mode == "llmtap":
            litellm = sys.modules.get("litellm")
            assert litellm is not None and litellm.__name__ == "llmtap", "litellm is not llmtap"
        results = {}
        for name, scenario in module.SCENARIOS.items():
            emu.clear()
            try:
                facts = scenario(emu)
                results[name] = {"ok": True, "facts": facts, "requests": len(emu.requests)}
            except BaseException as exc:  # noqa: BLE001 - the report is the point
                results[name] = {
                    "ok": False,
                    "error": f"{type(exc).__module__}.{type(exc).__name__}: {exc}"[:2000],
                    "traceback": traceback.format_exc()[-4000:],
                    "requests": len(emu.requests),
                }
    print("@@RESULTS@@" + json.dumps(results, default=repr))


if __name__ == "__main__":
    main()
