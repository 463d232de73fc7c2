"""Kernels every layer may use: CLI plumbing, logging and parameter checks."""
