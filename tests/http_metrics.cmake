# SPDX-License-Identifier: MIT
# Tests of the metrics registry (daemon/metrics.c, daemon/http.cmake):
#   http_metrics.unit      the registry and its text
#   http_metrics.prom      the daemon's whole registry through
#                          tests/integration/prom_parse.py
#   http_metrics.valgrind  the unit test under valgrind
if(NOT LE_FUZZ)
  add_executable(test_http_metrics ${CMAKE_CURRENT_LIST_DIR}/unit/test_http_metrics.c)
  target_link_libraries(test_http_metrics PRIVATE leelectionmetrics)
  add_test(NAME http_metrics.unit COMMAND test_http_metrics)
  add_test(NAME http_metrics.prom
           COMMAND ${LE_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/integration/test_http_metrics.py
                   $<TARGET_FILE:test_http_metrics>)
  set_tests_properties(http_metrics.unit http_metrics.prom PROPERTIES LABELS unit TIMEOUT 60)

  # Under valgrind (release builds only: valgrind and ASan do not mix).
  if(NOT LE_SANITIZE)
    find_program(LE_VALGRIND valgrind)
    if(LE_VALGRIND)
      add_test(NAME http_metrics.valgrind
               COMMAND ${LE_VALGRIND} --error-exitcode=99 --leak-check=full
                       --errors-for-leak-kinds=definite,indirect --quiet
                       $<TARGET_FILE:test_http_metrics>)
      set_tests_properties(http_metrics.valgrind PROPERTIES LABELS "unit;valgrind" TIMEOUT 120)
    endif()
  endif()
endif()
