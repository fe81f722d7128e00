"""docs/api.md is generated from the OpenAPI document the server serves, and kept up to date."""

from __future__ import annotations

import os
from pathlib import Path

from tests.web.support import log_in

from tradecore_web.api_reference import markdown_reference

API_DOC = Path(__file__).parents[2] / "docs" / "api.md"


async def test_docs_api_md_is_the_reference_of_the_served_openapi_document(client) -> None:
    await log_in(client, "alice")
    answer = await client.get("/api/openapi.json")
    assert answer.status_code == 200
    document = answer.json()
    assert document["openapi"].startswith("3.1")

    generated = markdown_reference(document)

    if os.environ.get("TRADECORE_WRITE_API_DOCS"):
        API_DOC.write_text(generated, encoding="utf-8")
    assert API_DOC.read_text(encoding="utf-8") == generated, (
        "docs/api.md is out of date: TRADECORE_WRITE_API_DOCS=1 pytest "
        "tests/web/test_api_reference.py"
    )
    for path in document["paths"]:
        if path.startswith("/api/v1/"):
            assert f" {path}`" in generated, path
