#!/usr/bin/env bash
# Runs the x509-limbo path-validation suite through pkirun's verifier (benches/limbo.rs) and
# prints agreement with the expected results by category, with `openssl verify` beside it.
#
#   bash benches/limbo.sh [limbo.json]
#
# Without an argument, limbo.json is built once under $LIMBO_HOME (default /work/limbo,
# outside this repository) by limbo's own Python generator: $LIMBO_HOME/src must hold a
# checkout of https://github.com/C2SP/x509-limbo (cloned if absent); its Python dependencies go
# into the venv $LIMBO_HOME/venv. The BetterTLS cases are included when the checkout has their
# asset (limbo/_assets/bettertls.json, a large file some snapshots lack). The report is also
# written to target/limbo-report.md.
set -euo pipefail
cd "$(dirname "$0")/.."

home=${LIMBO_HOME:-/work/limbo}
json=${1:-$home/limbo.json}

if [ ! -s "$json" ]; then
  if [ ! -d "$home/src/limbo" ]; then
    git clone --depth 1 https://github.com/C2SP/x509-limbo "$home/src"
  fi
  if [ ! -x "$home/venv/bin/python" ]; then
    python3 -m venv "$home/venv"
    # The generator's own dependencies (not those of limbo's certvalidator harness).
    "$home/venv/bin/pip" install -q "pydantic~=2.13" "cryptography~=46.0" "pyyaml~=6.0" \
      pyOpenSSL certifi "requests~=2.33" Jinja2
    "$home/venv/bin/pip" install -q --no-deps -e "$home/src"
  fi
  # `limbo compile`, minus the BetterTLS cases when their asset is absent.
  "$home/venv/bin/python" - "$json" <<'PY'
import sys
from limbo import testcases
from limbo.assets import ASSETS_PATH
from limbo.models import Limbo
from limbo.testcases import bettertls, online

if (ASSETS_PATH / "bettertls.json").exists():
    bettertls.register_testcases()
else:
    print("limbo.sh: no bettertls.json asset: BetterTLS cases left out", file=sys.stderr)
online.register_testcases()
cases = [build() for _, build in testcases.registry.items()]
with open(sys.argv[1], "w") as out:
    out.write(Limbo(version=1, testcases=cases).model_dump_json(indent=2))
print(f"limbo.sh: {len(cases)} testcases in {sys.argv[1]}", file=sys.stderr)
PY
fi

mkdir -p target
# The dev profile: the suite takes seconds, and this machine builds no release binaries.
LIMBO_OPENSSL=${LIMBO_OPENSSL:-1} LIMBO_JSON="$json" \
  cargo bench --profile dev --bench limbo | tee target/limbo-report.md
