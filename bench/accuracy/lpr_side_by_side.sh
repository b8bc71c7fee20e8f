#!/usr/bin/env bash
# Two builds' plate time on the same photos, side by side: each binary (bench/accuracy's
# lpr_accuracy of two builds, e.g. this one and a previous commit's) is run in turn ROUNDS
# times on the us photos of PART, one core; each photo's fastest run counts (the others
# met load from elsewhere); the mean over the photos of 1280x720 or less is printed.
#
#   bench/accuracy/lpr_side_by_side.sh ROUNDS PART LPR_ACCURACY...
#   e.g. bench/accuracy/lpr_side_by_side.sh 3 held-out ../old/build/bench/lpr_accuracy \
#            build/bench/lpr_accuracy
set -euo pipefail
rounds=$1 part=$2
shift 2
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for r in $(seq "$rounds"); do
  i=0
  for bin in "$@"; do
    # "us NAME PLATE iou=.. RESULT [enh] Nms WxH ... total=N": photo, pixels, total ms.
    OMP_THREAD_LIMIT=1 "$bin" --set us --part "$part" --verbose 2>/dev/null |
      awk '$1 == "us" && $2 !~ /:$/ {
             px = 0; t = -1
             for (k = 1; k <= NF; ++k) {
               if ($k ~ /^[0-9]+x[0-9]+$/) { split($k, d, "x"); px = d[1] * d[2] }
               if ($k ~ /^total=/) t = substr($k, 7)
             }
             if (t >= 0) print $2, px, t }' >"$out/$i.$r"
    i=$((i + 1))
  done
done
# A photo's size comes from whichever build prints it (older builds' --verbose lacks it).
cat "$out"/* | awk '$2 > 0 { print $1, $2 }' | sort -u >"$out/sizes"
[ -s "$out/sizes" ] || { echo "no build printed the photos' sizes" >&2; exit 1; }
i=0
for bin in "$@"; do
  cat "$out/$i".* | awk -v name="$bin" -v sizes="$out/sizes" '
    BEGIN { while ((getline line < sizes) > 0) { split(line, f, " "); px[f[1]] = f[2] } }
    ($1 in px) && px[$1] <= 1280 * 720 { if (!($1 in best) || $3 < best[$1]) best[$1] = $3 }
    END { n = 0; s = 0; for (k in best) { s += best[k]; ++n }
          printf "%s: %d photos <= 1280x720, mean of each photo'"'"'s fastest run %.1f ms\n", name, n, s / n }'
  i=$((i + 1))
done
