"""The dashboard's routes on a hand-written workdir: what they show, what they refuse."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient
from markupsafe import escape

from swiftpipe.engine.manifest import load_manifest, save_manifest
from swiftpipe.engine.pipeline import LoadedPipeline
from swiftpipe.engine.status import Status
from tests.report.helpers import pipeline

Client = Callable[..., TestClient]


def test_the_run_page_shows_stages_losses_and_scores(client: Client) -> None:
    page = client().get("/")
    assert page.status_code == 200
    assert "<b>sft_a</b>" in page.text and "pill succeeded" in page.text
    assert '<a href="/files/logs/sft_a.log">log</a>' in page.text
    assert "<h2>Evaluation: eval_a (sft_a)</h2>" in page.text and "<h2>Variants</h2>" in page.text
    state = client().get("/api/run").json()
    assert [s["name"] for s in state["stages"]][:4] == ["data", "pt", "pt-merged", "sft_a"]
    assert {f["id"] for f in state["figures"]} == {"loss-sft_a", "loss-sft_b", "scores"}
    loss = next(f for f in state["figures"] if f["id"] == "loss-sft_a")["spec"]
    assert [(t["name"], t["x"], t["y"]) for t in loss["data"]] == [("train loss", [1, 2, 3], [2.0, 1.5, 1.2]),
                                                                  ("eval loss", [1], [1.9])]
    assert "general_mcq" in state["html"]["evals"] and "+0.25" in state["html"]["evals"]
    assert state["logs"] == ["sft_a"] and state["active"] == "sft_a"


def test_the_log_tail_is_text_and_a_stage_without_one_is_404(client: Client) -> None:
    assert client().get("/api/log/sft_a").json() == {"stage": "sft_a",
                                                     "text": "step 1\nstep 2 <script>alert(1)</script>\n"}
    assert client().get("/api/log/sft_b").status_code == 404
    assert client().get("/api/log/nosuch").json() == {"error": "nosuch: no log"}


def test_values_from_the_workdir_are_escaped(demo: LoadedPipeline, client: Client) -> None:
    manifest = load_manifest(demo.workdir)
    assert manifest is not None
    manifest.stages["sft_a"].message = "<img src=x onerror=alert(1)>"
    save_manifest(manifest, demo.workdir)
    page = client().get("/").text
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page


def test_a_workdir_where_nothing_ran_says_how_to_start(tmp_path: Path, client: Client) -> None:
    (tmp_path / "fresh").mkdir()
    empty = pipeline(tmp_path / "fresh")
    expected = f"nothing has run in {empty.workdir} yet; start it with: swiftpipe run pipeline.yaml"
    assert client(loaded=empty).get("/api/run").json() == {"empty": expected}
    assert expected in client(loaded=empty).get("/").text


def test_a_broken_manifest_gives_a_page_that_says_so(demo: LoadedPipeline, client: Client) -> None:
    (demo.workdir / "manifest.json").write_text("{not json")
    page = client().get("/")
    assert page.status_code == 200 and "Traceback" not in page.text
    error = client().get("/api/run").json()["error"]
    assert error.startswith(f"{demo.workdir / 'manifest.json'}: unreadable manifest (")


def test_a_workdir_that_is_a_file_gives_a_page_that_says_so(tmp_path: Path, client: Client) -> None:
    (tmp_path / "p").mkdir()
    loaded = pipeline(tmp_path / "p")
    loaded.workdir.parent.mkdir(parents=True, exist_ok=True)
    loaded.workdir.write_text("oops")
    expected = f"{loaded.workdir}: not a folder; the pipeline's workdir must be one"
    assert client(loaded=loaded).get("/api/run").json() == {"error": expected}
    assert str(escape(expected)) in client(loaded=loaded).get("/experiments").text


def test_files_are_served_from_the_workdir_only(demo: LoadedPipeline, client: Client, tmp_path: Path) -> None:
    c = client()
    ok = c.get("/files/logs/sft_a.log")
    assert ok.status_code == 200 and ok.headers["content-type"] == "text/plain; charset=utf-8"
    assert ok.headers["content-security-policy"] == "sandbox"
    (tmp_path / "secret.txt").write_text("secret")
    os.symlink(tmp_path / "secret.txt", demo.workdir / "link.txt")
    for path in ("/files/%2e%2e/%2e%2e/secret.txt", "/files/..%2f..%2fsecret.txt", "/files/link.txt",
                 f"/files/{tmp_path}/secret.txt".replace("//", "/%2f")):
        refused = c.get(path)
        assert refused.status_code == 403, path
        assert "secret" not in refused.text.replace("secret.txt", "")
    assert c.get("/files/logs/absent.log").status_code == 404


def test_a_token_is_required_when_set(client: Client) -> None:
    guarded = client(token="s3cret")
    for path in ("/", "/api/run", "/files/logs/sft_a.log", "/static/ui.js"):
        response = guarded.get(path)
        assert (response.status_code, response.text) == (
            401, "401: this dashboard needs its token (open the URL swiftpipe ui printed)"), path
    assert guarded.get("/api/run", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert guarded.get("/api/run", headers={"Authorization": "Bearer s3cret"}).status_code == 200
    first = guarded.get("/?token=s3cret")
    assert first.status_code == 200 and "swiftpipe_ui_token=s3cret" in first.headers["set-cookie"]
    assert guarded.get("/api/run").status_code == 200  # the cookie the first visit set


def test_the_experiments_table_and_a_comparison(demo: LoadedPipeline, client: Client) -> None:
    c = client()
    table = c.get("/api/experiments").json()["table"]
    assert table["params"] == ["stages.sft.args.learning_rate"]
    assert table["metrics"] == ["sft.steps", "sft.train_loss", "eval.general_mcq"]
    assert [(r["name"], r["params"], r["metrics"]["eval.general_mcq"]) for r in table["rows"]] == [
        ("low", {"stages.sft.args.learning_rate": 1e-4}, 0.5), ("high", {"stages.sft.args.learning_rate": 2e-4}, 0.75)]
    page = c.get("/experiments").text
    assert page.count('class="pick"') == 2 and "stages.sft.args.learning_rate" in page
    both = c.get("/api/compare?id=exp-20261205-100000-aa01&id=exp-20261205-100000-aa02").json()
    assert "<td class=\"changed\">1e-4</td><td class=\"changed\">2e-4</td>" in both["html"]
    assert "0.75 <span class=\"msg\">(+0.25)</span>" in both["html"]
    figures = {f["id"]: f["spec"] for f in both["figures"]}
    assert list(figures) == ["loss-0", "metric", "param-0"]
    assert [t["name"] for t in figures["loss-0"]["data"]] == ["low train", "low eval", "high train", "high eval"]
    assert figures["metric"]["data"][0]["x"] == ["low", "high"] and figures["metric"]["data"][0]["y"] == [0.5, 0.75]
    assert figures["param-0"]["data"][0]["x"] == [1e-4, 2e-4]


def test_a_comparison_needs_two_known_experiments(client: Client) -> None:
    c = client()
    one = c.get("/api/compare?id=exp-20261205-100000-aa01")
    assert (one.status_code, one.json()) == (400, {"error": "pick two or more experiments to compare"})
    bad = c.get("/api/compare?id=exp-20261205-100000-aa01&id=nope")
    assert (bad.status_code, bad.json()) == (400, {"error": "nope: no such experiment"})


def test_an_unreadable_experiment_record_is_named(demo: LoadedPipeline, client: Client) -> None:
    bad = demo.workdir / "experiments" / "exp-20261205-100000-zz99.json"
    bad.write_text("[]")
    error = client().get("/api/experiments").json()["error"]
    assert error.startswith(f"{bad} › ") and error.endswith("; move the file aside")


def test_plotly_is_served_locally(client: Client) -> None:
    js = client().get("/static/plotly.js")
    assert js.status_code == 200 and "plotly.js" in js.text[:2000] and "Plotly" in js.text
    assert 'src="/static/plotly.js"' in client().get("/").text


def test_a_running_stage_is_shown_running(demo: LoadedPipeline, client: Client) -> None:
    manifest = load_manifest(demo.workdir)
    assert manifest is not None
    manifest.stages["sft_b"].status = Status.RUNNING
    manifest.stages["sft_b"].log = str(demo.workdir / "logs" / "sft_b.log")
    save_manifest(manifest, demo.workdir)
    state = client().get("/api/run").json()
    assert next(s for s in state["stages"] if s["name"] == "sft_b")["status"] == "running"
    assert state["active"] == "sft_b"


def test_every_output_path_in_the_workdir_is_linked(demo: LoadedPipeline, client: Client) -> None:
    run_dir = demo.workdir / "sft_a" / "v0"
    (run_dir / "checkpoint-3").mkdir(parents=True)
    (run_dir / "<b>odd name").write_text("x")
    manifest = load_manifest(demo.workdir)
    assert manifest is not None
    manifest.stages["sft_a"].outputs["run_dir"] = str(run_dir)
    save_manifest(manifest, demo.workdir)
    c = client()
    assert '<li><a href="/files/sft_a/v0">sft_a: run_dir</a></li>' in c.get("/api/run").json()["html"]["files"]
    listing = c.get("/files/sft_a/v0")
    assert listing.status_code == 200 and listing.headers["content-security-policy"] == "sandbox"
    assert ('<li><a href="/files/sft_a/v0/checkpoint-3/">checkpoint-3/</a></li>'
            '<li><a href="/files/sft_a/v0/%3Cb%3Eodd%20name">&lt;b&gt;odd name</a></li>') in listing.text


def test_the_data_accounting_links_the_rejected_rows(demo: LoadedPipeline, client: Client) -> None:
    folder = demo.workdir / "data"
    folder.mkdir()
    (folder / "report.json").write_text('{"rows_in": 10, "train": 7, "val": 1, "rejected": 2, '
                                        '"rejects_by_reason": {"too_long": 2}, "invariant_ok": true}')
    (folder / "rejects.jsonl").write_text('{"reason": "too_long"}\n')
    manifest = load_manifest(demo.workdir)
    assert manifest is not None
    manifest.stages["data"].outputs = {"train": str(folder / "train.jsonl"), "report": str(folder / "report.json"),
                                       "rejects": str(folder / "rejects.jsonl")}
    save_manifest(manifest, demo.workdir)
    html = client().get("/api/run").json()["html"]
    assert html["data"].startswith("<section><h2>Data</h2><p>10 rows in")
    assert '<li><a href="/files/data/rejects.jsonl">rejected rows</a></li>' in html["files"]
    assert client().get("/files/data/rejects.jsonl").text == '{"reason": "too_long"}\n'
