"""The pages' templates: Jinja2 from the package, escaping everything, with the gettext
functions of the current language (``{{ _("Log in") }}``)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template.config import TemplateConfig

from tradecore_web.i18n import current_gettext, current_language, current_ngettext

__all__ = ["TEMPLATES", "template_config"]

TEMPLATES = Path(__file__).parent / "templates"


def _when(value: datetime | None) -> str:
    return "—" if value is None else value.strftime("%Y-%m-%d %H:%M:%S UTC")


def _amount(value: Decimal | None) -> str:
    return "—" if value is None else format(value, "f")


def environment() -> Environment:
    """The Jinja2 environment of the pages."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(  # type: ignore[attr-defined]
        current_gettext, current_ngettext, newstyle=True
    )
    env.globals["language"] = current_language
    env.filters["when"] = _when
    env.filters["amount"] = _amount
    return env


def template_config() -> TemplateConfig[Any]:
    """Litestar's template settings over :func:`environment`."""
    return TemplateConfig(instance=JinjaTemplateEngine.from_environment(environment()))
