"""Getting data in: reading, writing and generating raw tables."""
