# SPDX-License-Identifier: MIT
# Tests of libcurl's multi interface on sd-event (daemon/curl_event.c),
# against a loopback HTTP server on the same loop.
if(NOT LE_FUZZ)
  add_executable(test_curl_event ${CMAKE_CURRENT_LIST_DIR}/unit/test_curl_event.c)
  target_link_libraries(test_curl_event PRIVATE lecurlevent leloopbackhttp)
  add_test(NAME curl_event.unit COMMAND test_curl_event)
  set_tests_properties(curl_event.unit PROPERTIES LABELS unit TIMEOUT 60)
endif()
