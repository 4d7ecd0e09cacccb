# SPDX-License-Identifier: MIT
# Tests of the in-cluster configuration (daemon/kube_config.c).
if(NOT LE_FUZZ)
  add_executable(test_kube_config ${CMAKE_CURRENT_LIST_DIR}/unit/test_kube_config.c)
  target_link_libraries(test_kube_config PRIVATE lekube)
  add_test(NAME kube_config.unit COMMAND test_kube_config)
  set_tests_properties(kube_config.unit PROPERTIES LABELS unit TIMEOUT 60)
endif()
