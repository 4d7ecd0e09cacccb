# SPDX-License-Identifier: MIT
# The election engine: pure C, no I/O, no clock reads, no dependencies but the header of time
# units (proto/time_units.h) (see daemon/election.h).
add_library(leelection STATIC ${CMAKE_CURRENT_LIST_DIR}/election.c)
target_include_directories(leelection PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(leelection PUBLIC letimeunits)
