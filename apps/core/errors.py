"""The service error contract: what a service raises when it refuses, whatever surface called it.

A refusal carries field errors (`errors`, keyed by field path such as ``stages.0.model``), a
`detail` message, or both, plus optional `extra` keys for the response body. The REST exception
handler (apps.core.exceptions) renders them; HTML forms use `form_add_service_errors`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Self

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied
from django.http import Http404

NON_FIELD_KEYS = (NON_FIELD_ERRORS, "non_field_errors")


class ServiceError(Exception):
    """Base of every refusal a service reports to its caller; `status` is the HTTP answer."""

    status: ClassVar[int] = 400

    def __init__(self, detail: str = "", *, errors: Mapping[str, list[str]] | None = None,
                 extra: Mapping[str, Any] | None = None) -> None:
        self.detail = detail
        self.errors: dict[str, list[str]] = {key: list(messages) for key, messages in (errors or {}).items()}
        self.extra: dict[str, Any] = dict(extra or {})
        super().__init__(detail or self._summary())

    @classmethod
    def field(cls, name: str, *messages: str) -> Self:
        """The common case: one field and what is wrong with it."""
        return cls(errors={name: list(messages)})

    def body(self) -> dict[str, Any]:
        """The JSON body: field errors at the top level, then `detail`, then the extra keys."""
        body: dict[str, Any] = dict(self.errors)
        if self.detail:
            body["detail"] = self.detail
        return {**body, **self.extra}

    def _summary(self) -> str:
        return "; ".join(f"{key}: {' '.join(messages)}" for key, messages in self.errors.items())


class InvalidInput(ServiceError):
    """The input breaks a rule; `errors` says which field and why (400)."""

    status = 400


class Unauthenticated(ServiceError):
    """No usable credentials (no key, or an invalid, expired or revoked one): say who you are first (401)."""

    status = 401


class Forbidden(ServiceError, PermissionDenied):
    """The caller may not do this, whatever the input (403; Django answers it as such in HTML views too)."""

    status = 403


class NotFound(ServiceError, Http404):
    """The thing asked for does not exist, or not for this caller (404; an HTML view shows the 404 page)."""

    status = 404


class Conflict(ServiceError):
    """The request is fine but the current state refuses it: try again after changing that state (409)."""

    status = 409


class RateLimited(ServiceError):
    """Too many attempts; try again later (429)."""

    status = 429


class Unavailable(ServiceError):
    """A dependency the service needs is not available right now (503)."""

    status = 503


def form_add_service_errors(form: forms.BaseForm, error: ServiceError, *,
                            fields: Mapping[str, str] | None = None) -> None:
    """Put each field error of `error` on the form field it names, and everything else in non-field errors.

    A dotted key (``stages.0.model``) lands on its first segment's field, prefixed with the rest of the path;
    `fields` maps service field names to form field names where they differ. A key the form has no visible
    field for stays a non-field error that names the key, so the user still learns where the problem is.
    """
    fields = fields or {}
    for key, messages in error.errors.items():
        head, _, rest = key.partition(".")
        name = fields.get(head, head)
        field = form.fields.get(name)
        if field is not None and field.widget.is_hidden:
            name = None  # its error would show nowhere near it, and its name means nothing to the user
        elif field is None:
            name, rest = None, "" if key in NON_FIELD_KEYS else key
        for message in messages:
            form.add_error(name, f"{rest}: {message}" if rest else message)
    if error.detail:
        form.add_error(None, error.detail)
