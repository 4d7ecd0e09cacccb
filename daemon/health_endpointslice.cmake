# SPDX-License-Identifier: MIT
# Leadership that follows the application's health, and EndpointSlice mode:
#   lehealth:        the health checker (HTTP through curl_event, TCP connect)
#                    and its hysteresis, on sd-event
#   leendpointslice: the leader's EndpointSlice (bodies, classification, and
#                    the get/create/update writer on the API client)
add_library(lehealth STATIC ${CMAKE_CURRENT_LIST_DIR}/health.c)
target_include_directories(lehealth PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(lehealth PUBLIC lecurlevent)

add_library(leendpointslice STATIC ${CMAKE_CURRENT_LIST_DIR}/endpointslice.c)
target_include_directories(leendpointslice PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(leendpointslice PUBLIC leutil lekube)
