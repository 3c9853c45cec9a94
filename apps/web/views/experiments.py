"""Experiment builder: create and edit an experiment's samples, stages, scorers, space and budgets (H1)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse


def experiment_create(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    raise Http404


def experiment_edit(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    raise Http404


def experiment_models(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    raise Http404


def experiment_space_count(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    raise Http404
