# SPDX-License-Identifier: MIT
# Tests of leader-run (probe/leader-run.c): the static musl binary
# (leader_run.static: static, size; leader_run.noheap) and
# leader_run.integration (tests/integration/test_leader_run.py; .host: the host
# compiler's build, with the sanitizers in the asan preset): leader-run
# wrapping a small app on every pod of a harness cluster, through handoffs,
# crashes, a partition and RESIGN, never two pods' apps at once; with its
# negative control, a build that consumes every line at once
# (leader-run-consume-first), where the check finds the overlap.
if(NOT LE_FUZZ)
  get_property(le_run GLOBAL PROPERTY LE_RUN_BINARY)
  get_property(le_run_probe GLOBAL PROPERTY LE_PROBE_BINARY)

  add_test(NAME leader_run.static
           COMMAND sh -c [=[
             info=$(file -b "$1") && echo "$info" &&
             echo "$info" | grep -q "statically linked" &&
             ! echo "$info" | grep -qi "dynamic\|interpreter" &&
             size=$(stat -c %s "$1") && echo "size $size bytes (limit 65536)" &&
             [ "$size" -le 65536 ]]=] sh ${le_run})
  # Fails if anything linked an allocator into leader-run.
  add_test(NAME leader_run.noheap
           COMMAND sh -c [=[
             nm "$1" > /dev/null &&
             ! nm "$1" | grep -E " [TtWw] (malloc|calloc|realloc|aligned_alloc|posix_memalign)$"]=]
                   sh ${le_run}.full)
  set_tests_properties(leader_run.static leader_run.noheap PROPERTIES LABELS unit TIMEOUT 30)

  set(le_run_env
      "LE_DAEMON=$<TARGET_FILE:leader-elector>"
      "LE_PROBE=${le_run_probe}"
      "LE_RUN_CONSUME_FIRST=$<TARGET_FILE:leader-run-consume-first>"
      "PYTHONDONTWRITEBYTECODE=1")
  add_test(NAME leader_run.integration
           COMMAND ${LE_PYTHON} ${LE_SOURCE_DIR}/tests/integration/test_leader_run.py)
  # The same with the host compiler's build (the sanitizers under LE_SANITIZE).
  add_test(NAME leader_run.integration.host
           COMMAND ${LE_PYTHON} ${LE_SOURCE_DIR}/tests/integration/test_leader_run.py)
  set_tests_properties(leader_run.integration PROPERTIES
                       ENVIRONMENT "${le_run_env};LE_RUN=${le_run}")
  set_tests_properties(leader_run.integration.host PROPERTIES
                       ENVIRONMENT "${le_run_env};LE_RUN=$<TARGET_FILE:leader-run-host>")
  set_tests_properties(leader_run.integration leader_run.integration.host PROPERTIES
                       LABELS integration
                       TIMEOUT 200
                       RESOURCE_LOCK le_failover)
endif()
