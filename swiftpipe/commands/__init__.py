"""One module per command; each exports `<name>(...) -> int`."""
