# The GPU tests (label gpu; tests/trainer/gpu_test.cpp): the model core and training on R1LAB_TEST_DEVICE
# (cuda unless set; they skip without it) against transformers on the same device. Built by every
# LibTorch build and by the slim GPU build (R1LAB_GPU_ONLY), which has no r1lab binary: they use the
# libraries only.
add_executable(r1lab_gpu_tests ${CMAKE_SOURCE_DIR}/tests/trainer/gpu_test.cpp)
target_include_directories(r1lab_gpu_tests PRIVATE ${CMAKE_SOURCE_DIR})
target_link_libraries(r1lab_gpu_tests PRIVATE r1lab_training GTest::gtest_main)
r1lab_use_model_pch(r1lab_gpu_tests)
target_compile_definitions(r1lab_gpu_tests PRIVATE
  R1LAB_SOURCE_DIR="${CMAKE_SOURCE_DIR}" R1LAB_SHARED_DATA="${R1LAB_DATA_DIR}" R1LAB_PYTHON="${R1LAB_PYTHON}"
  R1LAB_TEST_MODELS="${CMAKE_BINARY_DIR}/test_models")
r1lab_discover_tests(r1lab_gpu_tests "gpu;torch" DISCOVERY_TIMEOUT 120)
