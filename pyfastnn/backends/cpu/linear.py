"""(placeholder: linear kernels, filled in by the linear work)"""

__all__ = []
