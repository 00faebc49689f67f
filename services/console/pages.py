"""The console's own pages: the workspace shell for every workspace URL, its ES modules,
and the Content-Security-Policy each page is served with.
"""

import base64
import hashlib
import re
from functools import cache
from pathlib import Path

from fastapi import APIRouter, Response
from fastapi.responses import FileResponse, HTMLResponse

from shared.errors import NotFound

STATIC = Path(__file__).parent / "static"
APP_DIR = STATIC / "app"
ASSET = re.compile(r"^[a-z][a-z0-9-]{0,40}\.(js|css|svg)$")
ASSET_TYPES = {"js": "text/javascript", "css": "text/css", "svg": "image/svg+xml"}
# The workspace URLs the shell serves; its script shows the view the URL names.
SHELL_PATHS = ("/", "/cases/{case_id}", "/supervisor", "/admin", "/admin/{section}")

router = APIRouter(include_in_schema=False)


def page_csp(page: str) -> str:
    """Return the page's Content-Security-Policy: its own inline script and style only, by hash."""

    def hashes(tag: str) -> str:
        blocks = re.findall(rf"<{tag}>(.*?)</{tag}>", page, flags=re.DOTALL)
        return " ".join(
            f"'sha256-{base64.b64encode(hashlib.sha256(b.encode()).digest()).decode()}'"
            for b in blocks
        )

    return (
        f"default-src 'self'; script-src 'self' {hashes('script')}; "
        f"style-src 'self' {hashes('style')}; img-src 'self' data:; connect-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    )


@cache
def _shell() -> tuple[str, dict[str, str]]:
    shell = (STATIC / "shell.html").read_text(encoding="utf-8")
    return shell, {"Content-Security-Policy": page_csp(shell), "Cache-Control": "no-store"}


async def shell_page() -> Response:
    """Serve the workspace's one page, whichever workspace URL was asked for."""
    shell, headers = _shell()
    return HTMLResponse(shell, headers=headers)


for _path in SHELL_PATHS:
    router.add_api_route(_path, shell_page, methods=["GET"])


@router.get("/app/{name}")
async def asset(name: str) -> Response:
    """Serve one of the page's ES modules, styles or images."""
    if not ASSET.fullmatch(name) or not (APP_DIR / name).is_file():
        raise NotFound(f"no file {name[:60]!r}")
    return FileResponse(
        APP_DIR / name,
        media_type=ASSET_TYPES[name.rsplit(".", 1)[1]],
        headers={"Cache-Control": "no-cache"},
    )
