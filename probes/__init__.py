"""Built-in probes: one module per source family, each exposing ``PROBE`` (see scanner/probe.py)."""
