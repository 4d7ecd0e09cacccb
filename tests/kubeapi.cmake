# SPDX-License-Identifier: MIT
# The Kubernetes API test server's own tests (tests/server/).
# Each file starts its own server(s) on free loopback ports and runs in seconds.
if(NOT LE_FUZZ)
  foreach(t registry auth watch faults launcher kubectl)
    add_test(NAME kubeapi.${t}
             COMMAND ${LE_PYTHON} ${LE_SOURCE_DIR}/tests/server/test_kubeapi_${t}.py)
    set_tests_properties(kubeapi.${t} PROPERTIES
                         LABELS integration
                         TIMEOUT 120
                         ENVIRONMENT "PYTHONDONTWRITEBYTECODE=1;LE_SOURCE_DIR=${LE_SOURCE_DIR}")
  endforeach()
  # kubectl absent: the test prints a SKIP line and exits 77.
  set_tests_properties(kubeapi.kubectl PROPERTIES SKIP_RETURN_CODE 77)
endif()
