"""Latency and cost as the analytics page prints them (the charts' labels use the same functions)."""

from __future__ import annotations

from django import template

from apps.web import analytics_charts

register = template.Library()
register.filter("ms", analytics_charts.ms)
register.filter("usd", analytics_charts.usd)
