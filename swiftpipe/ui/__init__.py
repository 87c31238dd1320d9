"""`swiftpipe ui`: a read-only dashboard of one workdir, served by FastAPI and drawn with plotly.js.

Stateless: every request reads the workdir's files again (manifest, records, experiments, logs,
logging.jsonl, eval reports), so refreshing the page or restarting the server loses nothing.
state.py turns the files into what the page shows (through the report's collect, render and
figures); files.py serves the workdir's files without letting a path escape it; app.py holds the
routes and the token check; templates/ and static/ hold the pages and their one script.
"""
