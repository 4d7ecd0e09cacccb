# SPDX-License-Identifier: MIT
# Tests of the daemon's own modules (flags, durations, probe installer) and of
# the binary as a user meets it; the failover and safety tests of the whole
# daemon are in tests/failover.cmake.
if(NOT LE_FUZZ)
  add_executable(test_options ${CMAKE_CURRENT_LIST_DIR}/test_options.c)
  target_link_libraries(test_options PRIVATE lecore)
  add_test(NAME unit.options COMMAND test_options)
  set_tests_properties(unit.options PROPERTIES LABELS unit)

  # The log: syslog levels, names, the --log-level filter (daemon/log.c).
  add_executable(test_log ${CMAKE_CURRENT_LIST_DIR}/test_log.c)
  target_link_libraries(test_log PRIVATE lecore)
  add_test(NAME unit.log COMMAND test_log)
  set_tests_properties(unit.log PROPERTIES LABELS unit TIMEOUT 60)

  get_property(le_probe GLOBAL PROPERTY LE_PROBE_BINARY)
  add_test(NAME daemon.cli
           COMMAND ${LE_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/test_daemon_cli.py
                   $<TARGET_FILE:leader-elector> ${le_probe})
  set_tests_properties(daemon.cli PROPERTIES LABELS integration TIMEOUT 180)
endif()

if(NOT LE_FUZZ)
  # The README documents every flag of both binaries, and names no flag they lack.
  add_test(NAME docs.flags
           COMMAND ${LE_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/test_docs.py
                   $<TARGET_FILE:leader-elector> ${le_probe} ${LE_SOURCE_DIR}/README.md)
  set_tests_properties(docs.flags PROPERTIES LABELS integration TIMEOUT 60)
  # One licence in every file (SPDX MIT), nothing stray at the repository root.
  add_test(NAME docs.tree COMMAND ${LE_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/test_tree.py ${LE_SOURCE_DIR})
  set_tests_properties(docs.tree PROPERTIES LABELS unit TIMEOUT 60)
endif()
