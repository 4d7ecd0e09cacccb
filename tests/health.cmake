# SPDX-License-Identifier: MIT
# Tests of leadership that follows the application's health (daemon/health.c;
# the engine's HEALTH rules are election.health in tests/election.cmake):
#   health.unit  hysteresis, target parsing, real checks on loopback servers of
#                the test itself (status codes, hang, endless body, TCP refused
#                and timeout, loop responsiveness)
#   health.e2e   the daemon end to end: health handoff, flapping, a hanging
#                health endpoint
if(NOT LE_FUZZ)
  add_executable(test_health ${CMAKE_CURRENT_LIST_DIR}/unit/test_health.c)
  target_link_libraries(test_health PRIVATE lehealth leloopbackhttp)
  add_test(NAME health.unit COMMAND test_health)
  set_tests_properties(health.unit PROPERTIES LABELS unit TIMEOUT 60)

  add_test(NAME health.e2e
           COMMAND ${LE_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/integration/test_health_e2e.py
                   $<TARGET_FILE:leader-elector>)
  set_tests_properties(health.e2e PROPERTIES
                       LABELS integration TIMEOUT 300 RESOURCE_LOCK le_failover)
endif()
