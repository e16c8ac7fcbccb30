#!/usr/bin/env bash
# Calling a 1,000-sample VCF restricted to the pharmacogenes (every defined position, random
# allele pairs): samples per second of `medtwin pgx call`, best of 3. Usage:
# bench/pgx_call.sh [SAMPLES] [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000}
BIN=${2:-build}/medtwin
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
python3 bench/pgx_vcf.py "$N" "$WORK/in.vcf"
echo "VCF: $N samples, $(grep -vc '^#' "$WORK/in.vcf") positions, $(du -h "$WORK/in.vcf" | cut -f1)"
best=999999
for i in 1 2 3; do
  start=$(date +%s.%N)
  "$BIN" pgx call --vcf "$WORK/in.vcf" --out "$WORK/calls.json" 2>/dev/null
  end=$(date +%s.%N)
  t=$(echo "$end - $start" | bc -l)
  best=$(echo "if ($t < $best) $t else $best" | bc -l)
done
called=$(python3 -c "import json;d=json.load(open('$WORK/calls.json'));print(sum(g['called'] for s in d['samples'] for g in s['genes'].values()), sum(len(s['genes']) for s in d['samples']))")
printf 'medtwin pgx call: %d samples in %.3f s (best of 3, wall, with JSON output) = %.0f samples/s; gene calls made: %s\n' \
  "$N" "$best" "$(echo "$N / $best" | bc -l)" "$called"
