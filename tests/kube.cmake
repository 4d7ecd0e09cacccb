# SPDX-License-Identifier: MIT
# Tests of the JSON wrapper and the Kubernetes API client (daemon/json.c,
# daemon/kube_*.c, daemon/curl_event.c):
#   unit:        JSON wrapper; Lease/Status/watch-event/MicroTime codecs on the
#                real API server bodies in tests/data/k8s-api
#   integration: the client against a scripted in-process HTTP server (10 MiB
#                and garbage bodies, plain-text 429, watch stream edge cases,
#                the request bytes sent) and against the Kubernetes API test
#                server (tests/server/with-apiserver.py): every operation and error
#                class, watch, token rotation, kubectl reading our Lease
#   fuzz:        libFuzzer targets for the Lease, Status and watch-event parsers
#                and the JSON wrapper itself (parse, walk, patch-in-place)
set(LE_KUBE_DATA ${LE_SOURCE_DIR}/tests/data/k8s-api)
if(NOT LE_FUZZ)
  add_executable(test_json ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_json.c)
  target_link_libraries(test_json PRIVATE lejson)
  add_test(NAME json.unit COMMAND test_json)

  add_executable(test_kube_codec ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_kube_codec.c)
  target_link_libraries(test_kube_codec PRIVATE lekubecodec)
  add_test(NAME kube.codec.unit COMMAND test_kube_codec ${LE_KUBE_DATA})
  add_executable(test_kube_config ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_kube_config.c)
  target_link_libraries(test_kube_config PRIVATE lekube)
  add_test(NAME kube.config.unit COMMAND test_kube_config)
  set_tests_properties(json.unit kube.codec.unit kube.config.unit PROPERTIES LABELS unit TIMEOUT 60)

  add_executable(test_curl_event ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_curl_event.c)
  target_link_libraries(test_curl_event PRIVATE lecurlevent)
  add_test(NAME curl_event.unit COMMAND test_curl_event)
  set_tests_properties(curl_event.unit PROPERTIES LABELS unit TIMEOUT 60)

  add_executable(test_kube_client_local ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_kube_client_local.c)
  target_link_libraries(test_kube_client_local PRIVATE lekube)
  add_test(NAME kube.client.local COMMAND test_kube_client_local)
  set_tests_properties(kube.client.local PROPERTIES LABELS integration TIMEOUT 120)

  add_executable(test_kube_client ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_kube_client.c)
  target_link_libraries(test_kube_client PRIVATE lekube)
  # Every run's whole output is searched for the tokens (kube_token_guard.py).
  set(with_api ${LE_PYTHON} ${LE_SOURCE_DIR}/tests/server/with-apiserver.py)
  set(guard ${LE_PYTHON} ${LE_SOURCE_DIR}/tests/server/kube_token_guard.py)
  add_test(NAME kube.client.ops
           COMMAND ${with_api} -- ${guard} $<TARGET_FILE:test_kube_client> ops)
  add_test(NAME kube.client.watch
           COMMAND ${with_api} --bookmark-interval 0.5 -- ${guard} $<TARGET_FILE:test_kube_client> watch)
  add_test(NAME kube.client.kubectl
           COMMAND ${with_api} -- ${guard} $<TARGET_FILE:test_kube_client> kubectl)
  set_tests_properties(kube.client.ops kube.client.watch kube.client.kubectl
                       PROPERTIES LABELS integration TIMEOUT 180)
  set_tests_properties(kube.client.kubectl PROPERTIES SKIP_RETURN_CODE 77)
else()
  foreach(target fuzz_kube_json fuzz_kube_lease fuzz_kube_status fuzz_kube_watch_event)
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
