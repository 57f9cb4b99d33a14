#!/usr/bin/env bash
# Bad input to `esm`: each case must exit 2, print exactly one line on stderr that names the
# offending token, print nothing on stdout, and leave an existing --out file byte-identical.
set -u
esm=${1:?usage: bad_inputs.sh PATH/TO/esm}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf 'keep me\n' > "$work/existing.txt"
cp "$work/existing.txt" "$work/original.txt"

good_mbv3='ofa-mbv3:w1.0:r192:d=2,2,2,2,2:k=3,3-3,3-3,3-3,3-3,3:e=3,3-3,3-3,3-3,3-3,3'
fails=0 cases=0

# expect TOKEN ARGS...: the error line must contain TOKEN.
expect() {
  local token=$1; shift
  cases=$((cases + 1))
  "$esm" "$@" >"$work/stdout" 2>"$work/stderr"
  local rc=$? lines
  lines=$(wc -l <"$work/stderr")
  if [[ $rc -ne 2 || $lines -ne 1 || -s $work/stdout ]] || ! grep -qF -- "$token" "$work/stderr"; then
    echo "FAIL: esm $* -> rc=$rc, stderr lines=$lines: $(head -c 300 "$work/stderr")"
    fails=$((fails + 1))
  fi
  if ! cmp -s "$work/existing.txt" "$work/original.txt"; then
    echo "FAIL: esm $* modified an existing output file"
    fails=$((fails + 1))
    cp "$work/original.txt" "$work/existing.txt"
  fi
  if compgen -G "$work/existing.txt.tmp*" >/dev/null; then
    echo "FAIL: esm $* left a temporary file"
    fails=$((fails + 1))
  fi
}

expect "frobnicate" frobnicate
expect "nasbench" sample --space nasbench --count 3
expect "space" sample --count 3
expect "count" sample --space ofa-mbv3 --count 0
expect "-5" sample --space ofa-mbv3 --count -5
expect "count" sample --space ofa-mbv3 --count abc
expect "random" sample --space ofa-mbv3 --count 3 --policy random
expect "w2.0" sample --space ofa-mbv3 --count 3 --width w2.0
expect "w1.2" sample --space ofa-resnet50 --count 3 --width w1.2
expect "130" sample --space ofa-mbv3 --count 3 --resolution 130
expect "300" sample --space ofa-mbv3 --count 3 --resolution 300
expect "bin-weights" sample --space ofa-mbv3 --count 3 --policy weighted
expect "10:x" sample --space ofa-mbv3 --count 3 --policy weighted --bin-weights 10:x
expect "99" sample --space ofa-mbv3 --count 3 --policy weighted --bin-weights 99:1
expect "bogus" sample --space ofa-mbv3 --count 3 --bogus
expect "seed" sample --space ofa-mbv3 --count 3 --seed -1
expect "nasbench" sample --space nasbench --count 3 --out "$work/existing.txt"
expect "w9" sample --space ofa-mbv3 --count 3 --width w9 --out "$work/existing.txt"
expect "/no/such/dir" sample --space ofa-mbv3 --count 3 --out /no/such/dir/list.txt
expect "garbage" describe --arch garbage
expect "mobilenet" describe --arch mobilenet:w1.0
expect "9" describe --arch "${good_mbv3/k=3,3-/k=3,9-}"
expect "5" describe --arch "${good_mbv3/e=3,3-/e=3,5-}"
expect "stage 1" describe --arch "${good_mbv3/k=3,3-/k=3,3,3-}"
expect "5" describe --arch "${good_mbv3/d=2,2,2,2,2/d=2,2,2,2,5}"
expect "129" describe --arch "${good_mbv3/r192/r129}"
expect "256" describe --arch "${good_mbv3/r192/r256}"
expect "0192" describe --arch "${good_mbv3/r192/r0192}"
expect "q=3" describe --arch "${good_mbv3/k=/q=}"
expect "batch" describe --arch "$good_mbv3" --batch 0
expect "batch" describe --arch "$good_mbv3" --batch many
expect "1" describe --arch "ofa-resnet50:r192:d=1,0,0,0,0:w=0,0,0,0,0,0:e=20,20-20,20-20,20,20,20-20,20"
expect "3" describe --arch "ofa-resnet50:r192:d=0,0,0,0,0:w=0,0,3,0,0,0:e=20,20-20,20-20,20,20,20-20,20"
expect "30" describe --arch "ofa-resnet50:r192:d=0,0,0,0,0:w=0,0,0,0,0,0:e=20,20-20,20-20,20,20,30-20,20"
expect "33" describe --arch "densenet:r192:d=6,12,24,16:g=32,32,33,32:b=4"
expect "block 1" describe --arch "densenet:r192:d=4,8,24,16:g=32,32,32,32:b=4,4,4-4-4-4"
expect "garbage" describe --arch garbage --out "$work/existing.txt"

# A good command still works and writes its output atomically.
"$esm" sample --space ofa-mbv3 --count 5 --out "$work/existing.txt" || { echo "FAIL: good sample"; fails=$((fails + 1)); }
[[ $(wc -l <"$work/existing.txt") -eq 5 ]] || { echo "FAIL: good sample wrote $(wc -l <"$work/existing.txt") lines"; fails=$((fails + 1)); }

echo "bad_inputs: $cases cases, $fails failures"
[[ $fails -eq 0 ]]
