import pytest

# The harness asserts for the role tests: show pytest's comparison when one fails.
pytest.register_assert_rewrite("tests.roles.harness")
