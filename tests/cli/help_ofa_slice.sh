# Sourced by the tests on a 200-arch slice of the shared HELP data (../shared/data/help-ofa/):
# exits 77 (skipped) when the data is absent; otherwise leaves the script in a fresh temporary
# directory (removed on exit) holding the slice as archs.jsonl and latency_ms.csv, with fail()
# counting into $fails.   source help_ofa_slice.sh SHARED_DIR [ARCHS (200)]
data=$1/data/help-ofa
slice=${2:-200}
if [[ ! -f $data/archs.jsonl || ! -f $data/latency_ms.csv ]]; then
  echo "SKIP: $data/archs.jsonl and latency_ms.csv not found (../shared beside the clone; set ESM_SHARED_DIR)"
  exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
head -"$slice" "$data/archs.jsonl" >archs.jsonl
head -$((slice + 1)) "$data/latency_ms.csv" >latency_ms.csv
