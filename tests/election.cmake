# SPDX-License-Identifier: MIT
# Election engine tests (pure C, fake clock): scenarios, exhaustive interleavings, randomized
# multi-engine simulation over a linearizable Lease store.
if(NOT LE_FUZZ)
  foreach(t test_election test_election_interleave test_election_sim)
    add_executable(${t} ${CMAKE_CURRENT_LIST_DIR}/unit/${t}.c)
    target_include_directories(${t} PRIVATE ${CMAKE_CURRENT_LIST_DIR}/unit)
    target_link_libraries(${t} PRIVATE leelection m)
    add_test(NAME ${t} COMMAND ${t})
    set_tests_properties(${t} PROPERTIES LABELS unit TIMEOUT 240)
  endforeach()
endif()
