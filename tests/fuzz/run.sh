#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz/ with clang (ASan + UBSan) in build-fuzz/ and runs
# each for a while, starting from a seed corpus written at run time.
#
#   tests/fuzz/run.sh [SECONDS_PER_TARGET=20] [TARGET...]
#   SCANLINE_FUZZ_CORPUS=DIR tests/fuzz/run.sh ...   keeps the corpora in DIR/TARGET
#
# Exits non-zero on the first crash, leak or sanitizer report; the reproducer is left in
# build-fuzz/fuzz/artifacts/. To add a target: tests/fuzz/NAME_fuzzer.cc, and optionally a
# seed_NAME_fuzzer function below that writes seed inputs into the directory given as $1.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
seconds="${1:-20}"
shift || true
build="$root/build-fuzz"
suite="$root/../shared/data/sigv4/aws-sig-v4-test-suite.json"

# Seeds from the AWS SigV4 test suite, when it is there.
suite_seeds() {  # $1 dir, $2 python expression over a case `t` giving the seed text
  [[ -f "$suite" ]] || return 0
  python3 - "$suite" "$1" "$2" <<'PY'
import json, sys
suite, out, expression = sys.argv[1:]
for i, t in enumerate(json.load(open(suite))["tests"]["all"]):
    with open(f"{out}/suite{i:02d}", "wb") as f:
        f.write(eval(expression).encode())
PY
}

seed_authorization_fuzzer() {
  suite_seeds "$1" 't["authz"]'
  printf 'AWS4-HMAC-SHA256 Credential=SLK1/20240101/eu-west-1/scanline/aws4_request,SignedHeaders=content-type;host;x-amz-date,Signature=%064d' 0 >"$1/compact"
}

seed_canonical_fuzzer() {
  # FuzzedDataProvider strings end at a backslash followed by any byte.
  suite_seeds "$1" 't["request"]["query"] + "\\\\q" + t["request"]["path"] + "\\\\q" + "".join(h[0] + "\\\\q" + h[1] + "\\\\q\\x01" for h in t["request"]["headers"])'
  printf 'roi=1,2,3,4&lang=eng+deu&b=%%zz&&a\\q/v1/./ocr//x/../y/\\qhost\\qexample.com\\q\x01x-a\\q  a   b \\q\x01' >"$1/handmade"
}

seed_sigv4_verify_fuzzer() {
  suite_seeds "$1" 't["sreq"] + ("\n\n" + t["request"]["body"] if t["request"]["body"] else "")'
}

seed_multipart_fuzzer() {
  # The first line is the Content-Type, the rest the body.
  printf 'multipart/form-data; boundary=XyZ\n--XyZ\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n\x89PNG\r\n\x1a\n\0\0\r\n--XyZ\r\nContent-Disposition: form-data; name="lang"\r\n\r\neng\r\n--XyZ--\r\n' >"$1/two-parts"
  printf 'multipart/form-data; boundary="a b:c"\npreamble\r\n--a b:c\r\ncontent-disposition: form-data; name=image\r\n\r\nGIF89a\r\n--a b:c--' >"$1/quoted"
  printf 'application/json\n{"image":"iVBORw0KGgo=","lang":"eng"}' >"$1/json"
  printf 'image/png\n\x89PNG\r\n\x1a\n' >"$1/raw"
}

seed_image_header_fuzzer() {
  # 4x4 images from OpenCV (base64), and a BigTIFF header by hand.
  echo 'iVBORw0KGgoAAAANSUhEUgAAAAQAAAAECAIAAAAmkwkpAAAAJElEQVQIHTXBMQEAAAzCsGISkSiprF1LovKitgW2RW0LbIvKO6vND2UObtRMAAAAAElFTkSuQmCC' | base64 -d >"$1/png"
  echo '/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAIBAQEBAQIBAQECAgICAgQDAgICAgUEBAMEBgUGBgYFBgYGBwkIBgcJBwYGCAsICQoKCgoKBggLDAsKDAkKCgr/2wBDAQICAgICAgUDAwUKBwYHCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgr/wAARCAAEAAQDASIAAhEBAxEB/8QAHwAAAQUBAQEBAQEAAAAAAAAAAAECAwQFBgcICQoL/8QAtRAAAgEDAwIEAwUFBAQAAAF9AQIDAAQRBRIhMUEGE1FhByJxFDKBkaEII0KxwRVS0fAkM2JyggkKFhcYGRolJicoKSo0NTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWGh4iJipKTlJWWl5iZmqKjpKWmp6ipqrKztLW2t7i5usLDxMXGx8jJytLT1NXW19jZ2uHi4+Tl5ufo6erx8vP09fb3+Pn6/8QAHwEAAwEBAQEBAQEBAQAAAAAAAAECAwQFBgcICQoL/8QAtREAAgECBAQDBAcFBAQAAQJ3AAECAxEEBSExBhJBUQdhcRMiMoEIFEKRobHBCSMzUvAVYnLRChYkNOEl8RcYGRomJygpKjU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVmZ2hpanN0dXZ3eHl6goOEhYaHiImKkpOUlZaXmJmaoqOkpaanqKmqsrO0tba3uLm6wsPExcbHyMnK0tPU1dbX2Nna4uPk5ebn6Onq8vP09fb3+Pn6/9oADAMBAAIRAxEAPwD72+Fnws/4Vb/wkf8AxcfxX4j/AOEj8V3muf8AFVax9s/sv7Rs/wBBs/lXyLOPZ+7h52bm+Y5ooooA/9k=' | base64 -d >"$1/jpeg"
  echo 'SUkqACIAAACAMiBACCQWCwJkFaFQVVQ2EQorQyHQODQaAgwAAAEDAAEAAAAEAAAAAQEDAAEAAAAEAAAAAgEDAAMAAAC4AAAAAwEDAAEAAAAFAAAABgEDAAEAAAACAAAAEQEEAAEAAAAIAAAAFQEDAAEAAAADAAAAFgEDAAEAAAAEAAAAFwEEAAEAAAAaAAAAHAEDAAEAAAABAAAAPQEDAAEAAAACAAAAUwEDAAMAAAC+AAAAAAAAAAgACAAIAAEAAQABAA==' | base64 -d >"$1/tiff"
  echo 'UklGRjIAAABXRUJQVlA4ICYAAACQAQCdASoEAAQAAUAmJaQAAudZtgAA/tPr/+Nc//Gce/+O4AAAAA==' | base64 -d >"$1/webp-lossy"
  echo 'UklGRiQAAABXRUJQVlA4TBcAAAAvA8AAAA9wD9V7qN5Ddf4DD094iOh/JAA=' | base64 -d >"$1/webp-lossless"
  echo 'Qk1mAAAAAAAAADYAAAAoAAAABAAAAAQAAAABABgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAyMjIyMjIyMjIyMjIyMjIHh4eHh4eyMjIyMjIHh4eHh4eyMjIyMjIyMjIyMjIyMjI' | base64 -d >"$1/bmp"
  printf 'II+\x00\x08\x00\x00\x00\x10\x00\x00\x00\x00\x00\x00\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00\x01\x10\x00\x01\x00\x00\x00\x00\x00\x00\x00\x04\x00\x00\x00\x00\x00\x00\x00\x01\x01\x10\x00\x01\x00\x00\x00\x00\x00\x00\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00' >"$1/bigtiff"
}

seed_json_body_fuzzer() {
  printf '{"image":"iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==","lang":"eng","psm":6}' >"$1/png"
  printf '{"image":"data:image/png;base64,iVBO Rw0K\nGgo","profile":{"name":"A","dates":[1,2]},"ok":true}' >"$1/data-url"
  printf '{"image":"-_-_","x":null}' >"$1/urlsafe"
}

cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DSCANLINE_FUZZ=ON -DSCANLINE_BENCH=OFF >/dev/null
ninja -C "$build" -j2 fuzzers

targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
  for src in "$root"/tests/fuzz/*_fuzzer.cc; do targets+=("$(basename "$src" .cc)"); done
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$build/fuzz/artifacts"
for target in "${targets[@]}"; do
  # SCANLINE_FUZZ_CORPUS (a directory) keeps each target's corpus between runs (bench/fuzz).
  corpus="${SCANLINE_FUZZ_CORPUS:-$work}/$target"
  mkdir -p "$corpus"
  if declare -F "seed_$target" >/dev/null; then "seed_$target" "$corpus"; fi
  echo "== $target: ${seconds}s from $(ls "$corpus" | wc -l) seeds"
  "$build/fuzz/$target" "$corpus" -max_total_time="$seconds" -max_len=8192 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$build/fuzz/artifacts/$target-" 2>"$work/$target.log" \
    || { tail -60 "$work/$target.log"; echo "FAILED: $target"; exit 1; }
  grep -E '^stat::number_of_executed_units|^#[0-9]+.*DONE' "$work/$target.log" | tail -2
done
echo "fuzzing passed: ${targets[*]}"
