#!/usr/bin/env bash
# A long fuzzing run of every libFuzzer target in tests/fuzz/ (the Authorization parser, the
# query and header canonicalisers, the SigV4 verifier, the multipart and JSON body parsers),
# under ASan, UBSan and leak detection, with corpora kept between runs so each run starts
# where the last one stopped. scripts/test runs the same targets for seconds; this is the
# run to leave going for a while.
#
#   bench/fuzz/run-long.sh [SECONDS_PER_TARGET=600] [TARGET...]
#
# Corpora live in build-fuzz/corpus/TARGET; crashes in build-fuzz/fuzz/artifacts/. Prints,
# per target, the executions done and the corpus size; exits non-zero on the first finding.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
seconds="${1:-600}"
shift || true
export SCANLINE_FUZZ_CORPUS="$root/build-fuzz/corpus"
mkdir -p "$SCANLINE_FUZZ_CORPUS"
start=$(date +%s)
"$root/tests/fuzz/run.sh" "$seconds" "$@"
echo "corpus sizes after $(( $(date +%s) - start )) s:"
for dir in "$SCANLINE_FUZZ_CORPUS"/*/; do
  printf '  %-24s %6d inputs\n' "$(basename "$dir")" "$(ls "$dir" | wc -l)"
done
