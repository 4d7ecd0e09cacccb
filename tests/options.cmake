# SPDX-License-Identifier: MIT
# Tests of the daemon's flags and durations (daemon/options.c; the duration parser itself: tests/proto.cmake).
if(NOT LE_FUZZ)
  add_executable(test_options ${CMAKE_CURRENT_LIST_DIR}/unit/test_options.c)
  target_link_libraries(test_options PRIVATE lecore)
  add_test(NAME options.unit COMMAND test_options)
  set_tests_properties(options.unit PROPERTIES LABELS unit)
endif()
