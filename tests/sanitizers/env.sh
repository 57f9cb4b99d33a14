# Environment of every sanitized run (sourced by scripts/sanitize.sh and tests/fuzz/run.sh).
_esm_sanitizers=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# Open MPI and PMIx unload their plugins at finalize: keep them loaded so that leak reports can
# name them (and the suppressions can match them).
export OMPI_MCA_mca_base_component_disable_dlclose=1 PMIX_MCA_mca_base_component_disable_dlclose=1
# Debian's libraries have no frame pointers: the slow unwinder gives leak reports whole stacks,
# which the suppressions need to see the library frames.
export ASAN_OPTIONS="detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1"
export LSAN_OPTIONS="suppressions=$_esm_sanitizers/lsan.supp:print_suppressions=0:fast_unwind_on_malloc=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
unset _esm_sanitizers
