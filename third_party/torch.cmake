# Finds LibTorch for trainer/ (included from the top-level CMakeLists when R1LAB_WITH_TORCH is on, so the
# imported targets are visible to every directory): the torch wheel
# of R1LAB_PYTHON (scripts/setup_python.sh pins 2.11.0, the version on the GPU machines) or any
# Torch_DIR / CMAKE_PREFIX_PATH given. The CUDA build of the wheel also configures here without a GPU:
# TORCH_CUDA_ARCH_LIST is set so that Caffe2's config does not try to run a GPU probe.
if(NOT Torch_DIR)
  execute_process(COMMAND ${R1LAB_PYTHON} -c "import torch; print(torch.utils.cmake_prefix_path)"
                  OUTPUT_VARIABLE R1LAB_TORCH_PREFIX OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE torch_found)
  if(NOT torch_found EQUAL 0)
    message(FATAL_ERROR "R1LAB_WITH_TORCH: ${R1LAB_PYTHON} cannot import torch; run scripts/setup_python.sh or pass -DR1LAB_PYTHON=...")
  endif()
  list(APPEND CMAKE_PREFIX_PATH ${R1LAB_TORCH_PREFIX})
endif()
if(NOT DEFINED TORCH_CUDA_ARCH_LIST AND NOT DEFINED ENV{TORCH_CUDA_ARCH_LIST})
  set(TORCH_CUDA_ARCH_LIST "9.0")   # H100/H200; only consulted when compiling CUDA sources (we have none)
endif()
find_package(Torch REQUIRED)
message(STATUS "r1lab trainer: LibTorch ${Torch_VERSION} from ${TORCH_INSTALL_PREFIX}")

