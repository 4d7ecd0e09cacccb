# SPDX-License-Identifier: MIT
# The daemon itself: flags, logging, the probe installer, the imperative shell
# around the election engine, and main().
# Helpers several modules share (util.h).
add_library(leutil STATIC ${CMAKE_CURRENT_LIST_DIR}/util.c)
target_include_directories(leutil PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(leutil PUBLIC letimeunits)

add_library(lecore STATIC
  ${CMAKE_CURRENT_LIST_DIR}/log.c
  ${CMAKE_CURRENT_LIST_DIR}/options.c
  ${CMAKE_CURRENT_LIST_DIR}/probe_install.c)
target_include_directories(lecore PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(lecore PUBLIC leutil lekubecodec lekubeconfig lejson leelection lehealth leendpointslice
                      lelock leproto lehttp)

add_executable(leader-elector ${CMAKE_CURRENT_LIST_DIR}/main.c ${CMAKE_CURRENT_LIST_DIR}/elector.c)
target_link_libraries(leader-elector PRIVATE lecore leelection lekube lelock leevents lesockserver
                      lehttp leelectionmetrics lemetrics leproto PkgConfig::SYSTEMD)
