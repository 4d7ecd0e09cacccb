# SPDX-License-Identifier: MIT
# Leadership that follows the application's health, and EndpointSlice mode:
#   lehealth:        the health checker (HTTP through curl_event, TCP connect)
#                    and its hysteresis, on sd-event
#   leendpointslicecodec: the EndpointSlice's flag parsers (endpointslice_flags.c)
#                    and its codec (endpointslice_codec.c: bodies, classification),
#                    pure: what the fuzz target links
#   leendpointslice: the leader's EndpointSlice writer (get/create/update on
#                    the API client)
add_library(lehealth STATIC ${CMAKE_CURRENT_LIST_DIR}/health.c)
target_include_directories(lehealth PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(lehealth PUBLIC lecurlevent)

add_library(leendpointslicecodec STATIC
  ${CMAKE_CURRENT_LIST_DIR}/endpointslice_flags.c
  ${CMAKE_CURRENT_LIST_DIR}/endpointslice_codec.c)
target_include_directories(leendpointslicecodec PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(leendpointslicecodec PUBLIC leutil lejson)

add_library(leendpointslice STATIC ${CMAKE_CURRENT_LIST_DIR}/endpointslice.c)
target_include_directories(leendpointslice PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(leendpointslice PUBLIC leendpointslicecodec leutil lekube)
