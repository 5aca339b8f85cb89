# r1lab_discover_tests: included by tests/CMakeLists.txt and by the slim GPU build (R1LAB_GPU_ONLY).
include(GoogleTest)

# Discovers a GoogleTest program's tests and gives every one the labels (a list). gtest_discover_tests
# keeps only the first value of a list property (CMake issue 17812), so the labels are set by a script
# that ctest includes after the discovered tests, from the test list discovery records.
# RUN_SERIAL: ctest runs each of them alone (timing-sensitive tests: a server answering within a timeout
# while the training tests saturate both cores is not what they test).
function(r1lab_discover_tests target labels)
  cmake_parse_arguments(ARG "RUN_SERIAL" "" "" ${ARGN})
  gtest_discover_tests(${target} ${ARG_UNPARSED_ARGUMENTS} TEST_LIST ${target}_TESTS)
  set(script "${CMAKE_CURRENT_BINARY_DIR}/${target}_labels.cmake")
  set(serial "")
  if(ARG_RUN_SERIAL)
    set(serial " RUN_SERIAL TRUE")
  endif()
  file(WRITE "${script}" "foreach(test IN LISTS ${target}_TESTS)\n  set_tests_properties(\"\${test}\" PROPERTIES LABELS \"${labels}\"${serial})\nendforeach()\n")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES "${script}")
endfunction()
