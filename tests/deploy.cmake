# SPDX-License-Identifier: MIT
# Tests of deploy/: every kustomization renders with `kubectl kustomize` and
# its rendered objects obey the rules of tests/integration/test_deploy_manifests.py (RBAC,
# sidecar wiring, security settings, rollout vs. routing mode, images); a
# mutation run proves that those checks catch what they are for; the image's
# root filesystem (deploy/make-rootfs.sh) runs the probe and the daemon under
# chroot. Tests that cannot run here (no kubectl, not root, the daemon not
# built yet) exit 77 and show as skipped, never as passed.
if(NOT LE_FUZZ)
  find_program(LE_KUBECTL kubectl)
  if(LE_KUBECTL)
    set(le_kubectl_arg --kubectl ${LE_KUBECTL})
  else()
    set(le_kubectl_arg --kubectl kubectl-not-found)
  endif()

  file(GLOB_RECURSE le_kustomizations CONFIGURE_DEPENDS
       ${LE_SOURCE_DIR}/deploy/*/kustomization.yaml)
  list(SORT le_kustomizations)
  set(le_deploy_tests deploy.sources deploy.mutations)
  foreach(k IN LISTS le_kustomizations)
    get_filename_component(dir ${k} DIRECTORY)
    file(RELATIVE_PATH target ${LE_SOURCE_DIR}/deploy ${dir})
    string(REPLACE "/" "." name ${target})
    add_test(NAME deploy.render.${name}
             COMMAND ${LE_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_deploy_manifests.py
                     --source-dir ${LE_SOURCE_DIR} ${le_kubectl_arg} ${target})
    list(APPEND le_deploy_tests deploy.render.${name})
  endforeach()
  add_test(NAME deploy.sources
           COMMAND ${LE_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_deploy_manifests.py
                   --source-dir ${LE_SOURCE_DIR} --sources)
  add_test(NAME deploy.mutations
           COMMAND ${LE_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_deploy_manifests.py
                   --source-dir ${LE_SOURCE_DIR} ${le_kubectl_arg} --mutations)
  set_tests_properties(${le_deploy_tests} PROPERTIES
                       LABELS integration TIMEOUT 120 SKIP_RETURN_CODE 77)

  # Every flag the examples pass is one the daemon accepts (skips, listing
  # them, while only flags of features still to come are missing).
  if(TARGET leader-elector)
    add_test(NAME deploy.flags
             COMMAND ${LE_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_deploy_manifests.py
                     --source-dir ${LE_SOURCE_DIR} ${le_kubectl_arg}
                     --flags-of $<TARGET_FILE:leader-elector>)
    set_tests_properties(deploy.flags PROPERTIES
                         LABELS integration TIMEOUT 120 SKIP_RETURN_CODE 77)
  endif()

  # The image's tree. The probe part needs the static probe and the scripted
  # protocol server; the daemon part skips until daemon/leader-elector exists.
  # fake-proto-server comes from tests/probe.cmake, included after this file:
  # register the test once the whole directory has been read.
  function(le_deploy_rootfs_probe_test)
    get_property(le_probe_bin GLOBAL PROPERTY LE_PROBE_BINARY)
    if(le_probe_bin AND TARGET fake-proto-server)
      add_test(NAME deploy.rootfs.probe
               COMMAND ${LE_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_deploy_rootfs.py probe
                       --source-dir ${LE_SOURCE_DIR} --build-dir ${PROJECT_BINARY_DIR}
                       --proto-server $<TARGET_FILE:fake-proto-server>)
      set_tests_properties(deploy.rootfs.probe PROPERTIES
                           LABELS integration TIMEOUT 120 SKIP_RETURN_CODE 77)
    else()
      message(WARNING "deploy.rootfs.probe not registered: no leader-probe or fake-proto-server")
    endif()
  endfunction()
  cmake_language(DEFER CALL le_deploy_rootfs_probe_test)
  # The manifests give the sidecar a 32Mi memory limit (deploy/examples/*):
  # the leading daemon's peak RSS must stay under it (not under the
  # sanitizers, whose shadow memory is no measure of the release build).
  if(LE_SANITIZE)
    set(le_memory_limit 0)
  else()
    set(le_memory_limit 32)
  endif()
  add_test(NAME deploy.rootfs.daemon
           COMMAND ${LE_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_deploy_rootfs.py daemon
                   --source-dir ${LE_SOURCE_DIR} --build-dir ${PROJECT_BINARY_DIR}
                   --memory-limit-mib ${le_memory_limit})
  set_tests_properties(deploy.rootfs.daemon PROPERTIES
                       LABELS integration TIMEOUT 300 SKIP_RETURN_CODE 77)
endif()
