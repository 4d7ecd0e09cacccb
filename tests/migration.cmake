# SPDX-License-Identifier: MIT
# The migration from the old sidecar: old-protocol candidates
# (tests/integration/old_sidecar.py) and daemons in endpointsleases mode,
# rolling replacement, never two leaders; classic consumers (kubectl,
# curl | grep, a Node.js poller). migration.MODE for each MODE below.
if(NOT LE_FUZZ)
  foreach(mode rollout endpoints refuse control)
    add_test(NAME migration.${mode}
             COMMAND ${LE_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/integration/test_migration.py
                     $<TARGET_FILE:leader-elector> ${mode})
    set_tests_properties(migration.${mode} PROPERTIES LABELS integration TIMEOUT 240
                         RESOURCE_LOCK le_failover)
  endforeach()
endif()
