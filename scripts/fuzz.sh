#!/usr/bin/env bash
# libFuzzer runs of medtwin's parsers (token, observation JSON, events, FHIR resources, NDJSON)
# with ASan/UBSan, seeded from fuzz/corpus/<target>/ (read only: new inputs go to a scratch
# corpus). Usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]; the test suite runs each for
# a few seconds, a long run is e.g. scripts/fuzz.sh 3600. A crash leaves its input in
# build-fuzz/crashes/ and fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH="${1:-60}"
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(token observation event fhir ndjson vcf mqtt hl7)
if ! command -v clang++ >/dev/null; then
  echo "fuzz: clang++ is not installed (scripts/setup.sh installs it)" >&2
  exit 2
fi
cmake -S . -B build-fuzz -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DMEDTWIN_FUZZ=ON >/dev/null
cmake --build build-fuzz --target fuzz_all -j"$(nproc)" >/dev/null
mkdir -p build-fuzz/crashes
for t in "${TARGETS[@]}"; do
  scratch=$(mktemp -d)
  echo "fuzz: $t for ${SECONDS_EACH}s"
  status=0
  build-fuzz/fuzz_"$t" -max_total_time="$SECONDS_EACH" -max_len=4096 -timeout=10 \
    -artifact_prefix=build-fuzz/crashes/"$t"- -print_final_stats=1 "$scratch" fuzz/corpus/"$t" \
    >build-fuzz/"$t".log 2>&1 || status=$?
  grep -E "^(stat::number_of_executed_units|==[0-9]+==ERROR|SUMMARY)" build-fuzz/"$t".log || true
  rm -rf "$scratch"
  if [ "$status" -ne 0 ]; then
    echo "fuzz: $t FAILED (input in build-fuzz/crashes/)" >&2
    exit 1
  fi
done
echo "fuzz: no crash"
