# SPDX-License-Identifier: MIT
# Tests of the lock backends and Events (daemon/lock.c, daemon/events.c):
#   lock.unit   codecs on the real Endpoints capture, MultiLock decisions (test_lock.c built
#               as test_lock_codec, with TEST_LOCK_CODEC_ONLY: links only lelockcodec)
#   lock.events the Event body
#   lock.api    every lock type and Events against the test server
#   lock.fuzz   (LE_FUZZ) the Endpoints object and annotation decoders
# The migration from the old sidecar through these locks: tests/migration.cmake.
if(NOT LE_FUZZ)
  add_executable(test_lock_codec ${CMAKE_CURRENT_LIST_DIR}/unit/test_lock.c)
  target_include_directories(test_lock_codec PRIVATE ${CMAKE_CURRENT_LIST_DIR}/unit)
  target_compile_definitions(test_lock_codec PRIVATE TEST_LOCK_CODEC_ONLY)
  target_link_libraries(test_lock_codec PRIVATE lelockcodec)
  add_test(NAME lock.unit COMMAND test_lock_codec unit ${LE_SOURCE_DIR}/tests/data/k8s-api)
  set_tests_properties(lock.unit PROPERTIES LABELS unit TIMEOUT 60)

  add_executable(test_lock ${CMAKE_CURRENT_LIST_DIR}/unit/test_lock.c)
  target_include_directories(test_lock PRIVATE ${CMAKE_CURRENT_LIST_DIR}/unit)
  target_link_libraries(test_lock PRIVATE lelock leevents)
  add_test(NAME lock.events COMMAND test_lock events)
  set_tests_properties(lock.events PROPERTIES LABELS unit TIMEOUT 60)
  add_test(NAME lock.api
           COMMAND ${LE_PYTHON} ${LE_SOURCE_DIR}/tests/server/with-apiserver.py --
                   $<TARGET_FILE:test_lock> api)
  set_tests_properties(lock.api PROPERTIES LABELS integration TIMEOUT 120)
else()
  # The Endpoints lock's decoders (the annotation is outside input).
  add_executable(fuzz_lock_endpoints ${CMAKE_CURRENT_LIST_DIR}/fuzz/fuzz_lock_endpoints.c)
  target_link_libraries(fuzz_lock_endpoints PRIVATE lelockcodec)
  target_link_options(fuzz_lock_endpoints PRIVATE -fsanitize=fuzzer)
  set(work ${CMAKE_CURRENT_BINARY_DIR}/fuzz-work/fuzz_lock_endpoints)
  file(MAKE_DIRECTORY ${work})
  add_test(NAME lock.fuzz
           COMMAND fuzz_lock_endpoints -max_total_time=5 -timeout=10 -rss_limit_mb=1024
                   -max_len=65536 -print_final_stats=1 ${work}
                   ${LE_SOURCE_DIR}/tests/fuzz/corpus/fuzz_lock_endpoints)
  set_tests_properties(lock.fuzz PROPERTIES LABELS fuzz TIMEOUT 120)
endif()
