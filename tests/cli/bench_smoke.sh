#!/usr/bin/env bash
# esm bench end to end on the cpu backend with a tiny policy: the JSON report holds what the
# dataset and the reports rely on, and bad input exits 2 with one line on stderr.
# Asserts on structure and arithmetic only, never on how fast this machine is.
set -u
esm=${1:?usage: bench_smoke.sh PATH/TO/esm}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
arch='ofa-mbv3:w1.0:r128:d=2,2,2,2,2:k=3,3-3,3-3,3-3,3-3,3:e=3,3-3,3-3,3-3,3-3,3'
fails=0

expect_usage() {
  local token=$1; shift
  "$esm" bench "$@" >"$work/stdout" 2>"$work/stderr"
  local rc=$?
  if [[ $rc -ne 2 || $(wc -l <"$work/stderr") -ne 1 || -s $work/stdout ]] || ! grep -qF -- "$token" "$work/stderr"; then
    echo "FAIL: esm bench $* -> rc=$rc: $(head -c 300 "$work/stderr")"
    fails=$((fails + 1))
  fi
}

expect_usage "frobnicate" --arch "$arch" --backend frobnicate
expect_usage "reps" --arch "$arch" --reps 0
expect_usage "warmup_ms" --arch "$arch" --warmup-ms -1
expect_usage "interleaved" --arch "$arch" --mode interleaved
expect_usage "normalized" --arch "$arch" --mode normalized
expect_usage "batch" --arch "$arch" --batch 0

for mode in plain normalised; do
  if ! "$esm" bench --arch "$arch" --backend cpu --threads 1 --reps 7 --warmup-runs 2 --warmup-ms 0 --mode $mode --json \
      >"$work/out.json" 2>"$work/stderr"; then
    echo "FAIL: esm bench --mode $mode: $(head -c 300 "$work/stderr")"
    fails=$((fails + 1))
    continue
  fi
  if ! python3 - "$work/out.json" "$mode" <<'PY'
import json, math, sys
d = json.load(open(sys.argv[1]))
mode = sys.argv[2]
s = d["stats"]
assert d["backend"]["name"] == "cpu" and d["backend"]["version"].startswith("oneDNN"), d["backend"]
assert d["mode"] == mode and "reps=7 warmup>=2runs/0ms trim=0.2 drift=off" in d["policy"], d["policy"]
assert len(d["samples_ms"]) == 7 and s["n"] == 7 and s["trimmed_n"] == 5, s  # 7 * 0.2 = 1.4 -> drop 1 each side
kept = sorted(d["samples_ms"])[1:-1]
assert math.isclose(s["trimmed_mean_ms"], sum(kept) / 5, rel_tol=1e-12), s
assert s["min_ms"] <= s["p10_ms"] <= s["median_ms"] <= s["p90_ms"] <= s["max_ms"], s
assert d["warmup"]["runs"] == 2
# The kernels that ran, one per primitive but reorders, each named with its ISA and IR layer.
k = d["algorithms"]
assert k and all(a["name"] and ":" in a["name"] and a["layer"] >= 0 for a in k), k
assert k[0]["name"] in d["backend"]["description"], d["backend"]
assert ", ISA " in d["backend"]["version"], d["backend"]
h = d["harness"]
assert 0 < h["efficiency"] <= 1 and h["wall_ms"] >= h["measure_wall_ms"], h
if mode == "plain":
    assert d["reference"] is None
else:
    r = d["reference"]
    assert math.isclose(r["ms"], (r["before_ms"] + r["after_ms"]) / 2, rel_tol=1e-12), r
    assert math.isclose(r["normalised"], s["trimmed_mean_ms"] / r["ms"], rel_tol=1e-12), r
PY
  then
    echo "FAIL: esm bench --mode $mode wrote an unexpected report"
    fails=$((fails + 1))
  fi
done

[[ $fails -eq 0 ]] && echo "bench smoke: ok"
exit $((fails > 0))
