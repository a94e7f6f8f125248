"""The course machinery: lessons, overlays, the spec runner, progress, grading."""
