# SPDX-License-Identifier: MIT
# Issue 5: leadership that follows the application's health, and EndpointSlice
# mode (daemon/health.c, daemon/endpointslice.c, the engine's HEALTH event).
#   unit:        hysteresis, target parsing, real checks on loopback servers of
#                the test itself (status codes, hang, endless body, TCP refused
#                and timeout, loop responsiveness); EndpointSlice bodies and
#                classification; the engine's HEALTH rules
#   fuzz:        the EndpointSlice classifier/editor (the API server's answer)
#                and the --endpoint-port parser
#   integration: the EndpointSlice writer against the Kubernetes API test
#                server; the daemon end to end (health handoff, flapping, a
#                hanging health endpoint; the slice through handoff, SIGKILL,
#                partition, resign, never two addresses)
if(NOT LE_FUZZ)
  add_executable(test_health ${CMAKE_CURRENT_LIST_DIR}/test_health.c)
  target_link_libraries(test_health PRIVATE lehealth)
  add_test(NAME health.unit COMMAND test_health)
  set_tests_properties(health.unit PROPERTIES LABELS unit TIMEOUT 60)

  add_executable(test_endpointslice ${CMAKE_CURRENT_LIST_DIR}/test_endpointslice.c)
  target_link_libraries(test_endpointslice PRIVATE leendpointslice)
  add_test(NAME endpointslice.unit COMMAND test_endpointslice unit)
  add_test(NAME endpointslice.api
           COMMAND ${LE_PYTHON} ${LE_SOURCE_DIR}/tests/with-apiserver.py --
                   $<TARGET_FILE:test_endpointslice> api)
  set_tests_properties(endpointslice.unit PROPERTIES LABELS unit TIMEOUT 60)
  set_tests_properties(endpointslice.api PROPERTIES LABELS integration TIMEOUT 120)

  add_executable(test_election_health ${CMAKE_CURRENT_LIST_DIR}/test_election_health.c)
  target_include_directories(test_election_health PRIVATE ${CMAKE_CURRENT_LIST_DIR})
  target_link_libraries(test_election_health PRIVATE leelection)
  add_test(NAME election.health COMMAND test_election_health)
  set_tests_properties(election.health PROPERTIES LABELS unit TIMEOUT 60)

  add_test(NAME daemon.health
           COMMAND ${LE_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/test_health_e2e.py
                   $<TARGET_FILE:leader-elector>)
  add_test(NAME daemon.endpointslice
           COMMAND ${LE_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/test_endpointslice_e2e.py
                   $<TARGET_FILE:leader-elector>)
  set_tests_properties(daemon.health daemon.endpointslice PROPERTIES
                       LABELS integration TIMEOUT 300 RESOURCE_LOCK le_failover)
else()
  add_executable(fuzz_endpointslice ${CMAKE_CURRENT_LIST_DIR}/fuzz/fuzz_endpointslice.c)
  target_link_libraries(fuzz_endpointslice PRIVATE leendpointslicecodec)
  target_link_options(fuzz_endpointslice PRIVATE -fsanitize=fuzzer)
  set(work ${CMAKE_CURRENT_BINARY_DIR}/fuzz-work/fuzz_endpointslice)
  file(MAKE_DIRECTORY ${work})
  add_test(NAME fuzz_endpointslice.smoke
           COMMAND fuzz_endpointslice -max_total_time=5 -timeout=10 -rss_limit_mb=1024
                   -max_len=65536 -print_final_stats=1 ${work}
                   ${LE_SOURCE_DIR}/tests/fuzz/corpus/fuzz_endpointslice)
  set_tests_properties(fuzz_endpointslice.smoke PROPERTIES LABELS fuzz TIMEOUT 120)
endif()
