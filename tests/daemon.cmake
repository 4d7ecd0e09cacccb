# SPDX-License-Identifier: MIT
# The leader-elector binary as a user meets it (flags, exit codes, the probe
# installer). The failover and safety tests of the whole daemon are in
# tests/failover.cmake, the end-to-end tests of one feature with the module
# (tests/health.cmake, tests/endpointslice.cmake, tests/http_server.cmake,
# tests/migration.cmake).
if(NOT LE_FUZZ)
  get_property(le_probe GLOBAL PROPERTY LE_PROBE_BINARY)
  add_test(NAME daemon.cli
           COMMAND ${LE_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/integration/test_daemon_cli.py
                   $<TARGET_FILE:leader-elector> ${le_probe})
  set_tests_properties(daemon.cli PROPERTIES LABELS integration TIMEOUT 180)
endif()
