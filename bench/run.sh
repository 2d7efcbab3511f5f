#!/usr/bin/env bash
# Set up the peers' environment (once) and run the whole benchmark suite; rewrites the results
# section of BENCHMARKS.md. Not part of the tests. About 5 minutes on a 2-core machine.
set -euo pipefail
cd "$(dirname "$0")/.."
bash bench/setup.sh
bench/.peers/bin/python bench/run.py --write
