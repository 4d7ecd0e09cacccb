# SPDX-License-Identifier: MIT
# Tests of the Kubernetes API client (daemon/kube_client.c):
#   kube_client.local    against a scripted HTTP server on the test's own loop
#                        (10 MiB and garbage bodies, plain-text 429, watch
#                        stream edge cases, the request bytes sent)
#   kube_client.ops      against the Kubernetes API test server
#   kube_client.watch    (tests/server/with-apiserver.py): every operation and
#   kube_client.kubectl  error class, watch, token rotation, kubectl reading
#                        our Lease
if(NOT LE_FUZZ)
  add_executable(test_kube_client_local ${CMAKE_CURRENT_LIST_DIR}/unit/test_kube_client_local.c)
  target_link_libraries(test_kube_client_local PRIVATE lekube leloopbackhttp)
  add_test(NAME kube_client.local COMMAND test_kube_client_local)
  set_tests_properties(kube_client.local PROPERTIES LABELS integration TIMEOUT 120)

  add_executable(test_kube_client ${CMAKE_CURRENT_LIST_DIR}/unit/test_kube_client.c)
  target_link_libraries(test_kube_client PRIVATE lekube)
  # Every run's whole output is searched for the tokens (kube_token_guard.py).
  set(with_api ${LE_PYTHON} ${LE_SOURCE_DIR}/tests/server/with-apiserver.py)
  set(guard ${LE_PYTHON} ${LE_SOURCE_DIR}/tests/server/kube_token_guard.py)
  add_test(NAME kube_client.ops
           COMMAND ${with_api} -- ${guard} $<TARGET_FILE:test_kube_client> ops)
  add_test(NAME kube_client.watch
           COMMAND ${with_api} --bookmark-interval 0.5 -- ${guard} $<TARGET_FILE:test_kube_client> watch)
  add_test(NAME kube_client.kubectl
           COMMAND ${with_api} -- ${guard} $<TARGET_FILE:test_kube_client> kubectl)
  set_tests_properties(kube_client.ops kube_client.watch kube_client.kubectl
                       PROPERTIES LABELS integration TIMEOUT 180)
  set_tests_properties(kube_client.kubectl PROPERTIES SKIP_RETURN_CODE 77)
endif()
