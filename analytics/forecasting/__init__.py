"""Footfall: how busy a zone is now compared with usual, and how busy it will be."""
