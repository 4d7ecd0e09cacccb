# SPDX-License-Identifier: MIT
# Tests of the election engine (daemon/election.c; pure C, fake clock,
# tests/unit/election_test.h):
#   election.unit         scenarios
#   election.interleave   exhaustive interleavings
#   election.sim          randomized multi-engine simulation over a linearizable Lease store
#   election.health       the HEALTH event's rules
#   election.precision    whole-second times (time_precision_usec, the Endpoints lock)
if(NOT LE_FUZZ)
  foreach(kind IN ITEMS unit interleave sim health precision)
    if(kind STREQUAL "unit")
      set(t test_election)
    else()
      set(t test_election_${kind})
    endif()
    add_executable(${t} ${CMAKE_CURRENT_LIST_DIR}/unit/${t}.c)
    target_include_directories(${t} PRIVATE ${CMAKE_CURRENT_LIST_DIR}/unit)
    target_link_libraries(${t} PRIVATE leelection m)
    add_test(NAME election.${kind} COMMAND ${t})
  endforeach()
  set_tests_properties(election.unit election.interleave election.sim
                       PROPERTIES LABELS unit TIMEOUT 240)
  set_tests_properties(election.health election.precision PROPERTIES LABELS unit TIMEOUT 60)
endif()
