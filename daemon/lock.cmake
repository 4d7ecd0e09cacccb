# SPDX-License-Identifier: MIT
# The election's lock backends and Kubernetes Events:
#   lelock:   Lease, Endpoints annotation (the old sidecar's lock) and the
#             Endpoints+Lease MultiLock behind one interface (daemon/lock.h)
#   leevents: core/v1 Events on leadership transitions, bounded and best-effort
#             (daemon/events.h)
add_library(lelock STATIC ${CMAKE_CURRENT_LIST_DIR}/lock.c)
target_include_directories(lelock PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(lelock PUBLIC lekube leelection PkgConfig::SYSTEMD)

add_library(leevents STATIC ${CMAKE_CURRENT_LIST_DIR}/events.c)
target_include_directories(leevents PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(leevents PUBLIC lekube PkgConfig::SYSTEMD)
