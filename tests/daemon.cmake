# Tests of the daemon's own modules (flags, durations, probe installer) and,
# in tests/failover.cmake, of the whole daemon.
if(NOT LE_FUZZ)
  add_executable(test_options ${CMAKE_CURRENT_LIST_DIR}/test_options.c)
  target_link_libraries(test_options PRIVATE lecore)
  add_test(NAME unit.options COMMAND test_options)
  set_tests_properties(unit.options PROPERTIES LABELS unit)
endif()
