# SPDX-License-Identifier: MIT
# The Kubernetes API client and what it is built from:
#   lejson:      the daemon's one jsmn wrapper (parse, unescape, lookup,
#                patch-in-place, bounded writer)
#   lekubecodec: Lease / Status / watch-event / MicroTime codecs (no I/O;
#                what the fuzz targets link)
#   lecurlevent: libcurl multi driven by sd-event (generic HTTP transfers)
#   lekubeconfig: the kubeconfig parser (libyaml; no I/O but reading the
#                one file; what the fuzz target links)
#   lekube:      the API client: config, auth, requests, watch
add_library(lejson STATIC ${CMAKE_CURRENT_LIST_DIR}/json.c)
target_include_directories(lejson PUBLIC ${CMAKE_CURRENT_LIST_DIR} ${JSMN_INCLUDE_DIR})

add_library(lekubecodec STATIC
  ${CMAKE_CURRENT_LIST_DIR}/kube_time.c
  ${CMAKE_CURRENT_LIST_DIR}/kube_status.c
  ${CMAKE_CURRENT_LIST_DIR}/kube_lease.c
  ${CMAKE_CURRENT_LIST_DIR}/kube_watch_event.c)
target_link_libraries(lekubecodec PUBLIC lejson letimeunits)

add_library(lecurlevent STATIC ${CMAKE_CURRENT_LIST_DIR}/curl_event.c)
target_include_directories(lecurlevent PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(lecurlevent PUBLIC letimeunits PkgConfig::SYSTEMD PkgConfig::CURL)

add_library(lekubeconfig STATIC ${CMAKE_CURRENT_LIST_DIR}/kubeconfig.c)
target_include_directories(lekubeconfig PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(lekubeconfig PUBLIC PkgConfig::YAML)

add_library(lekube STATIC
  ${CMAKE_CURRENT_LIST_DIR}/kube_config.c
  ${CMAKE_CURRENT_LIST_DIR}/kube_client.c)
target_link_libraries(lekube PUBLIC lekubecodec lecurlevent lekubeconfig)
