"""Chromium processes, the warm pool, and one isolated browser per session."""

from lanterna.browser.chromium import find_chromium
from lanterna.browser.pool import BrowserPool
from lanterna.browser.session import BrowserSession, SessionOptions

__all__ = ["BrowserPool", "BrowserSession", "SessionOptions", "find_chromium"]
