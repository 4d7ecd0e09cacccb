# Tests of the JSON wrapper and the Kubernetes API client (daemon/json.c,
# daemon/kube_*.c, daemon/curl_event.c): unit tests on the real API server
# bodies in tests/data/k8s-api, and (fuzz preset only) libFuzzer targets for
# the Lease, Status and watch-event parsers.
set(LE_KUBE_DATA ${LE_SOURCE_DIR}/tests/data/k8s-api)
if(NOT LE_FUZZ)
  add_executable(test_json ${CMAKE_CURRENT_SOURCE_DIR}/test_json.c)
  target_link_libraries(test_json PRIVATE lejson)
  add_test(NAME json.unit COMMAND test_json)

  add_executable(test_kube_codec ${CMAKE_CURRENT_SOURCE_DIR}/test_kube_codec.c)
  target_link_libraries(test_kube_codec PRIVATE lekubecodec)
  add_test(NAME kube.codec.unit COMMAND test_kube_codec ${LE_KUBE_DATA})

  set_tests_properties(json.unit kube.codec.unit PROPERTIES LABELS unit TIMEOUT 60)
else()
  foreach(target fuzz_kube_lease fuzz_kube_status fuzz_kube_watch_event)
    add_executable(${target} ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/${target}.c)
    target_link_libraries(${target} PRIVATE lekubecodec)
    target_link_options(${target} PRIVATE -fsanitize=fuzzer)
    set(work ${CMAKE_CURRENT_BINARY_DIR}/fuzz-work/${target})
    file(MAKE_DIRECTORY ${work})
    add_test(NAME ${target}.smoke
             COMMAND ${target} -max_total_time=5 -timeout=10 -rss_limit_mb=1024
                     -max_len=65536 -print_final_stats=1 ${work}
                     ${LE_SOURCE_DIR}/tests/fuzz/corpus/${target})
    set_tests_properties(${target}.smoke PROPERTIES LABELS fuzz TIMEOUT 120)
  endforeach()
endif()
