# Warning flags for esm's own targets (never applied to third-party code).
add_library(esm_warnings INTERFACE)
target_compile_options(esm_warnings INTERFACE
  $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor>)
if(ESM_WARNINGS_AS_ERRORS)
  target_compile_options(esm_warnings INTERFACE $<$<COMPILE_LANGUAGE:CXX>:-Werror>)
endif()
# GCC 12 reports -Wrestrict false positives inside std::string concatenation at -O2/-O3
# (GCC bug 105329); keep the rest of -Werror meaningful.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  target_compile_options(esm_warnings INTERFACE $<$<COMPILE_LANGUAGE:CXX>:-Wno-restrict>)
endif()
