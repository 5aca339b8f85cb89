# build/bench/gpu_bench (bench/gpu_bench.cpp): the GPU benchmarks of scripts/gpu_check.sh. Built by
# every LibTorch build and by the slim GPU build (R1LAB_GPU_ONLY).
add_executable(gpu_bench ${CMAKE_SOURCE_DIR}/bench/gpu_bench.cpp)
target_include_directories(gpu_bench PRIVATE ${CMAKE_SOURCE_DIR})
target_link_libraries(gpu_bench PRIVATE r1lab_training)
r1lab_use_model_pch(gpu_bench)
set_target_properties(gpu_bench PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bench)
