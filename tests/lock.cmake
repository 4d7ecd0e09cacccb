# SPDX-License-Identifier: MIT
# Tests of the lock backends, Events and the migration from the old sidecar (issue 6):
#   lock.unit          codecs on the real Endpoints capture, MultiLock decisions (test_lock.c
#                      built as test_lock_codec: links only the codecs, lelockcodec)
#   lock.events        the Event body
#   lock.api           every lock type and Events against the test server
#   election.precision the engine with whole-second times (time_precision_usec)
#   migration.*        old-protocol candidates (tests/old_sidecar.py) and daemons in
#                      endpointsleases mode, rolling replacement, never two leaders;
#                      classic consumers (kubectl, curl | grep, a Node.js poller)
#   fuzz_lock_endpoints.smoke (LE_FUZZ) the Endpoints object and annotation decoders
if(NOT LE_FUZZ)
  add_executable(test_lock_codec ${CMAKE_CURRENT_LIST_DIR}/test_lock.c)
  target_include_directories(test_lock_codec PRIVATE ${CMAKE_CURRENT_LIST_DIR})
  target_compile_definitions(test_lock_codec PRIVATE TEST_LOCK_CODEC_ONLY)
  target_link_libraries(test_lock_codec PRIVATE lelockcodec)
  add_test(NAME lock.unit COMMAND test_lock_codec unit ${LE_SOURCE_DIR}/tests/data/k8s-api)
  set_tests_properties(lock.unit PROPERTIES LABELS unit TIMEOUT 60)

  add_executable(test_lock ${CMAKE_CURRENT_LIST_DIR}/test_lock.c)
  target_include_directories(test_lock PRIVATE ${CMAKE_CURRENT_LIST_DIR})
  target_link_libraries(test_lock PRIVATE lelock leevents)
  add_test(NAME lock.events COMMAND test_lock events)
  set_tests_properties(lock.events PROPERTIES LABELS unit TIMEOUT 60)
  add_test(NAME lock.api
           COMMAND ${LE_PYTHON} ${LE_SOURCE_DIR}/tests/with-apiserver.py -- $<TARGET_FILE:test_lock> api)
  set_tests_properties(lock.api PROPERTIES LABELS integration TIMEOUT 120)

  foreach(mode rollout endpoints refuse control)
    add_test(NAME migration.${mode}
             COMMAND ${LE_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/test_migration.py
                     $<TARGET_FILE:leader-elector> ${mode})
    set_tests_properties(migration.${mode} PROPERTIES LABELS integration TIMEOUT 240
                         RESOURCE_LOCK le_failover)
  endforeach()

  add_executable(test_election_precision ${CMAKE_CURRENT_LIST_DIR}/test_election_precision.c)
  target_include_directories(test_election_precision PRIVATE ${CMAKE_CURRENT_LIST_DIR})
  target_link_libraries(test_election_precision PRIVATE leelection)
  add_test(NAME election.precision COMMAND test_election_precision)
  set_tests_properties(election.precision PROPERTIES LABELS unit TIMEOUT 60)
else()
  # The Endpoints lock's decoders (the annotation is outside input).
  add_executable(fuzz_lock_endpoints ${CMAKE_CURRENT_LIST_DIR}/fuzz/fuzz_lock_endpoints.c)
  target_link_libraries(fuzz_lock_endpoints PRIVATE lelockcodec)
  target_link_options(fuzz_lock_endpoints PRIVATE -fsanitize=fuzzer)
  set(work ${CMAKE_CURRENT_BINARY_DIR}/fuzz-work/fuzz_lock_endpoints)
  file(MAKE_DIRECTORY ${work})
  add_test(NAME fuzz_lock_endpoints.smoke
           COMMAND fuzz_lock_endpoints -max_total_time=5 -timeout=10 -rss_limit_mb=1024
                   -max_len=65536 -print_final_stats=1 ${work}
                   ${LE_SOURCE_DIR}/tests/fuzz/corpus/fuzz_lock_endpoints)
  set_tests_properties(fuzz_lock_endpoints.smoke PROPERTIES LABELS fuzz TIMEOUT 120)
endif()
