"""``python -m grader`` is the same as ``llmfs``."""
import sys

from .cli import main

sys.exit(main())
