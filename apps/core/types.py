"""Type aliases shared by the signatures of every app's services and selectors."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    # Importing these at runtime would need the app registry; annotations are only read by type checkers.
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.contrib.auth.models import AnonymousUser

Viewer: TypeAlias = "AbstractBaseUser | AnonymousUser"
"""Whoever asks: a signed-in user, or an anonymous guest (selectors decide what a guest may read)."""

Id: TypeAlias = uuid.UUID | str
"""A row id as callers hold it: a UUID from the ORM, or its text from a URL, a task argument or JSON."""
