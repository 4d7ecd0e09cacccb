# SPDX-License-Identifier: MIT
# Multi-daemon failover and safety tests (tests/harness/, tests/integration/test_failover_*.py):
# several leader-elector daemons against the Kubernetes API test server, every
# probe polled at >= 20 Hz and every WATCH claim recorded, never two leaders.
# They share one lock so that two of them never compete for the CPU (their
# bounds are timing bounds); each runs in seconds, all together in ~3 minutes.
if(NOT LE_FUZZ)
  get_property(le_failover_probe GLOBAL PROPERTY LE_PROBE_BINARY)
  set(le_failover_env
      "LE_DAEMON=$<TARGET_FILE:leader-elector>"
      "LE_PROBE=${le_failover_probe}"
      "PYTHONDONTWRITEBYTECODE=1")

  foreach(t harness signals partition storms token lease identity resign defaults chaos applied)
    add_test(NAME failover.${t}
             COMMAND ${LE_PYTHON} ${LE_SOURCE_DIR}/tests/integration/test_failover_${t}.py)
    set_tests_properties(failover.${t} PROPERTIES
                         LABELS integration
                         TIMEOUT 150
                         RESOURCE_LOCK le_failover
                         ENVIRONMENT "${le_failover_env}")
  endforeach()

  # The chaos run once more with client-go's MultiLock (Endpoints + Lease), the
  # migration mode from the old sidecar.
  add_test(NAME failover.chaos.endpointsleases
           COMMAND ${LE_PYTHON} ${LE_SOURCE_DIR}/tests/integration/test_failover_chaos.py)
  set_tests_properties(failover.chaos.endpointsleases PROPERTIES
                       LABELS integration
                       TIMEOUT 150
                       RESOURCE_LOCK le_failover
                       ENVIRONMENT "${le_failover_env};LE_CHAOS_LOCK=endpointsleases;LE_CHAOS_SECONDS=15")

  # The daemons through nghttpx, a TLS + HTTP/2 front end of the test server
  # (which speaks HTTP/1.1 only): every request HTTP/2, one connection per
  # daemon, a graceful handoff through the watch stream. Skips (77) without
  # nghttpx (Debian package nghttp2-proxy).
  add_test(NAME failover.http2
           COMMAND ${LE_PYTHON} ${LE_SOURCE_DIR}/tests/integration/test_http2.py)
  set_tests_properties(failover.http2 PROPERTIES
                       LABELS integration
                       TIMEOUT 150
                       RESOURCE_LOCK le_failover
                       SKIP_RETURN_CODE 77
                       ENVIRONMENT "${le_failover_env}")

  # One chaos run with every daemon under valgrind (valgrind and ASan do not mix).
  if(NOT LE_SANITIZE)
    find_program(LE_FAILOVER_VALGRIND valgrind)
    if(LE_FAILOVER_VALGRIND)
      add_test(NAME failover.valgrind
               COMMAND ${LE_PYTHON} ${LE_SOURCE_DIR}/tests/integration/test_failover_valgrind.py)
      set_tests_properties(failover.valgrind PROPERTIES
                           LABELS integration
                           TIMEOUT 240
                           RESOURCE_LOCK le_failover
                           ENVIRONMENT "${le_failover_env};LE_DAEMON_WRAPPER=${LE_FAILOVER_VALGRIND} --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect -q")
    endif()
  endif()
endif()
