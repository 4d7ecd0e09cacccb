# SPDX-License-Identifier: MIT
# Tests of the HTTP endpoint, the metrics registry and the daemon's metrics (daemon/http.cmake).
if(NOT LE_FUZZ)
  add_executable(test_http_unit ${CMAKE_CURRENT_LIST_DIR}/test_http_unit.c)
  target_link_libraries(test_http_unit PRIVATE lehttp)
  add_executable(test_http_metrics ${CMAKE_CURRENT_LIST_DIR}/test_http_metrics.c)
  target_link_libraries(test_http_metrics PRIVATE leelectionmetrics)
  add_executable(test_http_server ${CMAKE_CURRENT_LIST_DIR}/test_http_server.c)
  target_link_libraries(test_http_server PRIVATE lehttp)

  add_test(NAME http_unit COMMAND test_http_unit)
  add_test(NAME http_metrics COMMAND test_http_metrics)
  add_test(NAME http_metrics_prom
           COMMAND ${LE_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/test_http_metrics.py
                   $<TARGET_FILE:test_http_metrics>)
  set_tests_properties(http_unit http_metrics http_metrics_prom PROPERTIES LABELS unit TIMEOUT 60)
  add_test(NAME http_server
           COMMAND ${LE_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/test_http.py $<TARGET_FILE:test_http_server>)
  set_tests_properties(http_server PROPERTIES LABELS integration TIMEOUT 180)

  # The old sidecar's consumers (curl | grep, the Node.js poller) against real
  # daemons with --http, on the failover harness (its lock: timing bounds).
  get_property(le_http_probe GLOBAL PROPERTY LE_PROBE_BINARY)
  add_test(NAME http_daemon COMMAND ${LE_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/test_http_daemon.py)
  set_tests_properties(http_daemon PROPERTIES
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
      add_test(NAME http_unit_valgrind COMMAND ${LE_HTTP_VG} $<TARGET_FILE:test_http_unit>)
      add_test(NAME http_metrics_valgrind COMMAND ${LE_HTTP_VG} $<TARGET_FILE:test_http_metrics>)
      set_tests_properties(http_unit_valgrind http_metrics_valgrind
                           PROPERTIES LABELS "unit;valgrind" TIMEOUT 120)
      list(JOIN LE_HTTP_VG " " LE_HTTP_VG_WRAP)
      add_test(NAME http_server_valgrind
               COMMAND ${LE_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/test_http.py
                       $<TARGET_FILE:test_http_server> --wrap "${LE_HTTP_VG_WRAP}"
                       --latency-bound 3 --lateness-bound 1)
      set_tests_properties(http_server_valgrind PROPERTIES LABELS "integration;valgrind" TIMEOUT 300)
    endif()
  endif()
else()
  # libFuzzer targets: raw HTTP through MHD into the handlers; the address
  # parser and the {"name":...} body. Smoke runs of a few seconds.
  foreach(target fuzz_http_request fuzz_http_parse)
    add_executable(${target} ${CMAKE_CURRENT_LIST_DIR}/fuzz/${target}.c)
    target_link_libraries(${target} PRIVATE lehttp)
    target_link_options(${target} PRIVATE -fsanitize=fuzzer)
    set(work ${CMAKE_CURRENT_BINARY_DIR}/fuzz-work/${target})
    file(MAKE_DIRECTORY ${work})
    add_test(NAME ${target}.smoke
             COMMAND ${target} -max_total_time=5 -timeout=20 -rss_limit_mb=1024
                     -print_final_stats=1 ${work} ${LE_SOURCE_DIR}/tests/fuzz/corpus/${target})
    set_tests_properties(${target}.smoke PROPERTIES LABELS fuzz TIMEOUT 120)
  endforeach()
endif()
