include(CMakePackageConfigHelpers)
set(ADASWARM_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/adaswarm)
# The include directory comes from the target's INSTALL_INTERFACE (listed once).
install(TARGETS adaswarm EXPORT adaswarmTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY include/adaswarm DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
if(ADASWARM_BUILD_CLI)
  install(TARGETS adaswarm_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  install(DIRECTORY data/ DESTINATION ${CMAKE_INSTALL_DATADIR}/adaswarm)
endif()
install(EXPORT adaswarmTargets NAMESPACE adaswarm:: DESTINATION ${ADASWARM_CMAKE_DIR})
configure_package_config_file(cmake/adaswarmConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/adaswarmConfig.cmake INSTALL_DESTINATION ${ADASWARM_CMAKE_DIR})
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/adaswarmConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/adaswarmConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/adaswarmConfigVersion.cmake
        DESTINATION ${ADASWARM_CMAKE_DIR})
