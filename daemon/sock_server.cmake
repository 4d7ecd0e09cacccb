# SPDX-License-Identifier: MIT
# The socket server (proto/ on a Unix stream socket, on the sd-event loop).
add_library(lesockserver STATIC ${CMAKE_CURRENT_LIST_DIR}/sock_server.c)
target_include_directories(lesockserver PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(lesockserver PUBLIC leutil leproto PkgConfig::SYSTEMD)
