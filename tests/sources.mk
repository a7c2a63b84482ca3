# tests/: unit test programs, one per part (tests/run runs them)
UNIT_TESTS = \
	tests/unit/test_conf.c
