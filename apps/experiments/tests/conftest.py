"""Projects and endpoints the experiments tests build on: one set for `owner`, one for `other_user`."""

import pytest

from apps.endpoints.models import Endpoint
from apps.projects.models import Project

# Nothing listens on port 9: these tests save experiments and never call the endpoint.
UNREACHABLE = "http://127.0.0.1:9/v1"


@pytest.fixture
def project(owner):
    return Project.objects.create(owner=owner, name="Mine")


@pytest.fixture
def other_project(other_user):
    return Project.objects.create(owner=other_user, name="Theirs")


@pytest.fixture
def endpoint(owner):
    return Endpoint.objects.create(owner=owner, label="local", base_url=UNREACHABLE)


@pytest.fixture
def other_endpoint(other_user):
    return Endpoint.objects.create(owner=other_user, label="theirs", base_url=UNREACHABLE)
