# SPDX-License-Identifier: MIT
# Tests of the JSON wrapper (daemon/json.c):
#   json.unit  validation, skipping, lookup, unescaping, numbers, the writer,
#              patch-in-place
#   json.fuzz  (LE_FUZZ) the same on any bytes
if(NOT LE_FUZZ)
  add_executable(test_json ${CMAKE_CURRENT_LIST_DIR}/unit/test_json.c)
  target_link_libraries(test_json PRIVATE lejson)
  add_test(NAME json.unit COMMAND test_json)
  set_tests_properties(json.unit PROPERTIES LABELS unit TIMEOUT 60)
else()
  add_executable(fuzz_kube_json ${CMAKE_CURRENT_LIST_DIR}/fuzz/fuzz_kube_json.c)
  target_link_libraries(fuzz_kube_json PRIVATE lekubecodec)
  target_link_options(fuzz_kube_json PRIVATE -fsanitize=fuzzer)
  set(work ${CMAKE_CURRENT_BINARY_DIR}/fuzz-work/fuzz_kube_json)
  file(MAKE_DIRECTORY ${work})
  add_test(NAME json.fuzz
           COMMAND fuzz_kube_json -max_total_time=5 -timeout=10 -rss_limit_mb=1024
                   -max_len=65536 -print_final_stats=1 ${work}
                   ${LE_SOURCE_DIR}/tests/fuzz/corpus/fuzz_kube_json)
  set_tests_properties(json.fuzz PROPERTIES LABELS fuzz TIMEOUT 120)
endif()
