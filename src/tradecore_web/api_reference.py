"""docs/api.md, generated from the OpenAPI document the web server serves (so the reference
cannot drift from the code: tests/web/test_api_reference.py compares them).

Regenerate it with ``TRADECORE_WRITE_API_DOCS=1 pytest tests/web/test_api_reference.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["markdown_reference"]

_METHODS = ("get", "post", "put", "patch", "delete")
# The reference is written to docs/, so its link to the web guide is relative to docs/ (the
# guide is docs/web.md); the name is put together here because this file is not in docs/.
_GUIDE = "web" + ".md#the-json-api"
_HEADER = """# HTTP API reference

Generated from the OpenAPI 3.1 document that `tradecore web` serves at `/api/openapi.json`
(log in, or send a token, to read it); do not edit by hand. How to authenticate, the scopes,
errors and paging: [the JSON API]({guide}).

"""


def _type(schema: Mapping[str, Any]) -> str:
    if "$ref" in schema:
        name = str(schema["$ref"]).rsplit("/", 1)[-1]
        return f"[{name}](#{name.lower()})"
    for key in ("oneOf", "anyOf"):
        if key in schema:
            return " or ".join(_type(each) for each in schema[key])
    kind = schema.get("type", "object")
    if isinstance(kind, list):
        return " or ".join(str(each) for each in kind)
    if kind == "array":
        return f"array of {_type(schema.get('items', {}))}"
    if "enum" in schema:
        return " \\| ".join(f"`{each}`" for each in schema["enum"])
    return str(kind)


def _cell(text: object) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _operation(path: str, method: str, operation: Mapping[str, Any]) -> list[str]:
    lines = [f"### `{method.upper()} {path}`", ""]
    if operation.get("description"):
        lines += [" ".join(str(operation["description"]).split()), ""]
    parameters = operation.get("parameters", [])
    if parameters:
        lines += ["| parameter | in | type | required |", "|---|---|---|---|"]
        for each in parameters:
            lines.append(
                f"| `{each['name']}` | {each['in']} | {_cell(_type(each.get('schema', {})))} "
                f"| {'yes' if each.get('required') else 'no'} |"
            )
        lines.append("")
    body = operation.get("requestBody", {}).get("content", {})
    for media, content in body.items():
        lines += [f"Body ({media}): {_type(content.get('schema', {}))}", ""]
    answers = []
    for status, response in sorted(operation.get("responses", {}).items()):
        content = response.get("content", {})
        shapes = ", ".join(_type(each.get("schema", {})) for each in content.values())
        answers.append(f"{status}" + (f" {shapes}" if shapes else ""))
    if answers:
        lines += ["Answers: " + "; ".join(answers) + ".", ""]
    return lines


def _schemas(components: Mapping[str, Any]) -> list[str]:
    lines = ["## Schemas", ""]
    for name, schema in sorted(components.get("schemas", {}).items()):
        lines += [f"### {name}", ""]
        properties = schema.get("properties", {})
        if not properties:
            lines += [f"{_type(schema)}", ""]
            continue
        required = set(schema.get("required", []))
        lines += ["| field | type | required |", "|---|---|---|"]
        for field, spec in properties.items():
            lines.append(
                f"| `{field}` | {_cell(_type(spec))} | {'yes' if field in required else 'no'} |"
            )
        lines.append("")
    return lines


def markdown_reference(schema: Mapping[str, Any]) -> str:
    """The Markdown reference of the OpenAPI document ``schema``."""
    lines = [_HEADER.format(guide=_GUIDE).rstrip("\n"), ""]
    for path, item in sorted(schema.get("paths", {}).items()):
        if not (path.startswith("/api/v1/") or path.startswith("/automation/")):
            continue
        for method in _METHODS:
            if method in item:
                lines += _operation(path, method, item[method])
    lines += _schemas(schema.get("components", {}))
    return "\n".join(lines).rstrip("\n") + "\n"
