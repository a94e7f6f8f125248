"""Grading and reports, for instructors and workshops: intake, grading, report formats, the roster, the learner release, nbgrader."""
