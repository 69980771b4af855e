"""Data models shared by every layer: actions, observations, agent steps, scrape results.

They sit at the bottom of the import order, beside ``config`` and ``errors``; the HTTP
shapes in ``lanterna.wire`` are built from them at the server and SDK edges.
"""
