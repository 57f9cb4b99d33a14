# Shared by the bench scripts on HELP's GPU columns (sourced after bench_common.sh): where the
# shared files are, and help_import COLUMN OUT.h5, one column imported with `esm import`.
SHARED=${SHARED:-$ESM_ROOT/../shared}
HELP_ARCHS=$SHARED/data/help-ofa/archs.jsonl
HELP_TABLE=$SHARED/data/help-ofa/latency_ms.csv
[[ -f $HELP_ARCHS && -f $HELP_TABLE ]] || { echo "$(basename "$0"): HELP's files not found under $SHARED/data/help-ofa" >&2; exit 2; }
declare -A HELP_DEVICE=([2080ti]="GeForce RTX 2080 Ti" [titan_xp]="Titan Xp" [v100]="Tesla V100")
help_import() {  # COLUMN OUT.h5 (replaced)
  rm -f "$2"
  "$ESM" import --archs "$HELP_ARCHS" --latencies "$HELP_TABLE" --column "$1" --index-column arch_index --space ofa-mbv3 \
    --width w1.2 --device "${HELP_DEVICE[${1%_*}]}" --batch "${1##*_}" \
    --source "HELP (Lee et al., NeurIPS 2021), data/ofa, MIT" --out "$2" >/dev/null
}
