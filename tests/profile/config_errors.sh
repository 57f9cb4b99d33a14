#!/usr/bin/env bash
# Configuration errors: every rank exits 2, only rank 0 prints (one line), no file is created.
source "$(dirname "$0")/common.sh"

printf '[space]\nname = ofa-mbv3\n[sample]\ncount = 4\nwidht = 3\n[output]\npath = bad.h5\n' > unknown_key.ini

check_case() {
  local name=$1
  shift
  rm -f rc.* out.h5 out.h5.lock
  run_mpi 2 bash -c '"$0" profile "$@"; echo $? > rc.$OMPI_COMM_WORLD_RANK' "$ESM" "$@" > "$name.out" 2> "$name.err"
  for r in 0 1; do
    [[ -f rc.$r && $(cat rc.$r) == 2 ]] || fail "$name: rank $r exited $(cat rc.$r 2>/dev/null || echo '?'), expected 2"
  done
  [[ $(grep -c '^esm:' "$name.err") == 1 ]] || { cat "$name.err"; fail "$name: expected exactly one error line"; }
  [[ -s "$name.out" ]] && { cat "$name.out"; fail "$name: unexpected output on stdout"; }
  ls ./*.h5 ./*.lock ./*.partial > /dev/null 2>&1 && fail "$name: a file was created"
  return 0
}

check_case unknown_key --config unknown_key.ini --output out.h5
grep -q "sample.widht" unknown_key.err || fail "unknown key not named"
check_case bad_value --config tiny.ini --output out.h5 --sample.count=abc
grep -q "sample.count" bad_value.err || fail "bad value not named"
check_case missing_file --config nowhere.ini --output out.h5
grep -q "nowhere.ini" missing_file.err || fail "missing file not named"
check_case unknown_option --config tiny.ini --output out.h5 --sample.cuont=3
check_case no_config --output out.h5
check_case bad_resolution --config tiny.ini --output out.h5 --space.resolution=130
grep -q "resolution 130" bad_resolution.err || fail "bad resolution not named"
check_case missing_directory --config tiny.ini --output no/such/dir/out.h5
SLURM_NTASKS=3 check_case slurm_ntasks --config tiny.ini --output out.h5
grep -q "SLURM_NTASKS is 3 but MPI started 2" slurm_ntasks.err || fail "SLURM_NTASKS mismatch not explained"
echo "config_errors: ok"
