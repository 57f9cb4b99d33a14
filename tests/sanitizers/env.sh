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
# The symbolizer of the same LLVM as the runtime (package llvm-16): without a working one, every
# process whose leaks are all suppressed (Open MPI's, after MPI_Init) still prints two
# "external symbolizer" warnings, which break the one-stderr-line rule of the bad-input corpus.
if [[ -x /usr/lib/llvm-16/bin/llvm-symbolizer ]]; then
  export ASAN_SYMBOLIZER_PATH=/usr/lib/llvm-16/bin/llvm-symbolizer
fi
unset _esm_sanitizers
