"""The form renderer: Django's own widget templates in their Jinja2 versions, everything else as before.

Django ships every built-in widget template twice, for its template language and for Jinja2
(django/forms/jinja2/), with the same markup. Jinja2 compiles a template to Python, so a widget renders in
about a third of the time: the live view's start form (24 widgets) went from 4.6 to 1.9 ms (bench/pages.py).
Templates Django does not ship in Jinja2 (the admin's widgets, any `template_name` of ours, the form and
field layouts) still come from the Django engine, unchanged.
"""

from __future__ import annotations

from django.forms.renderers import BaseRenderer, DjangoTemplates, Jinja2
from django.template.exceptions import TemplateDoesNotExist
from django.utils.functional import cached_property

WIDGETS = "django/forms/widgets/"


class FastWidgets(BaseRenderer):
    @cached_property
    def _jinja2(self) -> Jinja2:
        return Jinja2()

    @cached_property
    def _django(self) -> DjangoTemplates:
        return DjangoTemplates()

    def get_template(self, template_name: str):
        if template_name.startswith(WIDGETS):
            try:
                return self._jinja2.get_template(template_name)
            except TemplateDoesNotExist:
                pass
        return self._django.get_template(template_name)
