"""Dashboard pages, one file per page, routed by ``app.py``; ``_shared`` holds what they share."""
