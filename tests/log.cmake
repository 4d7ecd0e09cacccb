# SPDX-License-Identifier: MIT
# Tests of the log (daemon/log.c): syslog levels, names, the --log-level filter.
if(NOT LE_FUZZ)
  add_executable(test_log ${CMAKE_CURRENT_LIST_DIR}/unit/test_log.c)
  target_link_libraries(test_log PRIVATE lecore)
  add_test(NAME log.unit COMMAND test_log)
  set_tests_properties(log.unit PROPERTIES LABELS unit TIMEOUT 60)
endif()
