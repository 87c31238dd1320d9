"""`swiftpipe ui` as a user starts it: who may listen where, a real server, a restart."""

from __future__ import annotations

import http.client
import json
import socket
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from swiftpipe.engine.manifest import save_manifest
from tests.integration.tiny import swiftpipe
from tests.report.helpers import pipeline, two_variants
from tests.ui.server import ui_server


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    loaded = pipeline(tmp_path)
    save_manifest(two_variants(tmp_path, loaded.workdir), loaded.workdir)
    return loaded.source


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_without_the_ui_extra_it_says_what_to_install(demo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from swiftpipe.commands import ui
    from swiftpipe.core.errors import UserError

    monkeypatch.setitem(sys.modules, "uvicorn", None)  # what `import uvicorn` meets where it is not installed
    with pytest.raises(UserError) as info:
        ui.ui(demo, overrides=[])
    assert str(info.value) == "swiftpipe ui needs uvicorn, which is not installed: pip install 'swiftpipe[ui]'"


def test_another_host_needs_a_token(tmp_path: Path) -> None:
    (tmp_path / "pipeline.yaml").write_text("name: demo\nmodel: m\n")
    result = swiftpipe("ui", "pipeline.yaml", "--host", "0.0.0.0", cwd=tmp_path, timeout=60)
    assert (result.returncode, result.stderr) == (2, (
        "swiftpipe: error: --host 0.0.0.0: other machines could reach the dashboard; add --token-env VAR "
        "naming an environment variable that holds a token, as deploy's api_key_env\n"))


def test_the_token_variable_must_be_set(tmp_path: Path) -> None:
    (tmp_path / "pipeline.yaml").write_text("name: demo\nmodel: m\n")
    result = swiftpipe("ui", "pipeline.yaml", "--token-env", "SWIFTPIPE_TEST_NO_SUCH_TOKEN", cwd=tmp_path,
                       timeout=60)
    assert (result.returncode, result.stderr) == (2, (
        "swiftpipe: error: --token-env SWIFTPIPE_TEST_NO_SUCH_TOKEN: the environment variable is not set or "
        "empty; export SWIFTPIPE_TEST_NO_SUCH_TOKEN=<a long random token> first\n"))


def test_a_busy_port_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "pipeline.yaml").write_text("name: demo\nmodel: m\n")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        result = swiftpipe("ui", "pipeline.yaml", "--port", str(port), cwd=tmp_path, timeout=60)
    assert (result.returncode, result.stderr) == (2, (
        f"swiftpipe: error: --host 127.0.0.1 --port {port}: cannot listen there (Address already in use); "
        "pick another with --port\n"))


def test_with_a_token_a_request_without_it_gets_401(demo: Path) -> None:
    # 127.0.0.2 is loopback to the kernel but not to `swiftpipe ui`, which asks for a token on it.
    with ui_server(demo, "--token-env", "UI_TOKEN", host="127.0.0.2", env={"UI_TOKEN": "t0ken"}) as url:
        assert get(url + "/api/run") == (401, "401: this dashboard needs its token (open the URL swiftpipe ui printed)")
        status, body = get(url + "/api/run", {"Authorization": "Bearer t0ken"})
        assert status == 200 and json.loads(body)["stages"][0]["name"] == "data"


def test_a_path_outside_the_workdir_is_refused(demo: Path) -> None:
    with ui_server(demo) as url:
        host, port = url.removeprefix("http://").split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        conn.request("GET", "/files/../../pipeline.yaml")  # sent as written: no client normalises it
        response = conn.getresponse()
        assert (response.status, response.read().decode()) == (403, "403: ../../pipeline.yaml is outside the workdir")
        conn.close()


def test_a_restarted_ui_shows_the_same_page(demo: Path) -> None:
    with ui_server(demo) as url:
        first = get(url + "/api/run")
    with ui_server(demo) as url:
        assert get(url + "/api/run") == first
        assert first[0] == 200
