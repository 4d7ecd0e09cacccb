# SPDX-License-Identifier: MIT
# The optional HTTP endpoint (--http) and the metrics it serves.
#   lemetrics:         a generic registry: counters, gauges, histograms in the
#                      Prometheus text format
#   leelectionmetrics: the daemon's own metrics on it (daemon/election_metrics.h)
#   lehttp:            libmicrohttpd on the sd-event loop (old {"name":...} answer,
#                      /status, /healthz, /readyz, /metrics)
pkg_check_modules(MICROHTTPD IMPORTED_TARGET libmicrohttpd>=0.9.71)
if(NOT MICROHTTPD_FOUND)
  message(FATAL_ERROR "missing dependency libmicrohttpd: install the Debian package "
                      "'libmicrohttpd-dev' (apt-get install libmicrohttpd-dev, or run deploy/setup.sh)")
endif()

add_library(lemetrics STATIC ${CMAKE_CURRENT_LIST_DIR}/metrics.c)
target_include_directories(lemetrics PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(lemetrics PUBLIC letimeunits m)

add_library(leelectionmetrics STATIC ${CMAKE_CURRENT_LIST_DIR}/election_metrics.c)
target_include_directories(leelectionmetrics PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(leelectionmetrics PUBLIC lemetrics leproto)

add_library(lehttp STATIC ${CMAKE_CURRENT_LIST_DIR}/http_server.c)
target_include_directories(lehttp PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(lehttp PUBLIC leelectionmetrics leproto PkgConfig::SYSTEMD PkgConfig::MICROHTTPD)
