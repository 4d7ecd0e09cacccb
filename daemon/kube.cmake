# The Kubernetes API client and what it is built from:
#   lejson:      the daemon's one jsmn wrapper (parse, unescape, lookup,
#                patch-in-place, bounded writer)
#   lekubecodec: Lease / Status / watch-event / MicroTime codecs (no I/O;
#                what the fuzz targets link)
add_library(lejson STATIC ${CMAKE_CURRENT_LIST_DIR}/json.c)
target_include_directories(lejson PUBLIC ${CMAKE_CURRENT_LIST_DIR} ${JSMN_INCLUDE_DIR})

add_library(lekubecodec STATIC
  ${CMAKE_CURRENT_LIST_DIR}/kube_time.c
  ${CMAKE_CURRENT_LIST_DIR}/kube_status.c
  ${CMAKE_CURRENT_LIST_DIR}/kube_lease.c
  ${CMAKE_CURRENT_LIST_DIR}/kube_watch_event.c)
target_link_libraries(lekubecodec PUBLIC lejson)
