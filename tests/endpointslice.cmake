# SPDX-License-Identifier: MIT
# Tests of EndpointSlice mode (daemon/endpointslice.c):
#   endpointslice.unit  EndpointSlice bodies and classification
#   endpointslice.api   the writer against the Kubernetes API test server
#   endpointslice.e2e   the daemon end to end: the slice through handoff,
#                       SIGKILL, partition, resign, never two addresses
#   endpointslice.topology  what kube-proxy programs on each node from the
#                       slice (a model of its EndpointSlice cache and
#                       CategorizeEndpoints): Local traffic policies need the
#                       endpoint's nodeName ($NODE_NAME; the shipped example's
#                       environment, rendered with kubectl when installed)
#   endpointslice.fuzz  (LE_FUZZ) the classifier/editor (the API server's
#                       answer) and the --endpoint-port parser
if(NOT LE_FUZZ)
  add_executable(test_endpointslice ${CMAKE_CURRENT_LIST_DIR}/unit/test_endpointslice.c)
  target_link_libraries(test_endpointslice PRIVATE leendpointslice)
  add_test(NAME endpointslice.unit COMMAND test_endpointslice unit)
  add_test(NAME endpointslice.api
           COMMAND ${LE_PYTHON} ${LE_SOURCE_DIR}/tests/server/with-apiserver.py --
                   $<TARGET_FILE:test_endpointslice> api)
  set_tests_properties(endpointslice.unit PROPERTIES LABELS unit TIMEOUT 60)
  set_tests_properties(endpointslice.api PROPERTIES LABELS integration TIMEOUT 120)

  add_test(NAME endpointslice.e2e
           COMMAND ${LE_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/integration/test_endpointslice_e2e.py
                   $<TARGET_FILE:leader-elector>)
  set_tests_properties(endpointslice.e2e PROPERTIES
                       LABELS integration TIMEOUT 300 RESOURCE_LOCK le_failover)
  add_test(NAME endpointslice.topology
           COMMAND ${LE_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/integration/test_endpointslice_topology.py
                   $<TARGET_FILE:leader-elector> ${LE_SOURCE_DIR})
  set_tests_properties(endpointslice.topology PROPERTIES
                       LABELS integration TIMEOUT 300 RESOURCE_LOCK le_failover
                       ENVIRONMENT "PYTHONDONTWRITEBYTECODE=1")
else()
  add_executable(fuzz_endpointslice ${CMAKE_CURRENT_LIST_DIR}/fuzz/fuzz_endpointslice.c)
  target_link_libraries(fuzz_endpointslice PRIVATE leendpointslicecodec)
  target_link_options(fuzz_endpointslice PRIVATE -fsanitize=fuzzer)
  set(work ${CMAKE_CURRENT_BINARY_DIR}/fuzz-work/fuzz_endpointslice)
  file(MAKE_DIRECTORY ${work})
  add_test(NAME endpointslice.fuzz
           COMMAND fuzz_endpointslice -max_total_time=5 -timeout=10 -rss_limit_mb=1024
                   -max_len=65536 -print_final_stats=1 ${work}
                   ${LE_SOURCE_DIR}/tests/fuzz/corpus/fuzz_endpointslice)
  set_tests_properties(endpointslice.fuzz PROPERTIES LABELS fuzz TIMEOUT 120)
endif()
