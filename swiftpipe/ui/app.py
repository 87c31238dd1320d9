"""The dashboard's routes: two pages, their JSON, the workdir's files, and the token check."""

from __future__ import annotations

import hmac
import mimetypes
from collections.abc import Awaitable, Callable
from functools import lru_cache
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request, Response
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, PlainTextResponse
from jinja2 import Environment, PackageLoader, select_autoescape

from swiftpipe.core.errors import UserError
from swiftpipe.engine.pipeline import LoadedPipeline
from swiftpipe.report.exptable import cell, exp_table
from swiftpipe.report.render import CSS
from swiftpipe.ui.exps import compare, read_experiments, table_json
from swiftpipe.ui.files import OutsideWorkdir, inside
from swiftpipe.ui.state import log_tail, run_state

COOKIE = "swiftpipe_ui_token"
STATIC = Path(__file__).parent / "static"
# Files from the workdir may hold model output: a sandboxed document runs no script of ours' origin.
FILE_HEADERS = {"Content-Security-Policy": "sandbox", "X-Content-Type-Options": "nosniff"}


@lru_cache(maxsize=1)
def _templates() -> Environment:
    env = Environment(loader=PackageLoader("swiftpipe.ui", "templates"), autoescape=select_autoescape(default=True))
    env.filters["cell"] = cell
    return env


@lru_cache(maxsize=1)
def _plotly_js() -> bytes:
    from plotly.offline import get_plotlyjs  # type: ignore[import-untyped]

    return str(get_plotlyjs()).encode()


def _page(name: str, **values: Any) -> HTMLResponse:
    return HTMLResponse(_templates().get_template(name).render(css=CSS, **values))


def _guarded(read: Callable[[], dict[str, Any]], workdir: Path) -> dict[str, Any]:
    """`read()`, or {"error": one line} when the workdir cannot be read: the page says so, never a traceback."""
    try:
        return read()
    except UserError as exc:
        return {"error": str(exc)}
    except Exception as exc:  # a half-written or foreign file must not take the page down
        return {"error": f"{workdir}: could not be read ({type(exc).__name__}: {exc})"}


def make_app(loaded: LoadedPipeline, *, token: str | None, command: str) -> FastAPI:
    """The dashboard of `loaded`'s workdir; with `token`, every request must carry it."""
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    workdir, title = loaded.workdir, loaded.config.name
    if token:
        _require_token(app, token)

    @app.get("/", response_class=HTMLResponse)
    def run_page() -> HTMLResponse:
        state = _guarded(lambda: run_state(loaded, command), workdir)
        return _page("run.html", title=title, workdir=str(workdir), state=state, view="run")

    @app.get("/experiments", response_class=HTMLResponse)
    def experiments_page() -> HTMLResponse:
        state = _guarded(lambda: {"table": table_json_of(workdir)}, workdir)
        return _page("experiments.html", title=title, workdir=str(workdir), state=state, view="experiments")

    @app.get("/api/run")
    def api_run() -> dict[str, Any]:
        return _guarded(lambda: run_state(loaded, command), workdir)

    @app.get("/api/log/{stage}")
    def api_log(stage: str) -> Response:
        text = log_tail(workdir, stage)
        if text is None:
            return JSONResponse({"error": f"{stage}: no log"}, status_code=404)
        return JSONResponse({"stage": stage, "text": text})

    @app.get("/api/experiments")
    def api_experiments() -> dict[str, Any]:
        return _guarded(lambda: {"table": table_json_of(workdir)}, workdir)

    @app.get("/api/compare")
    def api_compare(request: Request) -> Response:
        ids = request.query_params.getlist("id")
        if len(ids) < 2:
            return JSONResponse({"error": "pick two or more experiments to compare"}, status_code=400)
        try:
            result = compare(read_experiments(workdir), ids)
        except UserError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        html = _templates().get_template("compare.html").render(**result)
        return JSONResponse({"html": html, "figures": result["figures"]})

    @app.get("/files/{path:path}")
    def files(path: str) -> Response:
        return _file(workdir, path)

    @app.get("/static/plotly.js")
    def plotly_js() -> Response:
        return Response(_plotly_js(), media_type="text/javascript", headers={"Cache-Control": "max-age=3600"})

    @app.get("/static/ui.js")
    def ui_js() -> Response:
        return FileResponse(STATIC / "ui.js", media_type="text/javascript")

    return app


def table_json_of(workdir: Path) -> dict[str, Any]:
    return table_json(exp_table(read_experiments(workdir)))


def _file(workdir: Path, path: str) -> Response:
    try:
        target = inside(workdir, path)
    except OutsideWorkdir:
        return PlainTextResponse(f"403: {path} is outside the workdir", status_code=403)
    if target.is_dir():
        return HTMLResponse(_listing(workdir, target), headers=FILE_HEADERS)
    if not target.is_file():
        return PlainTextResponse(f"404: {path} is not a file in the workdir", status_code=404)
    kind = mimetypes.guess_type(target.name)[0]
    textual = kind is None or kind.startswith("text/") or target.suffix in (".log", ".jsonl", ".json", ".md")
    media = "text/plain; charset=utf-8" if textual and kind != "text/html" else (kind or "application/octet-stream")
    return FileResponse(target, media_type=media, headers=FILE_HEADERS)


def _listing(workdir: Path, folder: Path) -> str:
    """A folder of the workdir as a list of links (names escaped; the page runs no script)."""
    rel = folder.relative_to(workdir.resolve()).as_posix()
    base = "/files/" + ("" if rel == "." else rel + "/")
    entries = sorted(folder.iterdir(), key=lambda p: (not p.is_dir(), p.name))
    items = "".join(f'<li><a href="{escape(base + quote(p.name))}{"/" if p.is_dir() else ""}">'
                    f'{escape(p.name)}{"/" if p.is_dir() else ""}</a></li>' for p in entries)
    return f"<!doctype html><meta charset=utf-8><title>{escape(rel)}</title><h3>{escape(rel)}</h3><ul>{items}</ul>"


def _require_token(app: FastAPI, token: str) -> None:
    """Requests carry the token as `Authorization: Bearer`, a cookie, or once as `?token=` (which sets
    the cookie, so the page's own requests carry it); others get 401."""

    @app.middleware("http")
    async def check(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        given = request.query_params.get("token")
        header = request.headers.get("authorization", "")
        for candidate in (given, header.removeprefix("Bearer ") if header.startswith("Bearer ") else None,
                          request.cookies.get(COOKIE)):
            if candidate and hmac.compare_digest(candidate.encode(), token.encode()):
                response = await call_next(request)
                if given:
                    response.set_cookie(COOKIE, token, httponly=True, samesite="strict")
                return response
        return PlainTextResponse("401: this dashboard needs its token (open the URL swiftpipe ui printed)",
                                 status_code=401, headers={"WWW-Authenticate": "Bearer"})
