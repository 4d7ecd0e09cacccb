# SPDX-License-Identifier: MIT
# Tests of --events (daemon/events.c, post_transition() in daemon/elector.c) end to end:
#   events.e2e  daemons with --events against the Kubernetes API test server: the
#               Events are on the lock object (Lease, Endpoints, both) with its uid
#               and on the pod with $POD_UID, found as `kubectl describe` finds
#               them (and by the real kubectl when installed)
# The Event body and the poster alone: lock.events and lock.api (tests/lock.cmake).
if(NOT LE_FUZZ)
  add_test(NAME events.e2e
           COMMAND ${LE_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/integration/test_events_e2e.py
                   $<TARGET_FILE:leader-elector>)
  set_tests_properties(events.e2e PROPERTIES
                       LABELS integration TIMEOUT 300 RESOURCE_LOCK le_failover
                       ENVIRONMENT "PYTHONDONTWRITEBYTECODE=1")
endif()
