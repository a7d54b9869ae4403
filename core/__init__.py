"""NumPy engine of backprop-tui: scenarios, the step-by-step training loop and its reports.

Nothing in this package imports Textual, so the headless mode starts fast.
"""

__version__ = "0.1.0"
