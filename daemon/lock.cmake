# SPDX-License-Identifier: MIT
# The election's lock backends and Kubernetes Events:
#   lelock:   Lease, Endpoints annotation (the old sidecar's lock) and the
#             Endpoints+Lease MultiLock behind one interface (daemon/lock.h)
#   leevents: core/v1 Events on leadership transitions, bounded and best-effort
#             (daemon/events.h)
# lelock is built on lelockcodec, the lock's codecs (pure; daemon/lock_codec.h: the
# annotation record, the Endpoints object and its bodies, the MultiLock's combined record,
# Lease <-> record), which is what the unit tests and the fuzz target link.
add_library(lelockcodec STATIC ${CMAKE_CURRENT_LIST_DIR}/lock_codec.c)
target_include_directories(lelockcodec PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(lelockcodec PUBLIC lekubecodec)

add_library(lelock STATIC ${CMAKE_CURRENT_LIST_DIR}/lock.c)
target_include_directories(lelock PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(lelock PUBLIC lelockcodec lekube leelection PkgConfig::SYSTEMD)

add_library(leevents STATIC ${CMAKE_CURRENT_LIST_DIR}/events.c)
target_include_directories(leevents PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(leevents PUBLIC lekube PkgConfig::SYSTEMD)
