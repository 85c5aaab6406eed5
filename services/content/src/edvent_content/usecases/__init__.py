"""One module per capability. Functions take the session their caller owns (the
request's unit of work or the consumer's inbox transaction) and never commit."""
