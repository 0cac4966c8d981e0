# Finds what adaswarm builds against. Everything comes from Debian packages
# (scripts/install-deps.sh installs them); Torch_DIR may point at another
# LibTorch (for example a pip-installed CUDA build: python -c 'import torch;
# print(torch.utils.cmake_prefix_path)').
include(GNUInstallDirs)
find_package(Torch REQUIRED)
find_package(OpenMP REQUIRED)
find_package(fmt REQUIRED)
find_package(nlohmann_json 3 REQUIRED)
find_package(ZLIB REQUIRED)   # gzipped idx files
if(ADASWARM_BUILD_CLI)
  find_package(CLI11 REQUIRED)
endif()
# LibTorch's exported flags (e.g. -D_GLIBCXX_USE_CXX11_ABI=0 for pip wheels).
set(CMAKE_CXX_FLAGS "${CMAKE_CXX_FLAGS} ${TORCH_CXX_FLAGS}")
include(AdaswarmDist)   # ADASWARM_DIST: c10d Gloo for src/lib/dist (libgloo-dev)
