# tests/: unit test programs, one per part, tests/unit/test_PART.c
# (tests/run runs every one of them and every tests/integration/*.sh)
UNIT_TESTS = $(sort $(wildcard tests/unit/test_*.c))
