import pytest


def pytest_configure(config: pytest.Config) -> None:
    # The root conftest normally registers the plugin; this keeps the app's tests runnable alone.
    if not config.pluginmanager.has_plugin("apps.fakellm.testing"):
        config.pluginmanager.import_plugin("apps.fakellm.testing")
