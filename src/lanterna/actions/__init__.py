"""The action vocabulary (``models``) and its execution against a session (``execute``)."""
