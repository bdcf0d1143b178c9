"""Differentiable operations: one autograd Function per op."""
