"""The lifecycle use cases run over every store backend: the store's contract fixtures."""

from tests.store.conftest import store  # noqa: F401 - fixtures, parametrised per backend
