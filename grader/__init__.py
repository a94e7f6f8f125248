"""The course machinery: lessons, overlays, the spec runner, progress, grading."""
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("llm-from-scratch")
except PackageNotFoundError:  # running from a copy that was not installed
    __version__ = "0.0.0"
