# SPDX-License-Identifier: MIT
# Tests of probe/: the static musl binary (probe.static: static, size;
# probe.noheap) and both builds driven through every exit code by the scripted
# server (tests/integration/fake-proto-server.c): probe.exitcodes the musl
# binary (with its peak RSS, tests/integration/probe-vmhwm.c),
# probe.exitcodes.host the host compiler's (with the sanitizers under LE_SANITIZE).
if(NOT LE_FUZZ)
  get_property(le_probe GLOBAL PROPERTY LE_PROBE_BINARY)

  add_executable(fake-proto-server ${CMAKE_CURRENT_SOURCE_DIR}/integration/fake-proto-server.c)
  target_link_libraries(fake-proto-server PRIVATE leproto lesockserver)
  add_executable(probe-vmhwm ${CMAKE_CURRENT_SOURCE_DIR}/integration/probe-vmhwm.c)

  add_test(NAME probe.static
           COMMAND sh -c [=[
             info=$(file -b "$1") && echo "$info" &&
             echo "$info" | grep -q "statically linked" &&
             ! echo "$info" | grep -qi "dynamic\|interpreter" &&
             size=$(stat -c %s "$1") && echo "size $size bytes (limit 65536)" &&
             [ "$size" -le 65536 ]]=] sh ${le_probe})
  # Fails if anything linked an allocator into the probe.
  add_test(NAME probe.noheap
           COMMAND sh -c [=[
             nm "$1" > /dev/null &&
             ! nm "$1" | grep -E " [TtWw] (malloc|calloc|realloc|aligned_alloc|posix_memalign)$"]=]
                   sh ${le_probe}.full)
  set_tests_properties(probe.static probe.noheap PROPERTIES LABELS unit TIMEOUT 30)

  add_test(NAME probe.exitcodes
           COMMAND ${LE_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_probe.py ${le_probe}
                   $<TARGET_FILE:fake-proto-server> $<TARGET_FILE:probe-vmhwm>)
  add_test(NAME probe.exitcodes.host
           COMMAND ${LE_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_probe.py
                   $<TARGET_FILE:leader-probe-host> $<TARGET_FILE:fake-proto-server>)
  set_tests_properties(probe.exitcodes probe.exitcodes.host
                       PROPERTIES LABELS integration TIMEOUT 120)
endif()
