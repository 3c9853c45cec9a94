import pytest

pytest_plugins = ["apps.fakellm.testing", "apps.core.testing"]
