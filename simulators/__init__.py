"""Simulated bins, people counters and phones that publish through the device contract."""
