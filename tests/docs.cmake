# SPDX-License-Identifier: MIT
# The documentation and the tree: the README documents every flag of the
# binaries (daemon, probe, leader-run) and names no flag they lack; one licence in every file (SPDX MIT),
# nothing stray at the repository root; every C file as .clang-format says.
if(NOT LE_FUZZ)
  get_property(le_probe GLOBAL PROPERTY LE_PROBE_BINARY)
  get_property(le_run GLOBAL PROPERTY LE_RUN_BINARY)
  add_test(NAME docs.flags
           COMMAND ${LE_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/integration/test_docs.py
                   $<TARGET_FILE:leader-elector> ${le_probe} ${le_run} ${LE_SOURCE_DIR}/README.md)
  set_tests_properties(docs.flags PROPERTIES LABELS integration TIMEOUT 60)
  add_test(NAME docs.tree
           COMMAND ${LE_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/integration/test_tree.py ${LE_SOURCE_DIR})
  set_tests_properties(docs.tree PROPERTIES LABELS unit TIMEOUT 60)
endif()
if(NOT LE_FUZZ)
  # Every C file formatted as .clang-format says (skipped without clang-format-14).
  add_test(NAME docs.format
           COMMAND ${LE_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/integration/test_format.py ${LE_SOURCE_DIR})
  set_tests_properties(docs.format PROPERTIES LABELS unit TIMEOUT 120 SKIP_RETURN_CODE 77)
endif()
