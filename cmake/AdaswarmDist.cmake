# The distributed module (src/lib/dist: data-parallel training and PGSO islands
# over LibTorch's c10d with the Gloo backend). ProcessGroupGloo is compiled into
# LibTorch (Debian's libtorch_cpu); its headers need gloo's (Debian: libgloo-dev)
# and USE_C10D_GLOO, which are given to the dist sources only. Without them the
# module builds as a single-process stub: everything runs as one process and a
# launch with RANK / WORLD_SIZE set is refused with a message saying why.
option(ADASWARM_DIST "Build the distributed module (c10d Gloo) when its headers are found" ON)
set(ADASWARM_DIST_ENABLED OFF)
if(ADASWARM_DIST)
  find_path(ADASWARM_GLOO_INCLUDE_DIR gloo/config.h)
  find_path(ADASWARM_C10D_INCLUDE_DIR torch/csrc/distributed/c10d/ProcessGroupGloo.hpp
            HINTS ${TORCH_INCLUDE_DIRS})
  if(ADASWARM_GLOO_INCLUDE_DIR AND ADASWARM_C10D_INCLUDE_DIR)
    set(ADASWARM_DIST_ENABLED ON)
    message(STATUS "adaswarm: distributed module ON (c10d Gloo; gloo headers in ${ADASWARM_GLOO_INCLUDE_DIR})")
  else()
    message(STATUS "adaswarm: distributed module OFF: gloo or c10d headers not found "
                   "(Debian: apt-get install libgloo-dev); single-process only")
  endif()
else()
  message(STATUS "adaswarm: distributed module OFF (ADASWARM_DIST=OFF); single-process only")
endif()
file(GLOB ADASWARM_DIST_SOURCES CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/src/lib/dist/*.cpp)
if(ADASWARM_DIST_ENABLED AND ADASWARM_DIST_SOURCES)
  # Only these sources see the c10d headers (and are compiled without the shared
  # precompiled header, whose macro set differs).
  set_source_files_properties(${ADASWARM_DIST_SOURCES} PROPERTIES
    COMPILE_DEFINITIONS "USE_C10D_GLOO;ADASWARM_HAVE_DIST=1"
    SKIP_PRECOMPILE_HEADERS ON)
  if(NOT ADASWARM_GLOO_INCLUDE_DIR STREQUAL "/usr/include")  # -I/usr/include breaks #include_next
    set_property(SOURCE ${ADASWARM_DIST_SOURCES} APPEND PROPERTY INCLUDE_DIRECTORIES "${ADASWARM_GLOO_INCLUDE_DIR}")
  endif()
endif()
