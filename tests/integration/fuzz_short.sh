#!/bin/bash
# fuzz_short.sh - the short fuzz pass of make check: every libFuzzer target
# (tests/fuzz/, built by make fuzz-build with clang and ASan+UBSan) for 15 s
# on its seed corpus.  make fuzz runs the same targets for longer.
exec "$(dirname "$0")/../fuzz/run.sh"
