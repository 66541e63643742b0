"""Looking at data: quick text summaries and saved figures."""
