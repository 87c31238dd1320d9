"""Files swiftpipe hands to ms-swift as `--external_plugins`.

swift imports such a file by path in the stage's Python (which may lack swiftpipe), so they
import nothing of swiftpipe; a stage passes a copy under its own folder, in a folder of its own
(swift puts a plugin's folder first on `sys.path`).
"""
