"""Top layer: the Invoke task modules; each exports `ns`, composed in tasks.py. Tasks stay thin."""
