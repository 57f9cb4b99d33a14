# Writes version.cpp from version.cpp.in with the commit the build is made from (script mode,
# `cmake -DSOURCE_DIR=... -DINPUT=... -DOUTPUT=... -DPROJECT_VERSION=... -P EsmVersion.cmake`).
# Run at every build, not only at configure: a dataset's esm_git_commit must name the code that
# measured it, and a rebuild after a commit kept the configure-time commit before (2026-12-07).
# "-dirty" marks tracked files changed since that commit. configure_file writes only on change, so
# an unchanged commit recompiles nothing.
execute_process(COMMAND git rev-parse --short=12 HEAD WORKING_DIRECTORY ${SOURCE_DIR}
                OUTPUT_VARIABLE ESM_GIT_COMMIT OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
if(NOT ESM_GIT_COMMIT)
  set(ESM_GIT_COMMIT unknown)
else()
  execute_process(COMMAND git status --porcelain --untracked-files=no WORKING_DIRECTORY ${SOURCE_DIR}
                  OUTPUT_VARIABLE changes OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  if(changes)
    string(APPEND ESM_GIT_COMMIT "-dirty")
  endif()
endif()
configure_file(${INPUT} ${OUTPUT} @ONLY)
