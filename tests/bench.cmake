# SPDX-License-Identifier: MIT
# Benchmark tools, not tests (tests/bench/): bench-status-load puts STATUS
# load on the socket for tests/bench/bench-election.sh. tests/bench/bench-probe.sh
# uses fake-proto-server and probe-vmhwm (tests/probe.cmake).
if(NOT LE_FUZZ)
  add_executable(bench-status-load ${CMAKE_CURRENT_LIST_DIR}/bench/bench-status-load.c)
  target_link_libraries(bench-status-load PRIVATE leproto)
endif()
