"""The ``llmtap`` command: ``demo`` (offline, against the built-in emulator), ``chat`` (a real
provider, streamed to the terminal) and ``emulator`` (serve the provider emulator)."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="llmtap", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("demo", help="a tour of llmtap against the built-in emulator; no keys, no network")
    chat = commands.add_parser("chat", help="send one prompt and stream the answer")
    chat.add_argument("prompt")
    chat.add_argument("-m", "--model", required=True, help="e.g. gpt-4o-mini or azure/my-deployment")
    chat.add_argument("-s", "--system", help="a system message")
    chat.add_argument("--api-base", help="an OpenAI-compatible server's base URL")
    emulator = commands.add_parser("emulator", help="serve the provider emulator until Ctrl-C")
    emulator.add_argument("--host", default="127.0.0.1")
    emulator.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)

    if args.command == "demo":
        from .demo import run

        return run()
    if args.command == "emulator":
        from .testing import serve

        serve(args.host, args.port)
        return 0
    return _chat(args)


def _chat(args: argparse.Namespace) -> int:
    import llmtap

    messages = [{"role": "system", "content": args.system}] if args.system else []
    messages.append({"role": "user", "content": args.prompt})
    extra = {"api_base": args.api_base} if args.api_base else {}
    try:
        for chunk in llmtap.completion(model=args.model, messages=messages, stream=True, **extra):
            if chunk.choices and chunk.choices[0].delta.content:
                sys.stdout.write(chunk.choices[0].delta.content)
                sys.stdout.flush()
    except llmtap.OpenAIError as exc:
        print(f"\n{exc}", file=sys.stderr)
        return 1
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
