"""paperscope: a research radar for arXiv."""

__version__ = "0.1.0"
