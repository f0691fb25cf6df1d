"""mlscan: an evidence-collecting MLOps maturity scanner.

Kept import-light on purpose: ``mlscan --version`` must not pay for pydantic, git or rich.
"""

__version__ = "0.1.0"
