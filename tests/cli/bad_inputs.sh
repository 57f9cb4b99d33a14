#!/usr/bin/env bash
# The bad-input corpus: runs every case of bad_inputs.table (its header documents the format)
# against fixtures made once here: a small real dataset (esm profile), a model trained on it
# (esm train), job configurations, and damaged copies of both. Each case must exit 2, print exactly
# one line on stderr ("esm: error: ..." containing the case's token), print nothing on stdout,
# leave every fixture byte-identical (sha256) and create no file (temporary files included).
#   bad_inputs.sh ESM MPIEXEC ESM_TEST_H5_SET_ATTRIBUTE
set -u
umask 022
esm=$(realpath "${1:?usage: bad_inputs.sh ESM MPIEXEC H5_SET_ATTRIBUTE}")
mpiexec=${2:?usage: bad_inputs.sh ESM MPIEXEC H5_SET_ATTRIBUTE}
set_attribute=$(realpath "${3:?usage: bad_inputs.sh ESM MPIEXEC H5_SET_ATTRIBUTE}")
here=$(cd "$(dirname "$0")" && pwd)
table=$here/bad_inputs.table
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1

work=$(mktemp -d /tmp/esm_bad_inputs.XXXXXX)
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
fx=$work/fx cwd=$work/cwd cap=$work/cap
mkdir -p "$fx" "$cwd" "$cap" "$work/bin"
chmod 755 "$work"  # uid 65534 must reach the fixtures and the binary (mktemp -d makes 700)
cp "$esm" "$work/bin/esm" && esm=$work/bin/esm
setup_fail() { echo "FAIL: fixture: $*"; exit 1; }

# ---- fixtures ------------------------------------------------------------------------------------
mbv3='ofa-mbv3:w1.0:r192:d=2,2,2,2,2:k=3,3-3,3-3,3-3,3-3,3:e=3,3-3,3-3,3-3,3-3,3'
resnet='ofa-resnet50:r192:d=0,0,0,0,0:w=0,0,0,0,0,0:e=20,20-20,20-20,20,20,20-20,20'
# The shipped quick-start job, made small: 8 archs, plain mode, 3 repetitions, one thread.
sed -e 's/^count = .*/count = 8/' -e 's/^mode = .*/mode = plain/' -e 's/^reps = .*/reps = 3/' -e 's/^warmup_runs = .*/warmup_runs = 1/' \
  -e 's/^warmup_ms = .*/warmup_ms = 0/' -e 's/^drift_every = .*/drift_every = 0/' -e 's/^threads = .*/threads = 1/' \
  -e "s|^path = .*|path = $fx/good.h5|" "$here/../../jobs/quickstart-cpu.ini" >"$fx/job.ini"
grep -qx 'count = 8' "$fx/job.ini" && grep -qx 'mode = plain' "$fx/job.ini" && grep -qx 'reps = 3' "$fx/job.ini" || setup_fail "jobs/quickstart-cpu.ini changed shape"
(cd "$cwd" && "$mpiexec" -n 1 "$esm" profile --config "$fx/job.ini" >"$cap/profile.log" 2>&1) ||
  setup_fail "esm profile: $(tail -3 "$cap/profile.log")"
(cd "$cwd" && "$esm" train --dataset "$fx/good.h5" --out "$fx/model.h5" --kinds ridge --folds 2 --members 1 \
  >"$cap/train.log" 2>&1) || setup_fail "esm train: $(tail -3 "$cap/train.log")"

sed 's/^count = 8$/&\nwidht = 3/' "$fx/job.ini" >"$fx/unknown_key.ini"
printf '[gpu]\nclock = 1400\n' | cat "$fx/job.ini" - >"$fx/unknown_section.ini"
printf '[loop]\nspeed = 3\n' | cat "$fx/job.ini" - >"$fx/unknown_loop_key.ini"
sed 's/^\[measure\]$/[measure/' "$fx/job.ini" >"$fx/malformed.ini"
: >"$fx/empty.ini"
: >"$fx/empty.h5"
printf 'not an HDF5 file\n' >"$fx/text.h5"
head -c $(($(stat -c %s "$fx/good.h5") / 2)) "$fx/good.h5" >"$fx/truncated.h5"
printf '%s\n%s\n' "$mbv3" "$resnet" >"$fx/archs_resnet.txt"
cp "$fx/good.h5" "$fx/newer.h5" && "$set_attribute" "$fx/newer.h5" schema_version int 4 || setup_fail newer.h5
cp "$fx/good.h5" "$fx/older.h5" && "$set_attribute" "$fx/older.h5" schema_version int 1 || setup_fail older.h5
cp "$fx/model.h5" "$fx/newer_model.h5" && "$set_attribute" "$fx/newer_model.h5" model_schema_version int 3 ||
  setup_fail newer_model.h5
cp "$fx/model.h5" "$fx/enc_model.h5" && "$set_attribute" "$fx/enc_model.h5" encoding text onehot ||
  setup_fail enc_model.h5
cp "$fx/model.h5" "$fx/space_model.h5" && "$set_attribute" "$fx/space_model.h5" space text nasbench ||
  setup_fail space_model.h5
cp "$fx/good.h5" "$fx/synthetic.h5" && "$set_attribute" "$fx/synthetic.h5" synthetic int 1 || setup_fail synthetic.h5
cp "$fx/good.h5" "$fx/bf16.h5" && "$set_attribute" "$fx/bf16.h5" precision text bf16 || setup_fail bf16.h5
# esm import: two OFA configs (JSON lines), a latency CSV for them, and one damaged copy per bad-input case.
ofa1='{"ks": [7, 5, 5, 5, 7, 7, 5, 7, 5, 7, 3, 7, 5, 3, 7, 3, 5, 3, 5, 3], "e": [6, 4, 4, 6, 6, 3, 4, 3, 3, 6, 3, 3, 3, 6, 3, 4, 6, 4, 3, 6], "d": [2, 2, 2, 2, 3], "r": 204}'
ofa2=${ofa1/204/208}
printf '%s\n%s\n' "$ofa1" "$ofa2" >"$fx/imp_archs.jsonl"
printf '%s\n%s\n' "$ofa1" "${ofa2/\"r\"/\"q\"}" >"$fx/imp_key.jsonl"
printf '%s\n%s\n' "$ofa1" "${ofa2/\[7, 5,/[5,}" >"$fx/imp_length.jsonl"
printf '%s\n%s\n' "$ofa1" "${ofa2/\[7, 5,/[4, 5,}" >"$fx/imp_outside.jsonl"
printf '%s\n%s\n' "$ofa1" "$ofa1" >"$fx/imp_dup.jsonl"
printf 'arch_index,gpu_ms\n1,2.5\n0,"1.5"\n' >"$fx/imp_lat.csv"
printf 'arch_index,gpu_ms\n0,1.5\n1,-2.5\n' >"$fx/imp_negative.csv"
printf 'arch_index,gpu_ms\n0,1.5\n1,fast\n' >"$fx/imp_text.csv"
printf 'arch_index,gpu_ms\n0,1.5\n' >"$fx/imp_short.csv"
printf 'arch_index,gpu_ms\n0,1.5\n0,2.5\n' >"$fx/imp_dupindex.csv"
printf 'arch_index,gpu_ms\n0,1.5\n1,"2.5\n' >"$fx/imp_quote.csv"
# esm profile's sample.policy = file: 3 archs of {ini}'s width and resolution, damaged copies, and a
# small synthetic dataset made from plan_changed.txt whose content then changes (--resume refuses it).
"$esm" sample --space ofa-mbv3 --count 4 --width w1.0 --resolution 128 --seed 1 --out "$fx/plan4.txt" || setup_fail plan4.txt
head -3 "$fx/plan4.txt" >"$fx/plan.txt"
{ head -1 "$fx/plan.txt"; echo 'ofa-mbv3:w1.0:r128:d=2,2'; } >"$fx/plan_malformed.txt"
{ head -1 "$fx/plan.txt"; echo "$resnet"; } >"$fx/plan_resnet.txt"
{ head -2 "$fx/plan.txt"; head -1 "$fx/plan.txt"; } >"$fx/plan_dup.txt"
cp "$fx/plan.txt" "$fx/plan_changed.txt"
(cd "$cwd" && "$mpiexec" -n 1 "$esm" profile --config "$fx/job.ini" --output "$fx/plan.h5" --backend.name=synthetic \
  --sample.policy=file --sample.file="$fx/plan_changed.txt" --sample.count=3 >"$cap/plan.log" 2>&1) ||
  setup_fail "esm profile (plan file): $(tail -3 "$cap/plan.log")"
{ head -2 "$fx/plan.txt"; tail -1 "$fx/plan4.txt"; } >"$fx/plan_changed.txt"  # 3 archs still, one other
cp "$fx/good.h5" "$fx/space.h5" && "$set_attribute" "$fx/space.h5" space text ofa-resnet50 || setup_fail space.h5
(cd "$cwd" && "$mpiexec" -n 1 "$esm" profile --config "$fx/job.ini" --sample.seed=5 --output "$fx/other.h5" \
  >"$cap/profile_other.log" 2>&1) || setup_fail "esm profile (other archs): $(tail -3 "$cap/profile_other.log")"
printf 'keep me\n' >"$fx/existing.txt"
mkdir "$fx/ro" && printf 'keep me too\n' >"$fx/ro/kept.txt" && chmod 555 "$fx/ro"

declare -A place=(
  [fx]=$fx [h5]=$fx/good.h5 [model]=$fx/model.h5 [ini]=$fx/job.ini [existing]=$fx/existing.txt [ro]=$fx/ro
  [empty]=$fx/empty.h5 [text]=$fx/text.h5 [truncated]=$fx/truncated.h5 [newer]=$fx/newer.h5 [older]=$fx/older.h5
  [newer_model]=$fx/newer_model.h5 [enc_model]=$fx/enc_model.h5 [space_model]=$fx/space_model.h5
  [archs_resnet]=$fx/archs_resnet.txt [mbv3]=$mbv3 [synthetic]=$fx/synthetic.h5 [bf16_h5]=$fx/bf16.h5 [space_h5]=$fx/space.h5
  [other_h5]=$fx/other.h5
  [imp]="--column gpu_ms --space ofa-mbv3 --width w1.2 --device gpu --source test --out $fx/imported.h5"
)
expand() {
  local s=$1 k
  for k in "${!place[@]}"; do s=${s//\{$k\}/${place[$k]}}; done
  printf '%s' "$s"
}

# Every file and directory under fx/ and cwd/ with the sha256 of each file.
snapshot() {
  (cd "$work" && find fx cwd ! -type f | LC_ALL=C sort && find fx cwd -type f -print0 | LC_ALL=C sort -z |
    xargs -0 sha256sum)
}
snapshot >"$cap/before"

# ---- the cases -----------------------------------------------------------------------------------
nobody=()
if [[ $(id -u) -eq 0 ]]; then
  # root writes through chmod 555: drop to nobody so that {ro} is really unwritable.
  nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups)
fi

# run HOW ARGS...: esm ARGS under HOW's modifiers (see bad_inputs.table).
run() {
  local how=$1 pre=() m
  shift
  for m in ${how//,/ }; do
    case $m in
      -) ;;
      mpi) pre=("$mpiexec" -q -n 2 "${pre[@]}") ;;  # -q: without mpirun's notice of a non-zero exit
      nobody) pre+=("${nobody[@]}") ;;
      # SIGXFSZ ignored: a write past the limit fails with EFBIG instead of killing the process.
      fsize) pre+=(bash -c 'trap "" XFSZ; ulimit -f 1; exec "$@"' fsize) ;;
      avx2) pre+=(env ONEDNN_MAX_CPU_ISA=AVX2) ;;  # oneDNN capped: no AVX512-BF16, no VNNI
      *) echo "unknown HOW '$m'" >&2; return 99 ;;
    esac
  done
  "${pre[@]}" "$esm" "$@"
}

fails=0 cases=0 line_no=0
while IFS= read -r line; do
  line_no=$((line_no + 1))
  [[ $line =~ ^[[:space:]]*(#|$) ]] && continue
  IFS='|' read -r how token arguments <<<"$line"
  how=$(echo $how) token=$(expand "$(echo $token)") arguments=$(expand "$arguments")
  eval "argv=($arguments)"
  cases=$((cases + 1))
  (cd "$cwd" && run "$how" "${argv[@]}") </dev/null >"$cap/stdout" 2>"$cap/stderr"  # mpirun reads stdin
  rc=$? lines=$(wc -l <"$cap/stderr")
  [[ -n ${BAD_INPUTS_VERBOSE:-} ]] && echo "$line_no: rc=$rc $(head -c 300 "$cap/stderr")"
  where="bad_inputs.table:$line_no ($how esm ${argv[*]})"
  if [[ $rc -ne 2 || $lines -ne 1 || -s $cap/stdout ]] || ! grep -q '^esm: error: ' "$cap/stderr" ||
     ! grep -qF -- "$token" "$cap/stderr"; then
    echo "FAIL: $where -> rc=$rc, stderr lines=$lines, stdout bytes=$(stat -c %s "$cap/stdout"), wanted '$token':"
    head -c 600 "$cap/stderr" | sed 's/^/    /'
    fails=$((fails + 1))
  fi
  if ! snapshot | cmp -s - "$cap/before"; then
    echo "FAIL: $where changed or created files:"
    snapshot | diff "$cap/before" - | grep '^[<>]' | sed 's/^/    /'
    fails=$((fails + 1))
    exit 1  # the fixtures are no longer what the next cases expect
  fi
done <"$table"

# A good command still works and replaces its output atomically.
if ! "$esm" sample --space ofa-mbv3 --count 5 --out "$fx/existing.txt" || [[ $(wc -l <"$fx/existing.txt") -ne 5 ]]; then
  echo "FAIL: good sample"; fails=$((fails + 1))
fi

echo "bad_inputs: $cases cases, $fails failures"
[[ $cases -ge 76 && $fails -eq 0 ]]
