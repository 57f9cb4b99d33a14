# Sanitizer and fuzzing builds (the "asan" preset; docs/reliability.md).
#
# ESM_SANITIZE: a -fsanitize= list applied to every target of this project (esm's libraries, the
# tool, tests and fuzzers), e.g. "address,undefined". Third-party libraries stay uninstrumented.
# ESM_BUILD_FUZZERS: libFuzzer targets under tests/fuzz (clang only); with it, esm's own code is
# also built with coverage instrumentation (-fsanitize=fuzzer-no-link) so that the fuzzers see it.
set(ESM_SANITIZE "" CACHE STRING "Sanitizers for esm's targets, e.g. address,undefined (empty: none)")
option(ESM_BUILD_FUZZERS "Build the libFuzzer targets (clang)" OFF)

if(ESM_SANITIZE)
  # Any UB is an error (abort with a report), not a warning that scrolls by in a CI log.
  add_compile_options(-fsanitize=${ESM_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${ESM_SANITIZE})
endif()

if(ESM_BUILD_FUZZERS)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "ESM_BUILD_FUZZERS needs clang (libFuzzer); configure with -DCMAKE_CXX_COMPILER=clang++ "
      "-DCMAKE_C_COMPILER=clang, or use the asan preset")
  endif()
  if(NOT ESM_SANITIZE MATCHES "address")
    message(FATAL_ERROR "ESM_BUILD_FUZZERS needs ESM_SANITIZE to include address")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()
