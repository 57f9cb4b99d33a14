# Install rules and the exported package: NAS code finds esm with find_package(esm) and links
# esm::train for esm::predictor (esm/predictor.hpp), or esm::core for spaces, IR and backends.
# The libraries are static, so their private dependencies (oneDNN, XGBoost, Eigen, OpenMP, CUDA)
# come along as link-only requirements that esmConfig.cmake finds again.
if(ESM_GPU_ONLY)
  return()
endif()
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set_target_properties(esm_core PROPERTIES EXPORT_NAME core)
set_target_properties(esm_cluster PROPERTIES EXPORT_NAME cluster)
set_target_properties(esm_dataset PROPERTIES EXPORT_NAME dataset)
set_target_properties(esm_profile PROPERTIES EXPORT_NAME profile)
set_target_properties(esm_train PROPERTIES EXPORT_NAME train)
set_target_properties(esm_warnings PROPERTIES EXPORT_NAME warnings)

install(TARGETS esm_core esm_cluster esm_dataset esm_profile esm_train esm_warnings EXPORT esmTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS esm RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/esm DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

set(ESM_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/esm)
install(EXPORT esmTargets NAMESPACE esm:: DESTINATION ${ESM_INSTALL_CMAKEDIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/esmConfig.cmake.in
  ${PROJECT_BINARY_DIR}/esmConfig.cmake INSTALL_DESTINATION ${ESM_INSTALL_CMAKEDIR})
# 0.x: a minor version may change the API.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/esmConfigVersion.cmake COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/esmConfig.cmake ${PROJECT_BINARY_DIR}/esmConfigVersion.cmake
        DESTINATION ${ESM_INSTALL_CMAKEDIR})
