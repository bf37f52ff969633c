"""The PostgreSQL tests take ``pg_url`` (a fresh, empty database per test on the server at
``DISPATCH_TEST_PG``, skipped when it is unreachable, failing when ``CI`` is set) from tests/conftest.py,
which the store-level suite's ``store_engine`` shares."""
