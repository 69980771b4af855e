"""Page → markdown (or its images), for the ``scrape`` action and endpoint."""
