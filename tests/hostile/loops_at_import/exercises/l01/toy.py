"""Loops forever while being imported: the run is stopped, nothing earned."""
while True:
    pass
