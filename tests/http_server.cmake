# SPDX-License-Identifier: MIT
# Tests of the HTTP endpoint (daemon/http_server.c, daemon/http.cmake):
#   http_server.unit       the --http address and the {"name":...} body
#   http_server.loopback   the real server on its loop, driven by
#                          tests/unit/test_http_server.c, against curl, Python's
#                          http.client, the old Node.js consumer, hostile clients
#   http_server.e2e        the old sidecar's consumers (curl | grep, the Node.js
#                          poller) against real daemons with --http, on the
#                          failover harness (its lock: timing bounds)
#   *.valgrind             the unit test and the loopback run under valgrind
#   http_server.fuzz.*     (LE_FUZZ) raw HTTP through MHD into the handlers; the
#                          address parser and the {"name":...} body
if(NOT LE_FUZZ)
  add_executable(test_http_unit ${CMAKE_CURRENT_LIST_DIR}/unit/test_http_unit.c)
  target_link_libraries(test_http_unit PRIVATE lehttp)
  add_executable(test_http_server ${CMAKE_CURRENT_LIST_DIR}/unit/test_http_server.c)
  target_link_libraries(test_http_server PRIVATE lehttp)

  add_test(NAME http_server.unit COMMAND test_http_unit)
  set_tests_properties(http_server.unit PROPERTIES LABELS unit TIMEOUT 60)
  add_test(NAME http_server.loopback
           COMMAND ${LE_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/integration/test_http.py
                   $<TARGET_FILE:test_http_server>)
  set_tests_properties(http_server.loopback PROPERTIES LABELS integration TIMEOUT 180)

  get_property(le_http_probe GLOBAL PROPERTY LE_PROBE_BINARY)
  add_test(NAME http_server.e2e
           COMMAND ${LE_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/integration/test_http_daemon.py)
  set_tests_properties(http_server.e2e PROPERTIES
                       LABELS integration
                       TIMEOUT 150
                       RESOURCE_LOCK le_failover
                       ENVIRONMENT "LE_DAEMON=$<TARGET_FILE:leader-elector>;LE_PROBE=${le_http_probe};PYTHONDONTWRITEBYTECODE=1")

  # Under valgrind (release builds only: valgrind and ASan do not mix).
  if(NOT LE_SANITIZE)
    find_program(LE_VALGRIND valgrind)
    if(LE_VALGRIND)
      set(LE_HTTP_VG ${LE_VALGRIND} --error-exitcode=99 --leak-check=full
                     --errors-for-leak-kinds=definite,indirect --quiet)
      add_test(NAME http_server.valgrind COMMAND ${LE_HTTP_VG} $<TARGET_FILE:test_http_unit>)
      set_tests_properties(http_server.valgrind PROPERTIES LABELS "unit;valgrind" TIMEOUT 120)
      list(JOIN LE_HTTP_VG " " LE_HTTP_VG_WRAP)
      add_test(NAME http_server.loopback.valgrind
               COMMAND ${LE_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/integration/test_http.py
                       $<TARGET_FILE:test_http_server> --wrap "${LE_HTTP_VG_WRAP}"
                       --latency-bound 3 --lateness-bound 1)
      set_tests_properties(http_server.loopback.valgrind PROPERTIES
                           LABELS "integration;valgrind" TIMEOUT 300)
    endif()
  endif()
else()
  # libFuzzer targets, smoke runs of a few seconds.
  foreach(input request parse)
    set(target fuzz_http_${input})
    add_executable(${target} ${CMAKE_CURRENT_LIST_DIR}/fuzz/${target}.c)
    target_link_libraries(${target} PRIVATE lehttp)
    target_link_options(${target} PRIVATE -fsanitize=fuzzer)
    set(work ${CMAKE_CURRENT_BINARY_DIR}/fuzz-work/${target})
    file(MAKE_DIRECTORY ${work})
    add_test(NAME http_server.fuzz.${input}
             COMMAND ${target} -max_total_time=5 -timeout=20 -rss_limit_mb=1024
                     -print_final_stats=1 ${work} ${LE_SOURCE_DIR}/tests/fuzz/corpus/${target})
    set_tests_properties(http_server.fuzz.${input} PROPERTIES LABELS fuzz TIMEOUT 120)
  endforeach()
endif()
