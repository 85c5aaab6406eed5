"""Outside systems other than the database (S3, LLM providers, ...), built in
`bootstrap.py`."""
