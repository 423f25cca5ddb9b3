"""One module per kind of observation; harness/instrument.py composes them."""
