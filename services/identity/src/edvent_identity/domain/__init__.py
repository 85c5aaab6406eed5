"""identity's rules: plain Python, no FastAPI, no SQL."""
