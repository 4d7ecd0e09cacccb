# SPDX-License-Identifier: MIT
# Tests of proto/: proto.unit, both directions; proto.duration, the duration
# parser (proto/duration.c); proto.fuzz.request, proto.fuzz.reply and
# proto.fuzz.duration (fuzz preset only), the three parsers.
if(NOT LE_FUZZ)
  add_executable(test_proto ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_proto.c)
  target_link_libraries(test_proto PRIVATE leproto)
  add_test(NAME proto.unit COMMAND test_proto)
  set_tests_properties(proto.unit PROPERTIES LABELS unit TIMEOUT 60)
  add_executable(test_duration ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_duration.c)
  target_link_libraries(test_duration PRIVATE leproto)
  add_test(NAME proto.duration COMMAND test_duration)
  set_tests_properties(proto.duration PROPERTIES LABELS unit TIMEOUT 60)
else()
  foreach(input request reply duration)
    set(target fuzz_proto_${input})
    if(input STREQUAL "duration")
      set(target fuzz_duration)
    endif()
    add_executable(${target} ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/${target}.c)
    target_link_libraries(${target} PRIVATE leproto)
    target_link_options(${target} PRIVATE -fsanitize=fuzzer)
    # New inputs go to a directory of the build tree; the committed seed
    # corpus is only read.
    set(work ${CMAKE_CURRENT_BINARY_DIR}/fuzz-work/${target})
    file(MAKE_DIRECTORY ${work})
    add_test(NAME proto.fuzz.${input}
             COMMAND ${target} -max_total_time=5 -timeout=10 -rss_limit_mb=1024
                     -print_final_stats=1 ${work}
                     ${LE_SOURCE_DIR}/tests/fuzz/corpus/${target})
    set_tests_properties(proto.fuzz.${input} PROPERTIES LABELS fuzz TIMEOUT 120)
  endforeach()
endif()
