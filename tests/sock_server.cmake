# SPDX-License-Identifier: MIT
# Tests of daemon/sock_server: real sockets in a temporary directory and
# socketpair(); as root it also checks RESIGN with other uids and groups.
if(NOT LE_FUZZ)
  add_executable(test_sock_server ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_sock_server.c)
  target_link_libraries(test_sock_server PRIVATE lesockserver)
  # The test plays a race on the socket's directory from inside bind().
  target_link_options(test_sock_server PRIVATE -Wl,--wrap=bind)
  add_test(NAME sock_server.unit COMMAND test_sock_server)
  set_tests_properties(sock_server.unit PROPERTIES LABELS unit TIMEOUT 120)
endif()
