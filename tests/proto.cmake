# SPDX-License-Identifier: MIT
# Tests of proto/: unit tests of both directions and of the duration parser,
# and (fuzz preset only) the libFuzzer targets for the request parser, the
# reply parser and the duration parser.
if(NOT LE_FUZZ)
  add_executable(test_proto ${CMAKE_CURRENT_SOURCE_DIR}/test_proto.c)
  target_link_libraries(test_proto PRIVATE leproto)
  add_test(NAME proto.unit COMMAND test_proto)
  set_tests_properties(proto.unit PROPERTIES LABELS unit TIMEOUT 60)
  add_executable(test_duration ${CMAKE_CURRENT_SOURCE_DIR}/test_duration.c)
  target_link_libraries(test_duration PRIVATE leproto)
  add_test(NAME proto.duration COMMAND test_duration)
  set_tests_properties(proto.duration PROPERTIES LABELS unit TIMEOUT 60)
else()
  foreach(target fuzz_proto_request fuzz_proto_reply fuzz_duration)
    add_executable(${target} ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/${target}.c)
    target_link_libraries(${target} PRIVATE leproto)
    target_link_options(${target} PRIVATE -fsanitize=fuzzer)
    # New inputs go to a directory of the build tree; the committed seed
    # corpus is only read.
    set(work ${CMAKE_CURRENT_BINARY_DIR}/fuzz-work/${target})
    file(MAKE_DIRECTORY ${work})
    add_test(NAME ${target}.smoke
             COMMAND ${target} -max_total_time=5 -timeout=10 -rss_limit_mb=1024
                     -print_final_stats=1 ${work}
                     ${LE_SOURCE_DIR}/tests/fuzz/corpus/${target})
    set_tests_properties(${target}.smoke PROPERTIES LABELS fuzz TIMEOUT 120)
  endforeach()
endif()
