"""The HTTP API and pages: crews, residents and highways teams."""
