# SPDX-License-Identifier: MIT
# Tests of the kubeconfig parser (daemon/kubeconfig.c) and --kubeconfig's precedence in
# daemon/kube_config.c. With kubectl installed the test also parses a kubeconfig kubectl
# writes at test time. kubeconfig.e2e: the daemon with only --kubeconfig (or $KUBECONFIG)
# against the API test server.
if(NOT LE_FUZZ)
  find_program(LE_KUBECTL kubectl)
  add_executable(test_kubeconfig ${CMAKE_CURRENT_LIST_DIR}/unit/test_kubeconfig.c)
  target_link_libraries(test_kubeconfig PRIVATE lekube)
  add_test(NAME kubeconfig.unit COMMAND test_kubeconfig ${CMAKE_CURRENT_LIST_DIR}/data/kubeconfig)
  set_tests_properties(kubeconfig.unit PROPERTIES LABELS unit TIMEOUT 60)
  if(LE_KUBECTL)
    set_tests_properties(kubeconfig.unit PROPERTIES ENVIRONMENT "KUBECTL=${LE_KUBECTL}")
  endif()
  # The daemon against the API test server with a kubeconfig only.
  add_test(NAME kubeconfig.e2e
           COMMAND ${LE_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/integration/test_kubeconfig_e2e.py)
  set_tests_properties(kubeconfig.e2e PROPERTIES
                       LABELS integration
                       TIMEOUT 120
                       ENVIRONMENT "LE_DAEMON=$<TARGET_FILE:leader-elector>;PYTHONDONTWRITEBYTECODE=1")
endif()
if(LE_FUZZ)
  add_executable(fuzz_kubeconfig ${CMAKE_CURRENT_LIST_DIR}/fuzz/fuzz_kubeconfig.c)
  target_link_libraries(fuzz_kubeconfig PRIVATE lekubeconfig)
  target_link_options(fuzz_kubeconfig PRIVATE -fsanitize=fuzzer)
  # New inputs go to a directory of the build tree; the committed seed corpus is only read.
  set(work ${CMAKE_CURRENT_BINARY_DIR}/fuzz-work/fuzz_kubeconfig)
  file(MAKE_DIRECTORY ${work})
  add_test(NAME kubeconfig.fuzz
           COMMAND fuzz_kubeconfig -max_total_time=5 -timeout=10 -rss_limit_mb=1024
                   -print_final_stats=1 ${work} ${LE_SOURCE_DIR}/tests/fuzz/corpus/fuzz_kubeconfig)
  set_tests_properties(kubeconfig.fuzz PROPERTIES LABELS fuzz TIMEOUT 120)
endif()
