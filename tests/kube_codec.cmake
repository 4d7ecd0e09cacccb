# SPDX-License-Identifier: MIT
# Tests of the Kubernetes object codecs (daemon/kube_lease.c, kube_status.c,
# kube_time.c, kube_watch_event.c):
#   kube_codec.unit    Lease/Status/watch-event/MicroTime codecs on the real
#                      API server bodies in tests/data/k8s-api
#   kube_codec.fuzz.*  (LE_FUZZ) the Lease, Status and watch-event parsers
if(NOT LE_FUZZ)
  add_executable(test_kube_codec ${CMAKE_CURRENT_LIST_DIR}/unit/test_kube_codec.c)
  target_link_libraries(test_kube_codec PRIVATE lekubecodec)
  add_test(NAME kube_codec.unit COMMAND test_kube_codec ${LE_SOURCE_DIR}/tests/data/k8s-api)
  set_tests_properties(kube_codec.unit PROPERTIES LABELS unit TIMEOUT 60)
else()
  foreach(input lease status watch_event)
    set(target fuzz_kube_${input})
    add_executable(${target} ${CMAKE_CURRENT_LIST_DIR}/fuzz/${target}.c)
    target_link_libraries(${target} PRIVATE lekubecodec)
    target_link_options(${target} PRIVATE -fsanitize=fuzzer)
    set(work ${CMAKE_CURRENT_BINARY_DIR}/fuzz-work/${target})
    file(MAKE_DIRECTORY ${work})
    add_test(NAME kube_codec.fuzz.${input}
             COMMAND ${target} -max_total_time=5 -timeout=10 -rss_limit_mb=1024
                     -max_len=65536 -print_final_stats=1 ${work}
                     ${LE_SOURCE_DIR}/tests/fuzz/corpus/${target})
    set_tests_properties(kube_codec.fuzz.${input} PROPERTIES LABELS fuzz TIMEOUT 120)
  endforeach()
endif()
