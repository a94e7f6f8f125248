"""Calls os._exit(0) while being imported: nothing earned."""
import os

os._exit(0)
